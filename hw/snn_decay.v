// snn_decay: one step of leak of a signed state (docs/semantics.md section 4, "Decay").
//   LEAK = 0 (none):     dout = din
//   LEAK = 1 (multiply): dout = cmul(COEF, din) = (COEF * din + 2^15) >>> 16, COEF in [0, 2^16)
//   LEAK = 2 (shift):    dout = din - (din >>> COEF), COEF = k in [1, 30]
// The result always fits the input width (|decayed| <= |din|), so no saturation is needed here.
`default_nettype none
// Signed operands narrower than their destination are sign-extended by Verilog's rules on
// purpose (every operand is declared signed); truncations are written as explicit slices.
/* verilator lint_off WIDTHEXPAND */

module snn_decay #(
    parameter integer W    = 16,
    parameter integer LEAK = 1,
    parameter integer COEF = 0
) (
    input  wire signed [W-1:0] din,
    output wire signed [W-1:0] dout
);
    generate
        if (LEAK == 1) begin : g_multiply
            localparam signed [17:0] C = COEF[17:0];    // 0 <= COEF < 2^16
            wire signed [W+17:0] prod = C * din;       // exact 18 x W product
            wire signed [W+17:0] sum  = prod + 32768;  // + 2^15: round half up
            wire signed [W+17:0] q    = sum >>> 16;
            /* verilator lint_off UNUSEDSIGNAL */
            wire signed [W+17:0] q_keep = q;           // upper bits are sign copies
            /* verilator lint_on UNUSEDSIGNAL */
            assign dout = q_keep[W-1:0];
        end else if (LEAK == 2) begin : g_shift
            wire signed [W-1:0] part = din >>> COEF;
            assign dout = din - part;
        end else begin : g_none
            assign dout = din;
        end
    endgenerate
endmodule

/* verilator lint_on WIDTHEXPAND */
`default_nettype wire
