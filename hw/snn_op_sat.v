// snn_op_sat: clamp a signed value to the signed OUT_W-bit range (NONNEG = 0, as snn_sat) or to
// 0 .. 2^(OUT_W-1) - 1 (NONNEG = 1: a graded user neuron's event height, sat_H of
// docs/semantics.md section 4); `sat` is high when the value was clamped. Combinational.
`default_nettype none
// Signed operands narrower than their destination are sign-extended by Verilog's rules on
// purpose (every operand is declared signed); truncations are written as explicit slices.
/* verilator lint_off WIDTHEXPAND */

module snn_op_sat #(
    parameter integer IN_W   = 18,
    parameter integer OUT_W  = 16,
    parameter integer NONNEG = 1
) (
    input  wire signed [IN_W-1:0]  din,
    output wire signed [OUT_W-1:0] dout,
    output wire                    sat
);
    localparam integer EW = ((IN_W > OUT_W) ? IN_W : OUT_W) + 1;
    wire signed [EW-1:0] de = din;
    // in range iff the bits above the output's sign bit all equal that sign bit
    wire [EW-OUT_W:0] top = de[EW-1:OUT_W-1];
    wire ovf = !((&top) || !(|top));
    wire neg = de[EW-1];
    wire signed [OUT_W-1:0] lim = neg ? {1'b1, {(OUT_W - 1){1'b0}}} : {1'b0, {(OUT_W - 1){1'b1}}};
    generate
        if (NONNEG != 0) begin : g_nonneg
            assign dout = neg ? {OUT_W{1'b0}} : (ovf ? lim : de[OUT_W-1:0]);
            assign sat  = neg || ovf;
        end else begin : g_signed
            assign dout = ovf ? lim : de[OUT_W-1:0];
            assign sat  = ovf;
        end
    endgenerate
endmodule

/* verilator lint_on WIDTHEXPAND */
`default_nettype wire
