// snn_op_mulc: multiply by a constant, y = rshift(COEF * x, SHIFT) = (COEF * x + 2^(SHIFT-1))
// >>> SHIFT (round half up; SHIFT = 0: the exact product). With SHIFT = 16 this is the integer
// semantics' cmul(c16, x) (docs/semantics.md section 4): `constant * variable`. COEF is a signed
// constant of C_W bits (C_W <= 64, the generator gives the smallest). Combinational; OUT_W must
// hold the result. The product and its rounding are snn_op_mul's, with one operand a constant.
`default_nettype none

module snn_op_mulc #(
    parameter integer        IN_W  = 16,
    parameter integer        OUT_W = 17,
    parameter integer        C_W   = 18,
    parameter signed [63:0]  COEF  = 64'sd65536,
    parameter integer        SHIFT = 16
) (
    input  wire signed [IN_W-1:0]  x,
    output wire signed [OUT_W-1:0] y
);
    /* verilator lint_off UNUSEDSIGNAL */
    localparam [63:0] CBITS = COEF;
    /* verilator lint_on UNUSEDSIGNAL */
    wire signed [C_W-1:0] c = CBITS[C_W-1:0];
    snn_op_mul #(.A_W(IN_W), .B_W(C_W), .OUT_W(OUT_W), .SHIFT(SHIFT)) u_mul (.a(x), .b(c), .y(y));
endmodule

`default_nettype wire
