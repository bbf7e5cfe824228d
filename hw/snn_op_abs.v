// snn_op_abs: y = |x|, exact (OUT_W >= IN_W + 1 holds |min|). Combinational.
`default_nettype none
// Signed operands narrower than their destination are sign-extended by Verilog's rules on
// purpose (every operand is declared signed); truncations are written as explicit slices.
/* verilator lint_off WIDTHEXPAND */

module snn_op_abs #(
    parameter integer IN_W  = 16,
    parameter integer OUT_W = 17
) (
    input  wire signed [IN_W-1:0]  x,
    output wire signed [OUT_W-1:0] y
);
    localparam integer EW = ((IN_W > OUT_W) ? IN_W : OUT_W) + 1;
    wire signed [EW-1:0] xe = x;
    /* verilator lint_off UNUSEDSIGNAL */
    wire signed [EW-1:0] r  = xe[EW-1] ? -xe : xe;
    /* verilator lint_on UNUSEDSIGNAL */
    assign y = r[OUT_W-1:0];
endmodule

/* verilator lint_on WIDTHEXPAND */
`default_nettype wire
