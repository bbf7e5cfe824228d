// snn_decay: one step of leak of a signed state (docs/semantics.md section 4, "Decay").
//   LEAK = 0 (none):     dout = din
//   LEAK = 1 (multiply): dout = cmul(COEF, din) = (COEF * din + 2^15) >>> 16, COEF in [0, 2^16)
//   LEAK = 2 (shift):    dout = din - (din >>> COEF), COEF = k in [1, 30]
// The result always fits the input width (|decayed| <= |din|), so no saturation is needed here.
//
// The multiply is a tree of shift-adds, bit-identical to the product above: COEF is written in
// canonical signed digits (CSD: digits -1 / 0 / +1, no two adjacent nonzero, at most 9) by
// constant functions at elaboration, X = COEF * din = sum of d_k * (din << k). The terms, in
// ascending k, are the leaves of a balanced binary tree (4 levels of adders: the chain form was
// too slow, its carry chains rippling through each other); a node holds sign * (its terms' sum),
// the sign +1 where it has a +1 digit, so a subtraction is never a negation. Each adder spans
// only the bits [lo, WN): below lo the lower child's bits pass unchanged (the upper child is
// zero there), and WN, the signed width of the node's constant times any din, bounds the value,
// so its upper bits are sign copies (everything is taken modulo 2^(16 + W): only bits
// [16, 16 + W) are used). The rounding is floor((X + 2^15) / 2^16) = X[16 +: W] + X[15]: with a
// top digit at 2^16 (and a +1 digit below it), that add is done together with the top term as one
// (W + 1)-bit adder whose carry-in is X[15]; otherwise a W-bit increment. On the iCE40 every
// adder is a carry chain (one logic cell per bit) instead of a LUT multiplier.
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
    // the CSD digits of c (0 <= c < 2^17) as two masks: bit k set where the digit at 2^k is +1
    // (pos = 1) or -1 (pos = 0)
    function integer csd_mask;
        input integer c;
        input integer pos;
        integer i, x, d;
        begin
            x = c;
            csd_mask = 0;
            for (i = 0; i <= 17; i = i + 1) begin
                if ((x % 2) != 0) begin
                    d = 2 - (x % 4);             // x = 1 mod 4: +1, x = 3 mod 4: -1
                    x = x - d;
                    if ((d > 0) == (pos != 0))
                        csd_mask = csd_mask + (1 << i);
                end
                x = x / 2;
            end
        end
    endfunction
    // position of the highest set bit of m (-1 when m = 0)
    function integer top_bit;
        input integer m;
        integer i;
        begin
            top_bit = -1;
            for (i = 0; i <= 17; i = i + 1)
                if (((m >> i) & 1) != 0)
                    top_bit = i;
        end
    endfunction
    // the tree's leaves (slots): the nonzero digits (pm: +1, nm: -1) below 2^lim in ascending
    // position; position of slot j (-1: empty)
    function integer slot_pos;
        input integer pm;
        input integer nm;
        input integer lim;
        input integer j;
        integer i, n;
        begin
            slot_pos = -1;
            n = 0;
            for (i = 0; i < lim; i = i + 1)
                if ((((pm | nm) >> i) & 1) != 0) begin
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
        input integer pm;
        input integer nm;
        input integer lim;
        input integer l;
        input integer i;
        input integer what;
        integer k, n, v, sg, lo;
        begin
            v = 0;
            sg = -1;
            lo = -1;
            n = 0;
            for (k = 0; k < lim; k = k + 1)
                if ((((pm | nm) >> k) & 1) != 0) begin
                    if (n >= (i << l) && n < ((i + 1) << l)) begin
                        if (((pm >> k) & 1) != 0) begin
                            v = v + (1 << k);
                            sg = 1;
                        end else begin
                            v = v - (1 << k);
                        end
                        if (lo < 0)
                            lo = k;
                    end
                    n = n + 1;
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
    generate
`ifdef SNN_DECAY_MULTIPLY
        // Devices with multiplier blocks (the ECP5's MULT18X18D, the UP5K's SB_MAC16): the plain
        // product, which synthesis maps to one block (backends/verilog/fpga.py defines this
        // macro while there are enough blocks). The same value as the shift-add tree below.
        if (LEAK == 1) begin : g_multiply
            localparam signed [17:0] C = COEF[17:0];    // 0 <= COEF < 2^16
            wire signed [W+17:0] prod = C * din;       // exact 18 x W product
            wire signed [W+17:0] sum  = prod + 32768;  // + 2^15: round half up
            /* verilator lint_off UNUSEDSIGNAL */
            wire signed [W+17:0] q = sum >>> 16;       // upper bits are sign copies
            /* verilator lint_on UNUSEDSIGNAL */
            assign dout = q[W-1:0];
        end else
`endif
        if (LEAK == 1) begin : g_multiply
            localparam integer TOP  = 16 + W;               // X is kept modulo 2^TOP
            localparam integer PM   = csd_mask(COEF, 1);    // the +1 digits
            localparam integer NM   = csd_mask(COEF, 0);    // the -1 digits
            // with a +1 digit at 2^16 (and a +1 digit below) the top term is added together
            // with the rounding, outside the tree
            localparam integer FUSE = (top_bit(PM | NM) == 16 && (PM % 65536) != 0) ? 1 : 0;
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
                /* verilator lint_off UNOPTFLAT */     // level l + 1 from level l: no loop
                wire [31*TOP-1:0] nd;
                /* verilator lint_on UNOPTFLAT */
                /* verilator lint_on UNUSEDSIGNAL */
                genvar l, i;
                for (i = 0; i < 16; i = i + 1) begin : g_leaf
                    localparam integer K = slot_pos(PM, NM, LIM, i);
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
                        localparam integer LB = node_info(PM, NM, LIM, l - 1, 2 * i + 1, 2);
                        localparam integer LA = node_info(PM, NM, LIM, l - 1, 2 * i, 2);
                        localparam integer SA = node_info(PM, NM, LIM, l - 1, 2 * i, 1);
                        localparam integer SB = node_info(PM, NM, LIM, l - 1, 2 * i + 1, 1);
                        localparam integer SG = node_info(PM, NM, LIM, l, i, 1);
                        localparam integer PW = prod_width(SG * node_info(PM, NM, LIM, l, i, 0), W);
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
