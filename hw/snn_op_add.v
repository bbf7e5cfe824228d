// snn_op_add: y = a + b, exact (a user-defined neuron's datapath, docs/semantics.md section 4,
// "User-defined neurons in integers"). Combinational. OUT_W must hold the result (the generator
// sizes it from the operands' ranges); a wider OUT_W sign-extends.
`default_nettype none
// Signed operands narrower than their destination are sign-extended by Verilog's rules on
// purpose (every operand is declared signed); truncations are written as explicit slices.
/* verilator lint_off WIDTHEXPAND */

module snn_op_add #(
    parameter integer A_W   = 16,
    parameter integer B_W   = 16,
    parameter integer OUT_W = 17
) (
    input  wire signed [A_W-1:0]   a,
    input  wire signed [B_W-1:0]   b,
    output wire signed [OUT_W-1:0] y
);
    localparam integer MW = (A_W > B_W) ? A_W : B_W;
    localparam integer EW = ((MW > OUT_W) ? MW : OUT_W) + 1;
    wire signed [EW-1:0] ae = a;
    wire signed [EW-1:0] be = b;
    /* verilator lint_off UNUSEDSIGNAL */
    wire signed [EW-1:0] s  = ae + be;
    /* verilator lint_on UNUSEDSIGNAL */
    assign y = s[OUT_W-1:0];
endmodule

/* verilator lint_on WIDTHEXPAND */
`default_nettype wire
