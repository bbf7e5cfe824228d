// snn_op_minmax: y = min(a, b) (MAX = 0) or max(a, b) (MAX = 1), exact. Combinational.
// (`clip(x, lo, hi)` is min(max(x, lo), hi).) OUT_W must hold the result.
`default_nettype none
// Signed operands narrower than their destination are sign-extended by Verilog's rules on
// purpose (every operand is declared signed); truncations are written as explicit slices.
/* verilator lint_off WIDTHEXPAND */

module snn_op_minmax #(
    parameter integer A_W   = 16,
    parameter integer B_W   = 16,
    parameter integer OUT_W = 16,
    parameter integer MAX   = 0
) (
    input  wire signed [A_W-1:0]   a,
    input  wire signed [B_W-1:0]   b,
    output wire signed [OUT_W-1:0] y
);
    localparam integer MW = (A_W > B_W) ? A_W : B_W;
    localparam integer EW = (MW > OUT_W) ? MW : OUT_W;
    wire signed [EW-1:0] ae = a;
    wire signed [EW-1:0] be = b;
    wire a_lt_b = (ae < be);
    /* verilator lint_off UNUSEDSIGNAL */
    wire signed [EW-1:0] r = ((MAX != 0) ? !a_lt_b : a_lt_b) ? ae : be;
    /* verilator lint_on UNUSEDSIGNAL */
    assign y = r[OUT_W-1:0];
endmodule

/* verilator lint_on WIDTHEXPAND */
`default_nettype wire
