// snn_rescale: move a signed fixed-point value by SHIFT fractional bits (docs/semantics.md
// section 4, "rescale"): SHIFT > 0 is an exact left shift, SHIFT < 0 the rounding right shift
// rshift(x, s) = (x + 2^(s-1)) >>> s with s = -SHIFT (round half up; >>> floors).
// OUT_W must hold the result: IN_W + SHIFT for SHIFT >= 0, IN_W - s + 1 for SHIFT < 0
// (the +1 is for rounding up the largest value); a larger OUT_W sign-extends.
`default_nettype none
// Signed operands narrower than their destination are sign-extended by Verilog's rules on
// purpose (every operand is declared signed); truncations are written as explicit slices.
/* verilator lint_off WIDTHEXPAND */

module snn_rescale #(
    parameter integer IN_W  = 16,
    parameter integer OUT_W = 17,
    parameter integer SHIFT = 0
) (
    input  wire signed [IN_W-1:0]  din,
    output wire signed [OUT_W-1:0] dout
);
    generate
        if (SHIFT > 0) begin : g_left
            wire signed [OUT_W-1:0] ext = din;
            assign dout = ext <<< SHIFT;
        end else if (SHIFT == 0) begin : g_same
            assign dout = din;
        end else begin : g_right
            localparam integer S  = -SHIFT;
            // wide enough for x + 2^(s-1) without overflow, and for the constant itself
            localparam integer EW = ((IN_W > S) ? IN_W : S) + 1;
            localparam [EW-1:0] HALF = {{(EW - 1){1'b0}}, 1'b1} << (S - 1);
            wire signed [EW-1:0] ext = din;
            wire signed [EW-1:0] sum = ext + $signed(HALF);
            wire signed [EW-1:0] q   = sum >>> S;
            // q fits in EW - S bits (sign included); keep what the output asks for
            /* verilator lint_off WIDTHTRUNC */
            /* verilator lint_off UNUSEDSIGNAL */
            wire signed [EW-1:0] q_keep = q;
            /* verilator lint_on UNUSEDSIGNAL */
            assign dout = q_keep;           // truncates only sign copies when OUT_W >= EW - S
            /* verilator lint_on WIDTHTRUNC */
        end
    endgenerate
endmodule

/* verilator lint_on WIDTHEXPAND */
`default_nettype wire
