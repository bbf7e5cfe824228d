// snn_op_mul: product of two variables, y = rshift(a * b, SHIFT) = (a * b + 2^(SHIFT-1)) >>> SHIFT
// (round half up; SHIFT = 0: the exact product). With SHIFT = Fm this is the integer semantics'
// `variable * variable` (docs/semantics.md section 4). Combinational; OUT_W must hold the result.
`default_nettype none
// Signed operands narrower than their destination are sign-extended by Verilog's rules on
// purpose (every operand is declared signed); truncations are written as explicit slices.
/* verilator lint_off WIDTHEXPAND */

module snn_op_mul #(
    parameter integer A_W   = 16,
    parameter integer B_W   = 16,
    parameter integer OUT_W = 24,
    parameter integer SHIFT = 8
) (
    input  wire signed [A_W-1:0]   a,
    input  wire signed [B_W-1:0]   b,
    output wire signed [OUT_W-1:0] y
);
    localparam integer PW = A_W + B_W;
    localparam integer EW = (((PW > SHIFT) ? PW : SHIFT) > OUT_W + SHIFT ?
                             ((PW > SHIFT) ? PW : SHIFT) : OUT_W + SHIFT) + 1;
    wire signed [EW-1:0] ae = a;
    wire signed [EW-1:0] be = b;
    wire signed [EW-1:0] pr = ae * be;                   // exact: fits PW bits
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
