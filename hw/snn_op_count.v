// snn_op_count: y = the number of ones in din (a user neuron's clamps of one state in one step,
// several assignments may clamp it). Combinational.
`default_nettype none
// Signed operands narrower than their destination are sign-extended by Verilog's rules on
// purpose (every operand is declared signed); truncations are written as explicit slices.
/* verilator lint_off WIDTHEXPAND */

module snn_op_count #(
    parameter integer N     = 2,
    parameter integer OUT_W = 2
) (
    input  wire [N-1:0]     din,
    output reg  [OUT_W-1:0] y
);
    integer i;
    always @* begin
        y = {OUT_W{1'b0}};
        for (i = 0; i < N; i = i + 1)
            y = y + din[i];                 // zero-extends (unsigned)
    end
endmodule

/* verilator lint_on WIDTHEXPAND */
`default_nettype wire
