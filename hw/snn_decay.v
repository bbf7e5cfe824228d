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
    // the tree's leaves (slots): the nonzero digits in ascending position, those below 2^lim;
    // position of slot j (-1: empty)
    function integer slot_pos;
        input integer c;
        input integer lim;
        input integer j;
        integer i, n;
        begin
            slot_pos = -1;
            n = 0;
            for (i = 0; i < lim; i = i + 1)
                if (csd_digit(c, i) != 0) begin
                    if (n == j)
                        slot_pos = i;
                    n = n + 1;
                end
        end
    endfunction
    // node i of level l covers slots [i * 2^l, (i + 1) * 2^l); what = 0: its value (the sum of
    // d * 2^k over its digits), 1: its sign (+1 when it has a +1 digit, else -1; the node holds
    // sign * value * din), 2: its lowest position (-1: empty)
    function integer node_info;
        input integer c;
        input integer lim;
        input integer l;
        input integer i;
        input integer what;
        integer j, k, v, sg, lo;
        begin
            v = 0;
            sg = -1;
            lo = -1;
            for (j = i * (1 << l); j < (i + 1) * (1 << l); j = j + 1) begin
                k = slot_pos(c, lim, j);
                if (k >= 0) begin
                    v = v + csd_digit(c, k) * (1 << k);
                    if (csd_digit(c, k) > 0)
                        sg = 1;
                    if (lo < 0)
                        lo = k;
                end
            end
            node_info = (what == 0) ? v : (what == 1) ? sg : lo;
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
    // does c have a +1 digit below 2^16?
    function integer low_positive;
        input integer c;
        integer i;
        begin
            low_positive = 0;
            for (i = 0; i < 16; i = i + 1)
                if (csd_digit(c, i) == 1)
                    low_positive = 1;
        end
    endfunction

    generate
        if (LEAK == 1) begin : g_multiply
            localparam integer TOP  = 16 + W;               // X is kept modulo 2^TOP
            // with a +1 digit at 2^16 (and a +1 digit below) the top term is added together
            // with the rounding, outside the tree
            localparam integer FUSE = (csd_top(COEF) == 16 && low_positive(COEF) != 0) ? 1 : 0;
            localparam integer LIM  = (FUSE != 0) ? 16 : 17;    // the tree's digits: below 2^LIM
            if (COEF == 0) begin : g_zero
                assign dout = {W{1'b0}};
                /* verilator lint_off UNUSEDSIGNAL */
                wire unused_din = ^din;
                /* verilator lint_on UNUSEDSIGNAL */
            end else begin : g_csd
                /* verilator lint_off UNUSEDSIGNAL */      // (upper bits: sign copies)
                wire signed [TOP-1:0] dx = din;             // sign-extended
                // the tree's nodes, level l (16 >> l nodes) from node 32 - (32 >> l): node n
                // in nd[n*TOP +: TOP], modulo 2^TOP
                wire [31*TOP-1:0] nd;
                /* verilator lint_on UNUSEDSIGNAL */
                genvar l, i;
                for (i = 0; i < 16; i = i + 1) begin : g_leaf
                    localparam integer K = slot_pos(COEF, LIM, i);
                    if (K >= 0) begin : g_term
                        assign nd[i*TOP +: TOP] = dx <<< K;     // sign * value: din << K
                    end else begin : g_empty
                        assign nd[i*TOP +: TOP] = {TOP{1'b0}};
                    end
                end
                for (l = 1; l <= 4; l = l + 1) begin : g_level
                    for (i = 0; i < (16 >> l); i = i + 1) begin : g_node
                        localparam integer N  = 32 - (32 >> l) + i;          // this node
                        localparam integer NA = 32 - (64 >> l) + 2 * i;      // children: A
                        localparam integer NB = NA + 1;                       // (lower), B
                        localparam integer LB = node_info(COEF, LIM, l - 1, 2 * i + 1, 2);
                        localparam integer LA = node_info(COEF, LIM, l - 1, 2 * i, 2);
                        localparam integer SA = node_info(COEF, LIM, l - 1, 2 * i, 1);
                        localparam integer SB = node_info(COEF, LIM, l - 1, 2 * i + 1, 1);
                        localparam integer SG = node_info(COEF, LIM, l, i, 1);
                        localparam integer PW = prod_width(SG * node_info(COEF, LIM, l, i, 0), W);
                        // the adder spans [LO, WN): below LO the lower child's bits pass
                        // (B is zero there), unless A is subtracted from B (borrows from LA)
                        localparam integer LO = (SA < 0 && SB > 0) ? LA : LB;
                        localparam integer WN = (PW > TOP) ? TOP : (PW < LO + 1) ? LO + 1 : PW;
                        if (LB < 0) begin : g_pass                    // B empty: A (or empty)
                            assign nd[N*TOP +: TOP] = nd[NA*TOP +: TOP];
                        end else begin : g_add
                            wire signed [WN-LO-1:0] a = nd[NA*TOP + LO +: WN - LO];
                            wire signed [WN-LO-1:0] b = nd[NB*TOP + LO +: WN - LO];
                            wire signed [WN-LO-1:0] s;
                            if (SA == SB) begin : g_same              // sign * (A + B)
                                assign s = a + b;
                            end else if (SA > 0) begin : g_ab         // A - B
                                assign s = a - b;
                            end else begin : g_ba                     // B - A
                                assign s = b - a;
                            end
                            wire signed [TOP-LO-1:0] s_ext = s;       // sign-extended
                            assign nd[N*TOP + LO +: TOP - LO] = s_ext;
                            if (LO > 0) begin : g_low
                                assign nd[N*TOP +: LO] = nd[NA*TOP +: LO];
                            end
                        end
                    end
                end
                // the root (+1 sign: COEF > 0 has a +1 top digit, and FUSE needs one below 2^16)
                wire [TOP-1:0] x = nd[30*TOP +: TOP];
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
