// snn_op_mulc: multiply by a constant, y = rshift(COEF * x, SHIFT) = (COEF * x + 2^(SHIFT-1))
// >>> SHIFT (round half up; SHIFT = 0: the exact product). With SHIFT = 16 this is the integer
// semantics' cmul(c16, x) (docs/semantics.md section 4): `constant * variable`. COEF is a signed
// constant of C_W bits (C_W <= 64, the generator gives the smallest). Combinational; OUT_W must
// hold the result.
`default_nettype none
// Signed operands narrower than their destination are sign-extended by Verilog's rules on
// purpose (every operand is declared signed); truncations are written as explicit slices.
/* verilator lint_off WIDTHEXPAND */

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
    localparam integer PW = IN_W + C_W;                  // |COEF * x| < 2^(PW-1)
    localparam integer EW = (((PW > SHIFT) ? PW : SHIFT) > OUT_W + SHIFT ?
                             ((PW > SHIFT) ? PW : SHIFT) : OUT_W + SHIFT) + 1;
    /* verilator lint_off UNUSEDSIGNAL */
    localparam [63:0] CBITS = COEF;
    /* verilator lint_on UNUSEDSIGNAL */
    localparam signed [C_W-1:0] C = CBITS[C_W-1:0];
    wire signed [EW-1:0] xe = x;
    wire signed [EW-1:0] ce = C;
    wire signed [EW-1:0] pr = xe * ce;                   // exact: fits PW bits
    /* verilator lint_off UNUSEDSIGNAL */
    wire signed [EW-1:0] q;
    /* verilator lint_on UNUSEDSIGNAL */
    generate
        if (SHIFT > 0) begin : g_round
            localparam [EW-1:0] HALF = {{(EW - 1){1'b0}}, 1'b1} << (SHIFT - 1);
            wire signed [EW-1:0] sum = pr + $signed(HALF);
            assign q = sum >>> SHIFT;
        end else begin : g_exact
            assign q = pr;
        end
    endgenerate
    assign y = q[OUT_W-1:0];
endmodule

/* verilator lint_on WIDTHEXPAND */
`default_nettype wire
