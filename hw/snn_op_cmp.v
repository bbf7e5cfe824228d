// snn_op_cmp: y = (a OP b) as 0/1, signed. OP: 0 <, 1 <=, 2 >, 3 >=, 4 ==, 5 !=.
// Combinational.
`default_nettype none
// Signed operands narrower than their destination are sign-extended by Verilog's rules on
// purpose (every operand is declared signed); truncations are written as explicit slices.
/* verilator lint_off WIDTHEXPAND */

module snn_op_cmp #(
    parameter integer A_W = 16,
    parameter integer B_W = 16,
    parameter integer OP  = 2
) (
    input  wire signed [A_W-1:0] a,
    input  wire signed [B_W-1:0] b,
    output wire                  y
);
    localparam integer EW = (A_W > B_W) ? A_W : B_W;
    wire signed [EW-1:0] ae = a;
    wire signed [EW-1:0] be = b;
    assign y = (OP == 0) ? (ae <  be) :
               (OP == 1) ? (ae <= be) :
               (OP == 2) ? (ae >  be) :
               (OP == 3) ? (ae >= be) :
               (OP == 4) ? (ae == be) : (ae != be);
endmodule

/* verilator lint_on WIDTHEXPAND */
`default_nettype wire
