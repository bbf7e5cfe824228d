// snn_neuron_unit: the end-of-step update of one built-in neuron (IF, LIF, CubaLIF, ALIF, ASN),
// bit-exact to docs/semantics.md sections 3 and 4.
//
// Inputs are the neuron's stored state (U, I, A, S_prev, R) and its accumulated synaptic input
// `acc` (ACC_W bits, ACC_FRAC fractional bits); outputs are the new state, the spike (= the new
// S_prev) and one saturation flag per state. One step, in this order:
//
//   refr  = R > 0
//   in    = rescale(acc, ACC_FRAC, F_in)           F_in = I_FRAC for CubaLIF, U_FRAC otherwise
//   CubaLIF: I = sat_I(decay_a(I) + in)            the current integrates even when refractory
//            x = rescale(I, I_FRAC, U_FRAC)
//   others:  x = in
//   x     = 0 if refr                               refractory neurons ignore their input
//   ALIF:    th_prev = THRESHOLD + rescale(BETA * A, 16 + A_FRAC, U_FRAC)      (old A)
//            A       = sat_A(decay_r(A) + S_prev * 2^A_FRAC)
//            th_now  = THRESHOLD + rescale(BETA * A, 16 + A_FRAC, U_FRAC)      (new A)
//   others:  th_prev = th_now = THRESHOLD
//   RESET 0 (subtract): U = sat_U(decay_b(U) + x - th_prev * S_prev)
//   RESET 1 (zero):     U = sat_U((0 if S_prev else decay_b(U)) + x)
//   RESET 2 (none):     U = sat_U(decay_b(U) + x)
//   S     = (U > th_now) and not refr              strictly greater, on the saturated U
//   R     = REFRACTORY if S else max(R - 1, 0)
//
// ASN (KIND 4, the adaptive spiking neuron; "ASN and ReLU in integers"): the states are U, P
// (prediction, membrane format, on the p_* ports), A (adaptation) and the payload H; one step:
//
//   in    = rescale(acc, ACC_FRAC, U_FRAC)
//   U     = sat_U(decay_b(U) + in)                  decay_b: MEM_DECAY
//   A     = decay_g(A)                              decay_g: ADAPT_DECAY (a decay never overflows)
//   P     = decay_e(P)                              decay_e: PRED_DECAY
//   theta = THRESHOLD + rescale(A, A_FRAC, U_FRAC)  exact, may exceed the membrane range
//   S     = 2*(U - P) > theta
//   h     = sat_H(theta) if S else 0                clamped to the membrane format (sat_h)
//   P     = sat_P(P + h) if S                       (sat_p, only where S)
//   A     = sat_A(A + rescale(M_F * h, 16 + U_FRAC, A_FRAC)) if S      (sat_a, only where S)
//
// h_out is the event's payload h (U_W bits, signed; 0 without a spike); s_in and r_in are not
// used, i_out and r_out are 0 and sat_i low. For the other kinds p_out and h_out are 0 and
// sat_p, sat_h low (p_in is not used).
//
// decay_f is snn_decay: LEAK 0 none (IF always uses none), 1 multiply by a 16-fractional-bit
// coefficient (cmul), 2 shift by k (v - (v >>> k)). Every intermediate is wide enough never to
// wrap; saturation happens only at the end of each state's update.
//
// Parameters
//   KIND        0 IF, 1 LIF, 2 CubaLIF, 3 ALIF, 4 ASN
//   RESET       0 subtract, 1 zero, 2 none
//   LEAK        0 none, 1 multiply, 2 shift
//   ACC_W, ACC_FRAC              accumulated input width / fractional bits
//   U_W, U_FRAC                  membrane format fixed<U_W, U_FRAC>
//   I_W, I_FRAC                  synaptic current format (CubaLIF; otherwise unused)
//   A_W, A_FRAC                  adaptation format (ALIF; otherwise unused)
//   R_W                          refractory counter width (must hold REFRACTORY)
//   MEM_DECAY, SYN_DECAY, ADAPT_DECAY   coefficient (LEAK 1, in [0, 2^16)) or shift k (LEAK 2)
//   PRED_DECAY                   ASN: decay of P (tau_eta), like the others
//   THRESHOLD                    theta (ASN: theta0) in membrane units, 1 <= THRESHOLD <= max(U)
//   BETA                         ALIF beta, 16 fractional bits, 0 <= BETA < 2^31
//   M_F                          ASN adaptation factor m_f, 16 fractional bits, |M_F| < 2^31
//   REFRACTORY                   refractory steps (0: none; the counter input is then ignored
//                                and r_out is 0)
//   TAG_W                        width of a side-band tag carried alongside (e.g. the address)
//   LATENCY                      0: combinational (in_ready = out_ready, out_valid = in_valid)
//                                1: one register stage (in_ready = !out_valid || out_ready)
//   DECAYED_IN                   1: u_in and i_in arrive already decayed (decay_b(U), decay_a(I)
//                                applied by the caller one pipeline stage earlier, as the layer
//                                core does); a_in is the raw A, except for ASN, where u_in,
//                                a_in and p_in all arrive decayed (decay_b(U), decay_g(A),
//                                decay_e(P): the ASN update uses only the decayed A and P)
//
// Unused states (I unless CubaLIF, A unless ALIF or ASN, P and H unless ASN, R for ASN) are
// output as 0 with their flags low.
`default_nettype none

module snn_neuron_unit #(
    parameter integer KIND        = 1,
    parameter integer RESET       = 0,
    parameter integer LEAK        = 1,
    parameter integer ACC_W       = 16,
    parameter integer ACC_FRAC    = 6,
    parameter integer U_W         = 16,
    parameter integer U_FRAC      = 8,
    parameter integer I_W         = 16,
    parameter integer I_FRAC      = 8,
    parameter integer A_W         = 16,
    parameter integer A_FRAC      = 8,
    parameter integer R_W         = 8,
    parameter integer MEM_DECAY   = 0,
    parameter integer SYN_DECAY   = 0,
    parameter integer ADAPT_DECAY = 0,
    parameter integer PRED_DECAY  = 0,
    parameter integer THRESHOLD   = 256,
    parameter integer BETA        = 0,
    parameter integer M_F         = 0,
    parameter integer REFRACTORY  = 0,
    parameter integer TAG_W       = 1,
    parameter integer LATENCY     = 0,
    parameter integer DECAYED_IN  = 0
) (
    input  wire                    clk,
    input  wire                    rst,
    // request: state + accumulated input
    input  wire                    in_valid,
    output wire                    in_ready,
    input  wire [TAG_W-1:0]        in_tag,
    input  wire signed [ACC_W-1:0] acc,
    input  wire signed [U_W-1:0]   u_in,
    /* verilator lint_off UNUSEDSIGNAL */      // I unused unless CubaLIF, A unless ALIF or
    input  wire signed [I_W-1:0]   i_in,      // ASN, P unless ASN
    input  wire signed [A_W-1:0]   a_in,
    input  wire signed [U_W-1:0]   p_in,      // ASN prediction P
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire                    s_in,      // S_prev
    input  wire [R_W-1:0]          r_in,
    // response: new state, spike, saturation flags
    output wire                    out_valid,
    input  wire                    out_ready,
    output wire [TAG_W-1:0]        out_tag,
    output wire signed [U_W-1:0]   u_out,
    output wire signed [I_W-1:0]   i_out,
    output wire signed [A_W-1:0]   a_out,
    output wire signed [U_W-1:0]   p_out,     // ASN prediction P
    output wire signed [U_W-1:0]   h_out,     // ASN spike payload h (0 without a spike)
    output wire                    s_out,     // the spike (and next S_prev)
    output wire [R_W-1:0]          r_out,
    output wire                    sat_u,
    output wire                    sat_i,
    output wire                    sat_a,
    output wire                    sat_p,
    output wire                    sat_h
);
    // Signed operands narrower than their destination are sign-extended by Verilog's rules on
    // purpose (every operand below is signed); truncations are explicit.
    /* verilator lint_off WIDTHEXPAND */

    localparam IS_CUBA = (KIND == 2);
    localparam IS_ALIF = (KIND == 3);
    localparam IS_ASN  = (KIND == 4);
    localparam integer U_LEAK  = (KIND == 0) ? 0 : LEAK;

    // ------------------------------------------------------------------ input rescale
    localparam integer IN_FRAC = IS_CUBA ? I_FRAC : U_FRAC;
    localparam integer SH_IN   = IN_FRAC - ACC_FRAC;
    localparam integer IN_W    = ACC_W + ((SH_IN > 0) ? SH_IN : 0) + 1;

    wire signed [IN_W-1:0] x_in;
    snn_rescale #(.IN_W(ACC_W), .OUT_W(IN_W), .SHIFT(SH_IN)) u_rescale_in (.din(acc), .dout(x_in));

    // with REFRACTORY = 0 the counter is never loaded: no gating logic (R stays 0)
    wire refr = (REFRACTORY > 0) && (|r_in);

    // ------------------------------------------------------------------ synaptic current
    localparam integer SH_I = U_FRAC - I_FRAC;
    localparam integer XI_W = I_W + ((SH_I > 0) ? SH_I : 0) + 1;
    localparam integer X_W  = IS_CUBA ? XI_W : IN_W;

    wire signed [X_W-1:0] x_raw;
    wire signed [I_W-1:0] i_new;
    wire                  i_sat;

    generate
        if (IS_CUBA) begin : g_cuba
            localparam integer IS_W = ((I_W + 1 > IN_W) ? I_W + 1 : IN_W) + 1;
            wire signed [I_W-1:0]  i_dec;
            wire signed [IS_W-1:0] i_sum;
            snn_decay #(.W(I_W), .LEAK((DECAYED_IN != 0) ? 0 : LEAK), .COEF(SYN_DECAY)) u_decay_i (.din(i_in), .dout(i_dec));
            assign i_sum = i_dec + x_in;
            snn_sat #(.IN_W(IS_W), .OUT_W(I_W)) u_sat_i (.din(i_sum), .dout(i_new), .sat(i_sat));
            snn_rescale #(.IN_W(I_W), .OUT_W(XI_W), .SHIFT(SH_I)) u_rescale_i (.din(i_new), .dout(x_raw));
        end else begin : g_no_cuba
            assign i_new = {I_W{1'b0}};
            assign i_sat = 1'b0;
            assign x_raw = x_in;
        end
    endgenerate

    wire signed [X_W-1:0] x = refr ? {X_W{1'b0}} : x_raw;

    // ------------------------------------------------------------------ adaptation, thresholds
    localparam integer TH_W = IS_ALIF ? (A_W + 32 + ((U_FRAC > 16 + A_FRAC) ? U_FRAC - 16 - A_FRAC : 0) + 3)
                                      : 33;
    localparam signed [32:0] THETA = THRESHOLD;

    wire signed [TH_W-1:0] th_prev;
    wire signed [TH_W-1:0] th_now;
    wire signed [A_W-1:0]  a_new;
    wire                   a_sat;

    generate
        if (IS_ALIF) begin : g_alif
            localparam integer AS_W  = ((A_W > A_FRAC + 2) ? A_W : A_FRAC + 2) + 1;
            localparam [AS_W-1:0] A_ONE = {{(AS_W - 1){1'b0}}, 1'b1} << A_FRAC;  // 2^A_FRAC
            localparam signed [32:0] BETA_S = BETA;
            localparam integer SH_B  = U_FRAC - 16 - A_FRAC;
            localparam integer BA_W  = A_W + 33;
            localparam integer BT_W  = BA_W + ((SH_B > 0) ? SH_B : 0) + 1;
            wire signed [A_W-1:0]  a_dec;
            wire signed [AS_W-1:0] a_inc = s_in ? $signed(A_ONE) : $signed({AS_W{1'b0}});
            wire signed [AS_W-1:0] a_sum;
            wire signed [BA_W-1:0] ba_prev = BETA_S * a_in;
            wire signed [BA_W-1:0] ba_now;
            wire signed [BT_W-1:0] bt_prev;
            wire signed [BT_W-1:0] bt_now;
            snn_decay #(.W(A_W), .LEAK(LEAK), .COEF(ADAPT_DECAY)) u_decay_a (.din(a_in), .dout(a_dec));
            assign a_sum = a_dec + a_inc;
            snn_sat #(.IN_W(AS_W), .OUT_W(A_W)) u_sat_a (.din(a_sum), .dout(a_new), .sat(a_sat));
            assign ba_now = BETA_S * a_new;
            snn_rescale #(.IN_W(BA_W), .OUT_W(BT_W), .SHIFT(SH_B)) u_rescale_bp (.din(ba_prev), .dout(bt_prev));
            snn_rescale #(.IN_W(BA_W), .OUT_W(BT_W), .SHIFT(SH_B)) u_rescale_bn (.din(ba_now), .dout(bt_now));
            assign th_prev = THETA + bt_prev;
            assign th_now  = THETA + bt_now;
        end else begin : g_no_alif
            assign a_new   = {A_W{1'b0}};
            assign a_sat   = 1'b0;
            assign th_prev = THETA;
            assign th_now  = THETA;
        end
    endgenerate

    // ------------------------------------------------------------------ membrane, reset, spike
    localparam integer US_W0 = (U_W + 1 > X_W) ? U_W + 1 : X_W;
    localparam integer US_W  = ((US_W0 > TH_W) ? US_W0 : TH_W) + 2;

    wire signed [U_W-1:0]  u_dec;
    snn_decay #(.W(U_W), .LEAK((DECAYED_IN != 0) ? 0 : U_LEAK), .COEF(MEM_DECAY)) u_decay_u (.din(u_in), .dout(u_dec));

    wire signed [U_W-1:0]  u_base = (RESET == 1 && s_in) ? {U_W{1'b0}} : u_dec;
    wire signed [TH_W-1:0] u_rst  = (RESET == 0 && s_in) ? th_prev : {TH_W{1'b0}};
    wire signed [US_W-1:0] u_sum  = u_base + x - u_rst;
    wire signed [U_W-1:0]  u_new;
    wire                   u_sat;
    snn_sat #(.IN_W(US_W), .OUT_W(U_W)) u_sat_u (.din(u_sum), .dout(u_new), .sat(u_sat));

    // u_new > th_now: with a constant threshold (no adaptation) a chain of and/or over the bits
    // from the LSB (a few LUTs), else a comparator
    wire u_gt;
    generate
        if (IS_ALIF) begin : g_gt_var
            assign u_gt = u_new > th_now;
        end else begin : g_gt_const
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused_th = ^th_now;                  // the constant THRESHOLD
            /* verilator lint_on UNUSEDSIGNAL */
            localparam signed [32:0] TH_C = THRESHOLD;
            localparam signed [32:0] U_MAX = (33'sd1 <<< (U_W - 1)) - 33'sd1;
            localparam signed [32:0] U_MIN = -(33'sd1 <<< (U_W - 1));
            if (TH_C >= U_MAX) begin : g_never
                assign u_gt = 1'b0;
            end else if (TH_C < U_MIN) begin : g_always
                assign u_gt = 1'b1;
            end else begin : g_bits
                // offset binary: u_new > TH  <=>  (u_new ^ MSB) > (TH ^ MSB), unsigned
                wire [U_W-1:0] c  = TH_C[U_W-1:0] ^ {1'b1, {(U_W - 1){1'b0}}};
                wire [U_W-1:0] uo = u_new ^ {1'b1, {(U_W - 1){1'b0}}};
                // one vector, bit i + 1 computed from bit i: not a loop (Verilator's UNOPTFLAT
                // is a false alarm here, and fatal in a build with --public-flat-rw)
                /* verilator lint_off UNOPTFLAT */
                wire [U_W:0]   g;                      // g[i + 1]: uo[i:0] > c[i:0]
                /* verilator lint_on UNOPTFLAT */
                assign g[0] = 1'b0;
                genvar gi;
                for (gi = 0; gi < U_W; gi = gi + 1) begin : g_bit
                    assign g[gi + 1] = c[gi] ? (uo[gi] & g[gi]) : (uo[gi] | g[gi]);
                end
                assign u_gt = g[U_W];
            end
        end
    endgenerate
    wire spike = u_gt && !refr;

    localparam [R_W-1:0] R_LOAD = REFRACTORY[R_W-1:0];
    wire [R_W-1:0] r_new = (spike && REFRACTORY > 0) ? R_LOAD
                         : (refr ? r_in - 1'b1 : {R_W{1'b0}});

    // ------------------------------------------------------------------ ASN
    wire signed [U_W-1:0] asn_u, asn_p, asn_h;
    wire signed [A_W-1:0] asn_a;
    wire                  asn_s, asn_sat_u, asn_sat_p, asn_sat_a, asn_sat_h;

    generate
        if (IS_ASN) begin : g_asn
            // U = sat_U(decay_b(U) + in)
            localparam integer AU_W = ((U_W > IN_W) ? U_W : IN_W) + 1;
            wire signed [U_W-1:0]  au_dec;
            wire signed [AU_W-1:0] au_sum;
            snn_decay #(.W(U_W), .LEAK((DECAYED_IN != 0) ? 0 : LEAK), .COEF(MEM_DECAY)) u_decay_au (.din(u_in), .dout(au_dec));
            assign au_sum = au_dec + x_in;
            snn_sat #(.IN_W(AU_W), .OUT_W(U_W)) u_sat_au (.din(au_sum), .dout(asn_u), .sat(asn_sat_u));
            // decays of A and P (no saturation needed: |decayed| <= |state|)
            wire signed [A_W-1:0] aa_dec;
            wire signed [U_W-1:0] ap_dec;
            snn_decay #(.W(A_W), .LEAK((DECAYED_IN != 0) ? 0 : LEAK), .COEF(ADAPT_DECAY)) u_decay_aa (.din(a_in), .dout(aa_dec));
            snn_decay #(.W(U_W), .LEAK((DECAYED_IN != 0) ? 0 : LEAK), .COEF(PRED_DECAY)) u_decay_ap (.din(p_in), .dout(ap_dec));
            // theta = THRESHOLD + rescale(A, A_FRAC, U_FRAC), exact
            localparam integer SH_TA = U_FRAC - A_FRAC;
            localparam integer TA_W  = A_W + ((SH_TA > 0) ? SH_TA : 0) + 1;
            localparam integer AT_W  = ((TA_W > 33) ? TA_W : 33) + 1;
            wire signed [TA_W-1:0] ta;
            wire signed [AT_W-1:0] theta;
            snn_rescale #(.IN_W(A_W), .OUT_W(TA_W), .SHIFT(SH_TA)) u_rescale_ta (.din(aa_dec), .dout(ta));
            assign theta = THETA + ta;
            // S = 2*(U - P) > theta
            localparam integer CM_W = ((U_W + 2 > AT_W) ? U_W + 2 : AT_W) + 1;
            wire signed [CM_W-1:0] diff2 = (asn_u - ap_dec) <<< 1;
            wire signed [CM_W-1:0] theta_c = theta;
            assign asn_s = diff2 > theta_c;
            // h = sat_H(theta) where S (counted only where S)
            wire signed [U_W-1:0] h_sat;
            wire                  h_clamp;
            snn_sat #(.IN_W(AT_W), .OUT_W(U_W)) u_sat_h (.din(theta), .dout(h_sat), .sat(h_clamp));
            assign asn_h     = asn_s ? h_sat : {U_W{1'b0}};
            assign asn_sat_h = asn_s && h_clamp;
            // P = sat_P(P + h) where S
            wire signed [U_W:0]   ph_sum = ap_dec + h_sat;
            wire signed [U_W-1:0] ph_new;
            wire                  ph_clamp;
            snn_sat #(.IN_W(U_W + 1), .OUT_W(U_W)) u_sat_p (.din(ph_sum), .dout(ph_new), .sat(ph_clamp));
            assign asn_p     = asn_s ? ph_new : ap_dec;
            assign asn_sat_p = asn_s && ph_clamp;
            // A = sat_A(A + rescale(M_F * h, 16 + U_FRAC, A_FRAC)) where S
            localparam signed [32:0] MF_S = M_F;
            localparam integer SH_M = A_FRAC - 16 - U_FRAC;
            localparam integer MH_W = U_W + 33;
            localparam integer RM_W = MH_W + ((SH_M > 0) ? SH_M : 0) + 1;
            localparam integer AI_W = ((A_W > RM_W) ? A_W : RM_W) + 1;
            wire signed [MH_W-1:0] mh = MF_S * h_sat;
            wire signed [RM_W-1:0] a_inc;
            snn_rescale #(.IN_W(MH_W), .OUT_W(RM_W), .SHIFT(SH_M)) u_rescale_mh (.din(mh), .dout(a_inc));
            wire signed [AI_W-1:0] ai_sum = aa_dec + a_inc;
            wire signed [A_W-1:0]  ai_new;
            wire                   ai_clamp;
            snn_sat #(.IN_W(AI_W), .OUT_W(A_W)) u_sat_ai (.din(ai_sum), .dout(ai_new), .sat(ai_clamp));
            assign asn_a     = asn_s ? ai_new : aa_dec;
            assign asn_sat_a = asn_s && ai_clamp;
        end else begin : g_no_asn
            assign asn_u = {U_W{1'b0}};
            assign asn_p = {U_W{1'b0}};
            assign asn_h = {U_W{1'b0}};
            assign asn_a = {A_W{1'b0}};
            assign asn_s = 1'b0;
            assign asn_sat_u = 1'b0;
            assign asn_sat_p = 1'b0;
            assign asn_sat_a = 1'b0;
            assign asn_sat_h = 1'b0;
        end
    endgenerate

    /* verilator lint_on WIDTHEXPAND */

    // the kind's results (IS_ASN is a constant: one side is optimised away)
    wire signed [U_W-1:0] f_u   = IS_ASN ? asn_u : u_new;
    wire signed [A_W-1:0] f_a   = IS_ASN ? asn_a : a_new;
    wire                  f_s   = IS_ASN ? asn_s : spike;
    wire [R_W-1:0]        f_r   = IS_ASN ? {R_W{1'b0}} : r_new;
    wire signed [I_W-1:0] f_i   = IS_ASN ? {I_W{1'b0}} : i_new;
    wire                  f_su  = IS_ASN ? asn_sat_u : u_sat;
    wire                  f_si  = IS_ASN ? 1'b0 : i_sat;
    wire                  f_sa  = IS_ASN ? asn_sat_a : a_sat;

    // ------------------------------------------------------------------ output stage
    localparam integer OUT_BITS = TAG_W + U_W + I_W + A_W + U_W + U_W + 1 + R_W + 5;
    wire [OUT_BITS-1:0] result = {in_tag, f_u, f_i, f_a, asn_p, asn_h, f_s, f_r,
                                  f_su, f_si, f_sa, asn_sat_p, asn_sat_h};
    wire [OUT_BITS-1:0] result_q;

    generate
        if (LATENCY == 0) begin : g_comb
            assign in_ready  = out_ready;
            assign out_valid = in_valid;
            assign result_q  = result;
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused_clk = clk ^ rst;
            /* verilator lint_on UNUSEDSIGNAL */
        end else begin : g_reg
            reg                valid_q;
            reg [OUT_BITS-1:0] data_q;
            assign in_ready  = !valid_q || out_ready;
            assign out_valid = valid_q;
            assign result_q  = data_q;
            always @(posedge clk) begin
                if (rst) begin
                    valid_q <= 1'b0;
                end else if (in_ready) begin
                    valid_q <= in_valid;
                end
            end
            always @(posedge clk) begin
                if (in_valid && in_ready)
                    data_q <= result;
            end
        end
    endgenerate

    assign {out_tag, u_out, i_out, a_out, p_out, h_out, s_out, r_out, sat_u, sat_i, sat_a,
            sat_p, sat_h} = result_q;
endmodule

`default_nettype wire
