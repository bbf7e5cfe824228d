// snn_decay: one step of leak of a signed state (docs/semantics.md section 4, "Decay").
//   LEAK = 0 (none):     dout = din
//   LEAK = 1 (multiply): dout = cmul(COEF, din) = (COEF * din + 2^15) >>> 16, COEF in [0, 2^16)
//   LEAK = 2 (shift):    dout = din - (din >>> COEF), COEF = k in [1, 30]
// The result always fits the input width (|decayed| <= |din|), so no saturation is needed here.
//
// The multiply is a chain of shift-adds, bit-identical to the product above: COEF is written in
// canonical signed digits (CSD, digits -1 / 0 / +1, no two adjacent nonzero) by constant functions
// at elaboration, X = COEF * din = sum of d_k * (din << k). The chain starts with the lowest +1
// digit (a wire, free) and adds / subtracts the other terms in ascending k. Each adder spans only
// the bits [k, WN): below k the partial sum passes through unchanged, and WN, the signed width of
// the partial product (its constant prefix times any din), bounds the value, so its upper bits
// are sign copies (everything is taken modulo 2^(16 + W): only bits [16, 16 + W) are used). The
// rounding is floor((X + 2^15) / 2^16) = X[16 +: W] + X[15]: with a top digit at 2^16 (COEF >
// 43690), that add is done together with the top term as one (W + 1)-bit adder whose carry-in is
// X[15]; otherwise a W-bit increment. On the iCE40 every adder is a carry chain (one logic cell
// per bit) instead of a LUT multiplier.
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
    // CSD digit of c (0 <= c < 2^17) at position k: -1, 0 or +1
    function integer csd_digit;
        input integer c;
        input integer k;
        integer i, x, d;
        begin
            x = c;
            csd_digit = 0;
            for (i = 0; i <= 17; i = i + 1) begin
                if ((x % 2) != 0) begin
                    d = 2 - (x % 4);             // x = 1 mod 4: +1, x = 3 mod 4: -1
                    x = x - d;
                end else begin
                    d = 0;
                end
                if (i == k)
                    csd_digit = d;
                x = x / 2;
            end
        end
    endfunction
    // position of the lowest +1 digit (the chain's first term; -1 when c = 0)
    function integer csd_first;
        input integer c;
        integer i;
        begin
            csd_first = -1;
            for (i = 17; i >= 0; i = i - 1)
                if (csd_digit(c, i) == 1)
                    csd_first = i;
        end
    endfunction
    // position of the highest nonzero digit (-1 when c = 0)
    function integer csd_top;
        input integer c;
        integer i;
        begin
            csd_top = -1;
            for (i = 0; i <= 17; i = i + 1)
                if (csd_digit(c, i) != 0)
                    csd_top = i;
        end
    endfunction
    // the constant multiplying din after step k: 2^first + the other digits at positions <= k
    function integer csd_prefix;
        input integer c;
        input integer k;
        integer i, f, s;
        begin
            f = csd_first(c);
            s = 1 << f;
            for (i = 0; i <= k; i = i + 1)
                if (i != f)
                    s = s + csd_digit(c, i) * (1 << i);
            csd_prefix = s;
        end
    endfunction
    // bits of the signed product v * din for any W-bit signed din: W + clog2(v) for v > 0,
    // W + floor(log2(-v)) + 1 for v < 0 (v * -2^(W-1) = |v| * 2^(W-1) must fit), W for v = 0
    function integer prod_width;
        input integer v;
        input integer w;
        integer m, b;
        begin
            if (v == 0) begin
                prod_width = w;
            end else if (v > 0) begin
                b = 0;
                m = 1;
                while (m < v) begin
                    m = m * 2;
                    b = b + 1;
                end
                prod_width = w + b;
            end else begin
                b = 0;
                m = -v;
                while (m > 1) begin
                    m = m / 2;
                    b = b + 1;
                end
                prod_width = w + b + 1;
            end
        end
    endfunction

    generate
        if (LEAK == 1) begin : g_multiply
            localparam integer TOP   = 16 + W;              // X is kept modulo 2^TOP
            localparam integer FIRST = csd_first(COEF);
            localparam integer KTOP  = csd_top(COEF);
            // with a +1 digit at 2^16 (and lower digits) the last add goes with the rounding
            localparam integer FUSE  = (KTOP == 16 && FIRST != 16) ? 1 : 0;
            localparam integer KEND  = (FUSE != 0) ? 16 : 17;   // chain steps 0 .. KEND - 1
            if (COEF == 0) begin : g_zero
                assign dout = {W{1'b0}};
                /* verilator lint_off UNUSEDSIGNAL */
                wire unused_din = ^din;
                /* verilator lint_on UNUSEDSIGNAL */
            end else begin : g_csd
                /* verilator lint_off UNUSEDSIGNAL */      // (upper bits: sign copies)
                wire signed [TOP-1:0] dx = din;             // sign-extended
                // ps[k*TOP +: TOP]: the partial sum before step k (k = 0 .. KEND)
                wire [(KEND+1)*TOP-1:0] ps;
                /* verilator lint_on UNUSEDSIGNAL */
                assign ps[0 +: TOP] = dx <<< FIRST;
                genvar k;
                for (k = 0; k < KEND; k = k + 1) begin : g_step
                    localparam integer D  = csd_digit(COEF, k);
                    localparam integer PW = prod_width(csd_prefix(COEF, k), W);
                    localparam integer WN = (PW > TOP) ? TOP : (PW < k + 1) ? k + 1 : PW;
                    if (D == 0 || k == FIRST) begin : g_pass
                        assign ps[(k+1)*TOP +: TOP] = ps[k*TOP +: TOP];
                    end else begin : g_add
                        // bits [k, WN) of the new partial sum; the rest: below k unchanged,
                        // above WN sign copies
                        wire signed [WN-k-1:0] a = ps[k*TOP + k +: WN - k];
                        wire signed [WN-k-1:0] t = dx[0 +: WN - k];
                        wire signed [WN-k-1:0] s;
                        if (D > 0) begin : g_p
                            assign s = a + t;
                        end else begin : g_m
                            assign s = a - t;
                        end
                        wire signed [TOP-k-1:0] s_ext = s;  // sign-extended
                        assign ps[(k+1)*TOP + k +: TOP - k] = s_ext;
                        if (k > 0) begin : g_low
                            assign ps[(k+1)*TOP +: k] = ps[k*TOP +: k];
                        end
                    end
                end
                wire [TOP-1:0] x = ps[KEND*TOP +: TOP];
                /* verilator lint_off UNUSEDSIGNAL */
                wire [TOP-1:0] x_keep = x;                  // bits below 15 only carry
                /* verilator lint_on UNUSEDSIGNAL */
                if (FUSE != 0) begin : g_fused
                    // X = x + din * 2^16: X[16 +: W] + X[15] = x[16 +: W] + din + x[15], the
                    // carry-in through a constant 1 below the operands' LSB
                    /* verilator lint_off UNUSEDSIGNAL */
                    wire [W:0] r = {x_keep[16 +: W], 1'b1} + {din, x_keep[15]};
                    /* verilator lint_on UNUSEDSIGNAL */
                    assign dout = r[W:1];
                end else begin : g_round
                    assign dout = x_keep[16 +: W] + {{(W - 1){1'b0}}, x_keep[15]};
                end
            end
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
