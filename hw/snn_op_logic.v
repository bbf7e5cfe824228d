// snn_op_logic: 0/1 logic, OP: 0 y = a and b, 1 y = a or b, 2 y = not a (b ignored).
// Combinational.
`default_nettype none
// Signed operands narrower than their destination are sign-extended by Verilog's rules on
// purpose (every operand is declared signed); truncations are written as explicit slices.
/* verilator lint_off WIDTHEXPAND */

module snn_op_logic #(
    parameter integer OP = 0
) (
    input  wire a,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire b,
    /* verilator lint_on UNUSEDSIGNAL */
    output wire y
);
    assign y = (OP == 0) ? (a & b) : (OP == 1) ? (a | b) : !a;
endmodule

/* verilator lint_on WIDTHEXPAND */
`default_nettype wire
