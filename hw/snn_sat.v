// snn_sat: clamp a signed value to a narrower two's-complement width (docs/semantics.md
// section 4, "Saturation"). `sat` is high when the value was clamped (at either end), so the
// caller can count saturation events. With OUT_W >= IN_W it only sign-extends (sat = 0).
`default_nettype none
// Signed operands narrower than their destination are sign-extended by Verilog's rules on
// purpose (every operand is declared signed); truncations are written as explicit slices.
/* verilator lint_off WIDTHEXPAND */

module snn_sat #(
    parameter integer IN_W  = 18,
    parameter integer OUT_W = 16
) (
    input  wire signed [IN_W-1:0]  din,
    output wire signed [OUT_W-1:0] dout,
    output wire                    sat
);
    generate
        if (IN_W > OUT_W) begin : g_clamp
            // in range iff the bits above the output's sign bit all equal that sign bit
            wire [IN_W-OUT_W:0] top = din[IN_W-1:OUT_W-1];
            wire                ovf = !((&top) || !(|top));
            wire signed [OUT_W-1:0] lim = din[IN_W-1] ? {1'b1, {(OUT_W - 1){1'b0}}}
                                                      : {1'b0, {(OUT_W - 1){1'b1}}};
            assign dout = ovf ? lim : din[OUT_W-1:0];
            assign sat  = ovf;
        end else begin : g_extend
            assign dout = din;          // signed: sign-extends
            assign sat  = 1'b0;
        end
    endgenerate
endmodule

/* verilator lint_on WIDTHEXPAND */
`default_nettype wire
