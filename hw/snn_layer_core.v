// snn_layer_core: an event-driven dense layer (docs/semantics.md section 1 steps 1 and 4, with
// the integer accumulation of section 4).
//
// Input events (hw/README.md): {last, payload, address}. For an event with address j < M the
// core reads row j of the weight memory (P weights per word, NW = ceil(N/P) words per row) and
// adds W[j, n] (times the signed payload when GRADED) to the accumulator of every neuron n, P
// lanes per cycle, through a three-stage read-modify-write pipeline: the weight and accumulator
// words are read at issue and pass through the RAMs' read and output registers (st0), st1 adds
// and writes back; the two writes a read can miss (in its issue and its st0 cycle) are
// forwarded, the newer first (back-to-back events on the same word). Events with an
// address >= M are ignored. The end-of-step token (last = 1) starts the sweep: NW words, P
// neurons per cycle, each through snn_neuron_unit with its accumulated input; the new states are
// written back, the accumulators cleared, and every spike leaves as an output event {0, 1, n}
// (ascending n) followed by the core's own token {1, 0, 0}; an ASN core (KIND 4) sends the
// spike's height h instead of 1 (a graded event, OUT_PW >= U_W bits, signed). An output
// `m_ready` low stalls the sweep; no spike is dropped. Input events of the next step are
// accepted as soon as the sweep has passed its last word through st0 (while the last spikes
// may still be leaving).
//
// The sweep is a pipeline that never stalls: issue -> st0 (state read) -> st1 (accumulator and
// bias reads) -> p2 (the state word registered; U and I are decayed, for an ASN U, A and P; the
// accumulator word plus the bias registered into a_q, the neuron's input at p3; the accumulator is
// cleared) -> p3 (registered) -> the neuron unit (combinational) -> p4 (its result registered):
// the new state is written back from those registers alone (the init pass writes them cleared to
// the initial state, so no multiplexer sits before the write), and a word with spikes (or the last
// word) goes to the emitter through a 7-entry spike queue (always: the emitter loads only from the
// queue's registers, never straight from p4, so the neuron results do not reach the emitter's
// enables); the emitter's events leave through a skid buffer (m_valid and the event registered, a
// registered ready to the emitter, so m_ready drives only the buffer's enables). A word is issued
// only when a queue entry is reserved for it (credits, a registered count: 7 cover the 7 cycles
// from issue to the emitter's load), so the output's back-pressure never reaches the neuron
// datapath combinationally. A state word is written back four cycles after its read (st0); the
// next sweep reads it at least NW + 2 cycles after, and a word whose older write is still in
// flight (NW <= 2 only) waits.
//
// Memories: weights (M*NW words of P*W_W bits, lane p in bits [p*W_W +: W_W]; loaded from
// WEIGHT_FILE with $readmemh when it is not "", and writable at run time through w_we/w_addr/
// w_data, word address j*NW + k), accumulators (NW words of P*ACC_W), neuron state (NW words of
// P lanes of {R, S_prev, A, I, U}, U in the low bits; I and A only when ST_I / ST_A select
// them: a LIF layer stores {R, S_prev, U}; ASN: {H, S, A, P, U}, P and H of U_W bits, A when
// ST_A). After reset (and after `clear`) an initialisation pass of NW cycles (NW * G with a
// narrow sweep, SU) zeroes states and accumulators (s_ready low meanwhile).
//
// Parameters (the neuron ones are those of snn_neuron_unit)
//   N, P, M             neurons, lanes (neurons updated per cycle), presynaptic inputs
//   W_W                 weight width (weights are signed)
//   IN_AW, IN_PW        input event address / payload widths
//   GRADED              0: every event adds W (payload ignored); 1: adds W * payload (signed)
//   HOLD                1: the accumulators are not cleared at the sweep, so they hold the sum
//                       of every event since `clear`: the input of a held direct input, whose
//                       events carry the changes of its values (docs/semantics.md, section 1);
//                       a layer with REC = 0 only (its own spikes would accumulate too)
//   OUT_AW, OUT_PW      output event address / payload widths (OUT_AW bits must hold N - 1;
//                       ASN: OUT_PW >= U_W, the signed payload h is sign-extended to it)
//   ACC_W, ACC_FRAC     accumulator width (must never overflow: quantizer's acc_bits) / frac
//   CNT_W               width of the statistics counters
//   WEIGHT_FILE         $readmemh file of the weight memory ("" = none: zeros)
//   REC                 1: recurrent layer (section 1.2): a second weight memory V (N*NW words,
//                       row j = the weights from the layer's own neuron j, same layout as W);
//                       every spike of step t, as it leaves through m_*, is queued (an N-entry
//                       queue) and delivered as an event through V during step t + 1. The
//                       token of step t + 1 is accepted only once step t's spikes and token
//                       have left and the queue is empty, so the sweep sees all of them.
//                       Queued spikes have priority over input events; the queue can never
//                       overflow (at most N spikes per step, drained before the next sweep).
//   BIAS                1: a bias memory (NW words of P*W_W bits, lane p = bias of neuron
//                       k*P + p) added to the accumulated input of every neuron at the sweep
//   AUX_SHIFT           recurrent weights and biases enter the accumulator shifted left by this
//                       (ACC_FRAC - weight fraction: nonzero only for a graded direct input)
//   V_FILE, BIAS_FILE   $readmemh files of the recurrent and bias memories ("" = zeros)
//   ST_I, ST_A          1: the state word stores I (needed by CubaLIF) / A (ALIF); 0: the
//                       field is not stored (the unit sees 0) and is absent from rd_data.
//                       U, S_prev and R are always stored.
//   KIND 5              a user-defined neuron: in place of snn_neuron_unit each lane runs
//                       snn_user_neuron (written by the generator: the neuron's integer program
//                       as a datapath of hw/snn_op_* primitives, chosen by USER_ID) on the raw
//                       stored states, registered like the unit (p3 -> p4); no decay stage, the
//                       built-in neuron parameters are ignored. State word per lane: {H, S,
//                       X[USER_NS-1] .. X[1], X[0]} (X: the states, U_W bits each, X[0] = U in
//                       the low bits, X[1..] in the I field; H, the height, only when
//                       USER_GRADED, else a 1-bit R field that stays 0; set ST_I = ST_A = 0,
//                       R_W = 1). USER_GRADED: the spikes carry H (U_W bits, signed) like an
//                       ASN's. USER_SAT_W: bits of a lane's clamp count per step and counter
//                       (a state assigned k times can clamp k times); the datapath maps its
//                       states (and the height) onto sat_u .. sat_h. USER_INIT: one lane's
//                       initial state word (the init pass and `clear` load it, not zeros).
//   SU                  sweep units (0: P; P % SU == 0; built-in kinds only): with SU < P the
//                       sweep updates a word's P lanes in G = P / SU groups of SU lanes, one
//                       group per cycle through SU units (a word issued every G cycles; a stage
//                       g3 registers the group's state words and inputs); the state memory is
//                       laid out by group (NW * G words of SU lanes, word k * G + g = group g
//                       of word k) and so is the read-back port (rd_addr one of NW * G words,
//                       rd_data SU lanes); the init pass takes NW * G cycles; weights,
//                       accumulators and events as with SU = P (hw/README.md, "Narrow sweep")
//
// Run-time writes: w_mem selects the memory (0 W, 1 V, 2 bias), w_addr the word (j*NW + k
// for W and V, k for the bias); writes past a memory's depth are ignored.
//
// Status: `idle` is high when nothing is in flight (no event, no sweep, no pending output);
// sat_*_count count saturations of each state since reset (real neurons only; P and H for
// ASN, where I is not used); step_count counts completed time steps. rd_en/rd_addr read one
// state word (P lanes, as stored; SU lanes with a narrow sweep) into rd_data on the next
// cycle; reads are honoured only outside a sweep (for readout and tests).
`default_nettype none

module snn_layer_core #(
    parameter integer N           = 10,
    parameter integer P           = 4,
    parameter integer M           = 12,
    parameter integer W_W         = 8,
    parameter integer IN_AW       = 4,
    parameter integer IN_PW       = 1,
    parameter integer GRADED      = 0,
    parameter integer HOLD        = 0,
    parameter integer OUT_AW      = 4,
    parameter integer OUT_PW      = 1,
    parameter integer ACC_W       = 16,
    parameter integer ACC_FRAC    = 6,
    parameter integer KIND        = 1,
    parameter integer RESET       = 0,
    parameter integer LEAK        = 1,
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
    parameter integer CNT_W       = 32,
    parameter         WEIGHT_FILE = "",
    parameter integer REC         = 0,
    parameter integer BIAS        = 0,
    parameter integer AUX_SHIFT   = 0,
    parameter         V_FILE      = "",
    parameter         BIAS_FILE   = "",
    parameter integer ST_I        = 1,
    parameter integer ST_A        = 1,
    /* verilator lint_off UNUSEDPARAM */           // used by KIND 5 only
    parameter integer USER_ID     = 0,
    /* verilator lint_on UNUSEDPARAM */
    parameter integer USER_NS     = 1,
    parameter integer USER_GRADED = 0,
    parameter integer USER_SAT_W  = 1,
    parameter [1023:0] USER_INIT  = 1024'd0,
    parameter integer SU          = 0
) (
    input  wire                 clk,
    input  wire                 rst,
    input  wire                 clear,       // re-zero neuron state and accumulators
    // input events
    input  wire                 s_valid,
    output wire                 s_ready,
    input  wire                 s_last,
    input  wire [IN_PW-1:0]     s_payload,
    input  wire [IN_AW-1:0]     s_addr,
    // output events
    output wire                 m_valid,
    input  wire                 m_ready,
    output wire                 m_last,
    output wire [OUT_PW-1:0]    m_payload,
    output wire [OUT_AW-1:0]    m_addr,
    // weight write port (w_mem 0: W, 1: V, 2: bias; word address row * ceil(N/P) + word)
    input  wire                 w_we,
    input  wire [1:0]           w_mem,
    input  wire [((((REC != 0 && N > M) ? N : M) * ((N + P - 1) / P) > 1) ?
                  $clog2(((REC != 0 && N > M) ? N : M) * ((N + P - 1) / P)) : 1) - 1:0] w_addr,
    input  wire [P*W_W-1:0]     w_data,
    // state readout (outside sweeps)
    input  wire                 rd_en,
    input  wire [(((N + P - 1) / P * (P / ((SU > 0) ? SU : P)) > 1) ?
                  $clog2((N + P - 1) / P * (P / ((SU > 0) ? SU : P))) : 1) - 1:0] rd_addr,
    output wire [((SU > 0) ? SU : P)*(U_W + ((KIND == 4) ? U_W : (KIND == 5) ? (USER_NS - 1) * U_W :
                          ((ST_I != 0) ? I_W : 0)) +
                    ((ST_A != 0 && KIND != 5) ? A_W : 0) + 1 +
                    ((KIND == 4 || (KIND == 5 && USER_GRADED != 0)) ? U_W : R_W))-1:0] rd_data,
    // status
    output wire                 idle,
    output reg  [CNT_W-1:0]     sat_u_count,
    output reg  [CNT_W-1:0]     sat_i_count,
    output reg  [CNT_W-1:0]     sat_a_count,
    output reg  [CNT_W-1:0]     sat_p_count,
    output reg  [CNT_W-1:0]     sat_h_count,
    output reg  [CNT_W-1:0]     step_count
);
    localparam integer NW     = (N + P - 1) / P;                 // words per row / per bank
    localparam integer KW     = (NW > 1) ? $clog2(NW) : 1;
    localparam integer WDEPTH = M * NW;
    localparam integer WA_W   = (WDEPTH > 1) ? $clog2(WDEPTH) : 1;
    localparam integer VDEPTH = N * NW;
    localparam integer VA_W   = (VDEPTH > 1) ? $clog2(VDEPTH) : 1;
    localparam integer EA_W   = (REC != 0 && VA_W > WA_W) ? VA_W : WA_W;   // ev_wa
    localparam integer EV_AW  = (REC != 0 && OUT_AW > IN_AW) ? OUT_AW : IN_AW;
    localparam integer RQ_W   = $clog2(N + 1);                       // queue count 0 .. N
    localparam integer RP_W   = (N > 1) ? $clog2(N) : 1;             // queue pointers
    localparam [RP_W-1:0] RQ_LAST = N[RP_W-1:0] - 1'b1;
    localparam integer LW     = (P > 1) ? $clog2(P) : 1;
    localparam IS_ASN = (KIND == 4);
    localparam IS_USER = (KIND == 5);                  // user-defined: snn_user_neuron
    localparam USER_H  = IS_USER && (USER_GRADED != 0);  // ... with graded events
    localparam integer SI_W   = IS_ASN ? U_W : IS_USER ? (USER_NS - 1) * U_W :
                                ((ST_I != 0) ? I_W : 0);   // I, ASN's P, user states 1..
    localparam integer SA_W   = (ST_A != 0 && !IS_USER) ? A_W : 0;   // stored field widths
    localparam integer F4_W   = (IS_ASN || USER_H) ? U_W : R_W;    // R, or ASN's / user H
    localparam integer SC_W   = IS_USER ? USER_SAT_W : 1;          // clamps per lane and step
    localparam integer OFF_I  = U_W;                                   // field offsets (I / P)
    localparam integer OFF_A  = OFF_I + SI_W;
    localparam integer OFF_S  = OFF_A + SA_W;
    localparam integer OFF_R  = OFF_S + 1;                             // R / H
    localparam integer ST_W   = OFF_R + F4_W;
    // the decays of the stored states happen in the stage before the neuron unit (every
    // kind: U and I; ASN also A and P, whose raw values the ASN update never uses)
    localparam integer PRE_DECAY = (KIND >= 0 && KIND <= 4) ? 1 : 0;
    localparam integer SQ_D   = 7;                 // spike queue entries = sweep credits
    localparam [2:0]   SQ_LAST = SQ_D[2:0] - 3'd1;
    localparam [KW-1:0] LAST_K = NW[KW-1:0] - 1'b1;
    // the sweep's units: SW neurons updated per cycle (SU; 0: P), P / SW = G groups per word;
    // SW < P (built-in kinds only) issues a sweep word every G cycles and takes it through the
    // SW units one group per cycle (hw/README.md, "Narrow sweep")
    localparam integer SW     = (SU > 0) ? SU : P;
    localparam integer G      = P / SW;
    localparam integer GW     = (G > 1) ? $clog2(G) : 1;
    localparam [GW-1:0] G_LAST = G[GW-1:0] - 1'b1;
    localparam integer UO_W   = 3 * U_W + I_W + A_W + R_W + 6;     // a unit's result bits
    // the state memory: NW words of P lanes (G = 1), or by group: SNW = NW * G words of SW
    // lanes, word k * G + g holding group g of word k (neurons (k * G + g) * SW + u)
    localparam integer SNW    = NW * G;
    localparam integer SKW    = (SNW > 1) ? $clog2(SNW) : 1;
    localparam [SKW-1:0] INIT_LAST = SNW[SKW-1:0] - 1'b1;
    localparam integer ONE = 1;
    localparam [OUT_PW-1:0] PAYLOAD_ONE = ONE[OUT_PW-1:0];

    // ------------------------------------------------------------------ memories
    // the weight, recurrent and bias memories are written (w_we) only while the core is idle,
    // never in the cycle of a read: no_rw_check spares the block RAMs Yosys's read-first
    // emulation (write data and address registered, compare, mux on the read data)
    (* no_rw_check *)
    reg [P*W_W-1:0]   wmem [0:WDEPTH-1];
    // the accumulator and state memories (u_amem, u_smem: snn_lane_mem, NW words) are below,
    // in flip-flops with a registered read address where NW <= SMALL_NW (too small for a block
    // RAM: the read data then goes straight into its pipeline register, which shares a logic
    // cell with the read multiplexer, instead of a read register and a copy of it), else as
    // block RAMs with a read register
    localparam integer SMALL_NW = 4;
    localparam SMALL = (NW <= SMALL_NW);

    generate
        if (WEIGHT_FILE != "") begin : g_wfile
            initial $readmemh(WEIGHT_FILE, wmem);
        end else begin : g_wzero
            integer wi;
            initial begin
                for (wi = 0; wi < WDEPTH; wi = wi + 1)
                    wmem[wi] = {(P * W_W){1'b0}};
            end
        end
    endgenerate

    // ------------------------------------------------------------------ control state
    reg            init_busy;
    reg [SKW-1:0]  init_k;                  // the init pass: SNW state words (NW accumulators)
    reg            ev_busy;                 // an event is issuing its NW words
    reg            ev_rec;                  // ... a recurrent one (row of V)
    reg [EA_W-1:0] ev_wa;                   // its current word's address (row * NW + k)
    reg [IN_PW-1:0] ev_pay;
    reg [KW-1:0]   ev_k;
    reg            sweep_pend;              // token accepted, sweep not finished
    reg [KW-1:0]   sw_k;
    reg            sw_issued;               // every word of the sweep has been issued
    reg            st0_valid;               // stage 0: the weight word read (event), the
    reg            st0_sweep;               // accumulator / state / bias reads issued
    reg            st0_rec;
    reg [KW-1:0]   st0_k;
    reg [IN_PW-1:0] st0_pay;
    reg            st0_lastword;
    reg            st1_valid;               // stage 1: memory data of one word available
    reg            st1_sweep;               // ... for the sweep (else for an event)
    reg            st1_rec;                 // ... for a recurrent event
    reg [KW-1:0]   st1_k;
    /* verilator lint_off UNUSEDSIGNAL */
    reg [IN_PW-1:0] st1_pay;                // used when GRADED
    /* verilator lint_on UNUSEDSIGNAL */
    reg            st1_lastword;
    // emitter: one word's spikes, then (for the last word) the token
    reg            em_valid;
    reg [P-1:0]    em_spk;
    reg [KW-1:0]   em_k;
    reg            em_last;
    reg            em_single;               // at most one spike pending in em_spk
    // sweep pipeline after st1: p2 (memory data registered), p3 (decayed state registered),
    // p4 (spikes registered)
    reg            p2_v, p2_last, p3_v, p3_last, p4_v, p4_last;
    reg [GW-1:0]   gc;                      // the group at p2 after the word's first cycle
    reg [GW-1:0]   p3_g;                    // the group at p3
    wire [GW-1:0]  g2_idx = p2_v ? {GW{1'b0}} : gc;   // the group at p2 (first: at p2_v)
    wire           g2_v   = p2_v || (gc != {GW{1'b0}});
    reg [GW-1:0]   sw_gap;                  // cycles until the next sweep word may issue
    // G > 1: a stage g3 between p2 and p3 (the group's state word and input selected)
    reg            g3_v, g3_last;
    reg [GW-1:0]   g3_g;
    reg [KW-1:0]   g3_k;
    wire           d_v = (G > 1) ? g3_v : g2_v;   // the decays' stage (p3 loads)
    /* verilator lint_off UNUSEDSIGNAL */
    /* verilator lint_off UNDRIVEN */          // (user-defined neurons have no units)
    wire [SW*UO_W-1:0] un_res;              // the units' results (combinational)
    wire [SW*UO_W-1:0] un_q;                // ... registered (p4): the state write's data
    /* verilator lint_on UNDRIVEN */
    /* verilator lint_on UNUSEDSIGNAL */
    reg [KW-1:0]   p2_k, p3_k, p4_k;
    reg [GW-1:0]   p4_g;                    // the group at p4 (G > 1: written per group)
    reg            p4g_v;                   // a group at p4 (G > 1 only; G = 1 writes at p4_v)
    wire [P-1:0]   p4_spk;                                  // the unit's registered outputs
    wire [P*SC_W-1:0] p4_sat_u, p4_sat_i, p4_sat_a, p4_sat_p, p4_sat_h;
    // spike queue (p4 -> emitter) and the sweep's credits (free queue entries not reserved)
    reg [P-1:0]    sq_spk  [0:SQ_D-1];
    reg [KW-1:0]   sq_k    [0:SQ_D-1];
    reg            sq_last [0:SQ_D-1];
    reg            sq_one  [0:SQ_D-1];      // at most one spike in the entry
    reg [2:0]      sq_wp, sq_rp;
    reg [2:0]      sq_cnt, sw_cred;
    wire           sq_push, sw_rel;

    wire st1_adv;
    wire st0_sw = st0_valid && st0_sweep;    // a sweep word in stage 0 / stage 1
    wire st1_sw = st1_valid && st1_sweep;
    wire em_free;
    wire em_fire;                            // the emitter's event is taken (by the slice)
    wire em_ready;                           // the output slice can take it (registered)
    wire [OUT_AW-1:0] em_addr;               // the emitter's event
    wire em_token;                           // ... and it is the token

    /* verilator lint_off WIDTHEXPAND */
    wire s_in_range = (s_addr < M);                     // unsigned compare
    /* verilator lint_on WIDTHEXPAND */

    // recurrent spike queue (REC): spikes of step t, delivered during step t + 1
    wire            rq_valid;
    wire [EV_AW-1:0] rq_head;                // the oldest queued spike (neuron index)
    // intake: one event (queued spike first, then the input stream) per NW cycles
    wire take   = !init_busy && !sweep_pend && (!ev_busy || ev_k == LAST_K);
    wire r_fire = take && rq_valid;
    wire tok_ok = (REC == 0) ||                          // step t's spikes all queued
                  (!em_valid && !st1_sw && !g2_v && !g3_v && !p3_v && !p4_v &&
                   sq_cnt == 3'd0);
    assign s_ready = take && !rq_valid && (!s_last || tok_ok);
    wire s_fire   = s_valid && s_ready;

    wire st1_free = !st1_valid || st1_adv;
    wire ev_issue = ev_busy;
    // a sweep word is issued with a reserved spike-queue entry, and not before an older write
    // of the same state word (the previous sweep's) is done: the next sweep reads a word at
    // least NW + 2 cycles after the last read, which is written back 4 cycles after it, so only
    // NW <= 2 needs the check
    wire sw_cred_ok = (sw_cred != 3'd0);
    wire sw_haz = (NW <= 2) &&
                  ((st0_sw && st0_k == sw_k) || (st1_sw && st1_k == sw_k) ||
                   (p2_v && p2_k == sw_k) || (p3_v && p3_k == sw_k));
    // with G groups a word stays G cycles in p2: one word every G cycles
    wire sw_gap_ok = (G == 1) || (sw_gap == {GW{1'b0}});
    wire sw_issue = sweep_pend && !ev_busy && !sw_issued && st1_free && !init_busy &&
                    sw_cred_ok && !sw_haz && sw_gap_ok;

    // ------------------------------------------------------------------ weight memory
    reg [P*W_W-1:0] w_q;
    /* verilator lint_off UNUSEDSIGNAL */
    /* verilator lint_off WIDTHEXPAND */
    wire [31:0] w_wfull      = w_addr;                 // write address, zero-extended
    // the first word of a new event's row: row * NW as a sum of shifted rows (NW is a
    // constant: an adder or two, never a multiplier), registered into ev_wa at the intake
    wire [31:0] ev_row_in    = rq_valid ? rq_head : s_addr;   // zero-extended (r_fire needs
                                                                // rq_valid, s_fire its absence)
    reg  [31:0] ev_row_base;
    integer fb;
    always @* begin
        ev_row_base = 32'd0;
        for (fb = 0; fb < 31; fb = fb + 1)
            if (((NW >> fb) & 1) != 0)
                ev_row_base = ev_row_base + (ev_row_in << fb);
    end
    /* verilator lint_on WIDTHEXPAND */
    /* verilator lint_on UNUSEDSIGNAL */
    wire [WA_W-1:0] w_raddr = ev_wa[WA_W-1:0];
    // read at issue, then the RAM's output register (st0): the accumulate stage (st1) adds a
    // registered weight
    reg [P*W_W-1:0] w_ram;
    always @(posedge clk) begin
        if (ev_issue && !ev_rec)
            w_ram <= wmem[w_raddr];
    end
    always @(posedge clk) begin
        if (st0_valid && !st0_sweep && !st0_rec)
            w_q <= w_ram;
    end
    always @(posedge clk) begin
        if (w_we && w_mem == 2'd0 && w_wfull < WDEPTH)
            wmem[w_wfull[WA_W-1:0]] <= w_data;
    end

    // recurrent weights V and the spike queue
    wire [P*W_W-1:0] v_rd;
    generate
        if (REC != 0) begin : g_rec
            (* no_rw_check *)
            reg [P*W_W-1:0] vmem [0:VDEPTH-1];
            reg [P*W_W-1:0] v_q;
            reg [P*W_W-1:0] v_ram;
            if (V_FILE != "") begin : g_vfile
                initial $readmemh(V_FILE, vmem);
            end else begin : g_vzero
                integer vi;
                initial begin
                    for (vi = 0; vi < VDEPTH; vi = vi + 1)
                        vmem[vi] = {(P * W_W){1'b0}};
                end
            end
            always @(posedge clk) begin
                if (ev_issue && ev_rec)
                    v_ram <= vmem[ev_wa[VA_W-1:0]];
            end
            always @(posedge clk) begin
                if (st0_valid && !st0_sweep && st0_rec)
                    v_q <= v_ram;
            end
            always @(posedge clk) begin
                if (w_we && w_mem == 2'd1 && w_wfull < VDEPTH)
                    vmem[w_wfull[VA_W-1:0]] <= w_data;
            end
            assign v_rd = v_q;

            // queue of this layer's spikes (neuron indices), filled as they leave, in order
            reg [OUT_AW-1:0] rq_mem [0:N-1];
            reg [RP_W-1:0]   rq_wp, rq_rp;
            reg [RQ_W-1:0]   rq_cnt;
            wire rq_push = em_fire && !em_token;
            always @(posedge clk) begin
                if (rq_push)
                    rq_mem[rq_wp] <= em_addr;
            end
            always @(posedge clk) begin
                if (rst || clear) begin
                    rq_wp  <= {RP_W{1'b0}};
                    rq_rp  <= {RP_W{1'b0}};
                    rq_cnt <= {RQ_W{1'b0}};
                end else begin
                    if (rq_push)
                        rq_wp <= (rq_wp == RQ_LAST) ? {RP_W{1'b0}} : rq_wp + 1'b1;
                    if (r_fire)
                        rq_rp <= (rq_rp == RQ_LAST) ? {RP_W{1'b0}} : rq_rp + 1'b1;
                    if (rq_push && !r_fire)
                        rq_cnt <= rq_cnt + 1'b1;
                    else if (r_fire && !rq_push)
                        rq_cnt <= rq_cnt - 1'b1;
                end
            end
            assign rq_valid = (rq_cnt != {RQ_W{1'b0}});
            /* verilator lint_off WIDTHEXPAND */
            assign rq_head  = rq_mem[rq_rp];         // zero-extended (EV_AW >= OUT_AW)
            /* verilator lint_on WIDTHEXPAND */
        end else begin : g_norec
            assign v_rd     = {(P * W_W){1'b0}};
            assign rq_valid = 1'b0;
            assign rq_head  = {EV_AW{1'b0}};
        end
    endgenerate

    // bias memory, read with the accumulators at the sweep
    wire [P*W_W-1:0] b_rd;
    generate
        if (BIAS != 0) begin : g_bias
            (* no_rw_check *)
            reg [P*W_W-1:0] bmem [0:NW-1];
            reg [P*W_W-1:0] b_q;
            if (BIAS_FILE != "") begin : g_bfile
                initial $readmemh(BIAS_FILE, bmem);
            end else begin : g_bzero
                integer bi;
                initial begin
                    for (bi = 0; bi < NW; bi = bi + 1)
                        bmem[bi] = {(P * W_W){1'b0}};
                end
            end
            always @(posedge clk) begin
                if (st1_sw)
                    b_q <= bmem[st1_k];
            end
            always @(posedge clk) begin
                if (w_we && w_mem == 2'd2 && w_wfull < NW)
                    bmem[w_wfull[KW-1:0]] <= w_data;
            end
            assign b_rd = b_q;
        end else begin : g_nobias
            assign b_rd = {(P * W_W){1'b0}};
        end
    endgenerate

    // ------------------------------------------------------------------ accumulator memory
    // an event word's read is issued with the weight read, through the RAM's read register
    // (st0, a_ram) and an output register (a_q, st1); a sweep word's is issued at st1, and a_q
    // (a_ram + bias, loaded at p2) is the neuron unit's input at p3. A read can miss a write
    // of its own word only where NW <= 2 (always a flip-flop memory): words of one event are
    // different, events are NW cycles apart and written back 2 cycles after their issue, the
    // sweep reads after the last event word's write and clears each word at p2, 2 cycles
    // before the next event's read of word 0 at the earliest. There the write at a read's
    // issue reaches a_ram through the memory (registered address, combinational read), and
    // the write at its st0 is forwarded into a_q; with NW >= 3 there is no forwarding logic.
    localparam FWD = (NW <= 2);
    wire               a_re    = ev_issue || st1_sw;
    wire [KW-1:0]      a_raddr = ev_issue ? ev_k : st1_k;
    /* verilator lint_off WIDTHEXPAND */
    wire               a_init  = init_busy && (G == 1 || init_k < NW);   // (G > 1: SNW > NW)
    /* verilator lint_on WIDTHEXPAND */
    // (HOLD: the sweep reads the words and leaves them; the init pass still clears them)
    wire               a_we    = a_init || (st1_valid && !st1_sweep) || (p2_v && HOLD == 0);
    wire [KW-1:0]      a_waddr = init_busy ? init_k[KW-1:0] : p2_v ? p2_k : st1_k;
    wire [P*ACC_W-1:0] ev_sum;
    wire [P*ACC_W-1:0] a_sw_in;             // a sweep word's a_ram + bias (the lanes)
    wire [P*ACC_W-1:0] a_wdata = (init_busy || p2_v) ? {(P * ACC_W){1'b0}} : ev_sum;
    wire               a_ev_ld = st0_valid && !st0_sweep;   // an event word's read at st0
    wire [P*ACC_W-1:0] a_ram;               // the word read, the cycle after a_re
    reg  [P*ACC_W-1:0] a_q;
    snn_lane_mem #(.P(P), .N(N), .NW(NW), .W(ACC_W), .KW(KW), .SMALL(SMALL ? 1 : 0),
                   .FILL({ACC_W{1'b0}})) u_amem (
        .clk(clk), .re(a_re), .raddr(a_raddr), .we(a_we), .waddr(a_waddr), .wdata(a_wdata),
        .rdata(a_ram));
    wire a_hit0 = FWD && a_we && (a_waddr == st0_k);   // a write met at st0 (forwarded)
    always @(posedge clk) begin
        if (p2_v)
            a_q <= a_sw_in;
        else if (a_ev_ld)
            a_q <= a_hit0 ? a_wdata : a_ram;
    end
    wire [P*ACC_W-1:0] a_rd = a_q;

    // ------------------------------------------------------------------ state memory
    wire              rd_ok   = rd_en && !sweep_pend && !init_busy && !st1_sw && !g2_v && !g3_v &&
                                !p3_v && !p4_v;
    // G = 1: a sweep word's read is issued at st0 and registered at st1 into each lane's p2
    // copy. G > 1: group g's word (k * G + g) is read the cycle before the group is at p2
    // (group 0 at st1, group g + 1 while group g is at p2), straight into the units' g3
    // registers; each group is written back at p4 from the units' result registers
    /* verilator lint_off UNUSEDSIGNAL */
    /* verilator lint_off WIDTHEXPAND */
    wire [31:0]       sa_first = st1_k * G;                    // group 0 of the word at st1
    wire [31:0]       sa_next  = p2_k * G + g2_idx + 1;        // the group after the one at p2
    wire [31:0]       sa_write = p4_k * G + p4_g;              // the group at p4
    /* verilator lint_on WIDTHEXPAND */
    /* verilator lint_on UNUSEDSIGNAL */
    wire              sg_re   = st1_sw || (g2_v && g2_idx != G_LAST);
    wire              s_re    = ((G == 1) ? st0_sw : sg_re) || rd_ok;
    /* verilator lint_off WIDTHEXPAND */      // (G = 1: SKW = KW)
    wire [SKW-1:0]    s_raddr = (G == 1) ? (st0_sw ? st0_k : rd_addr) :
                                st1_sw ? sa_first[SKW-1:0] : g2_v ? sa_next[SKW-1:0] : rd_addr;
    wire              s_we    = init_busy || ((G == 1) ? p4_v : p4g_v);
    wire [SKW-1:0]    s_waddr = init_busy ? init_k : (G == 1) ? p4_k : sa_write[SKW-1:0];
    /* verilator lint_on WIDTHEXPAND */
    wire [SW*ST_W-1:0] new_state;
    // initial state: zeros (a user-defined neuron: its states' initial values, USER_INIT)
    localparam [ST_W-1:0] INIT_LANE = IS_USER ? USER_INIT[ST_W-1:0] : {ST_W{1'b0}};
    // the init pass writes the lanes' result registers (p4), which hold INIT_LANE from the
    // cycle of rst / clear to the end of the pass (st_clr): the write data needs no
    // multiplexer (17 logic cells per lane on the iCE40 for a LIF lane)
    wire              st_clr  = rst || clear || init_busy;
    localparam [ST_W+U_W-1:0] INIT_PAD = {{U_W{1'b0}}, INIT_LANE};   // H field always in range
    wire [SW*ST_W-1:0] s_wdata = new_state;
    wire [SW*ST_W-1:0] s_q;                 // the word read, the cycle after s_re
    // never read and written at one address in a cycle (a sweep reads a word at least NW + 2
    // cycles after its previous read, written back 4 cycles after it, G > 1: each group's
    // word once per sweep, written back 4 cycles after its read is issued; readout only outside
    // sweeps and the init pass); a lane without a neuron reads its initial state
    localparam S_SMALL = (SNW <= SMALL_NW);
    snn_lane_mem #(.P(SW), .N(N), .NW(SNW), .W(ST_W), .KW(SKW), .SMALL(S_SMALL ? 1 : 0),
                   .FILL(INIT_LANE)) u_smem (
        .clk(clk), .re(s_re), .raddr(s_raddr), .we(s_we), .waddr(s_waddr), .wdata(s_wdata),
        .rdata(s_q));
    assign rd_data = s_q;

    // ------------------------------------------------------------------ lanes
    wire [P-1:0] lane_spk;
    wire [P*SC_W-1:0] lane_sat_u;            // clamps per lane (SC_W bits each)
    wire [P*SC_W-1:0] lane_sat_i;
    wire [P*SC_W-1:0] lane_sat_a;
    wire [P*SC_W-1:0] lane_sat_p;
    wire [P*SC_W-1:0] lane_sat_h;
    wire [P*U_W-1:0] lane_h;                 // ASN / graded user: each lane's payload
    wire [P-1:0] lane_real;                  // lane holds a neuron < N

    genvar p;
    generate
        for (p = 0; p < P; p = p + 1) begin : g_lane
            // event accumulation: acc += W (* payload), or V << AUX_SHIFT for a recurrent event
            wire signed [W_W-1:0]   w     = w_q[p*W_W +: W_W];
            wire signed [W_W-1:0]   v     = v_rd[p*W_W +: W_W];
            wire signed [W_W-1:0]   bias  = b_rd[p*W_W +: W_W];
            wire signed [ACC_W-1:0] v_ext;
            wire signed [ACC_W-1:0] b_ext;
            /* verilator lint_off WIDTHEXPAND */
            assign v_ext = v;                // sign-extends
            assign b_ext = bias;
            /* verilator lint_on WIDTHEXPAND */
            wire signed [ACC_W-1:0] a_old = a_rd[p*ACC_W +: ACC_W];
            wire signed [ACC_W-1:0] addend;
            wire signed [ACC_W-1:0] ff_addend;
            assign addend = st1_rec ? (v_ext <<< AUX_SHIFT) : ff_addend;
            // the neuron's input: the accumulator plus the bias (section 1.3), added at p2
            // into a_q, which holds it through p3 (the unit's acc)
            wire signed [ACC_W-1:0] a_swr = a_ram[p*ACC_W +: ACC_W];
            assign a_sw_in[p*ACC_W +: ACC_W] = a_swr + (b_ext <<< AUX_SHIFT);
            if (GRADED != 0) begin : g_graded
                wire signed [IN_PW-1:0]     pay  = st1_pay;
                wire signed [W_W+IN_PW-1:0] prod = w * pay;
                /* verilator lint_off WIDTHEXPAND */
                /* verilator lint_off WIDTHTRUNC */
                assign ff_addend = prod;  // sign-extends (or keeps the low ACC_W bits)
                /* verilator lint_on WIDTHTRUNC */
                /* verilator lint_on WIDTHEXPAND */
            end else begin : g_plain
                /* verilator lint_off WIDTHEXPAND */
                /* verilator lint_off WIDTHTRUNC */
                assign ff_addend = w;
                /* verilator lint_on WIDTHTRUNC */
                /* verilator lint_on WIDTHEXPAND */
            end
            assign ev_sum[p*ACC_W +: ACC_W] = a_old + addend;

            // end-of-step neuron update: G = 1: the stored word registered in p2 (p2_st), the
            // fields (absent ones read 0) with the stored states decayed registered in p3 (U
            // and I; ASN: U, A and P), the results registered per lane (q_res) in p4, where the
            // word is written back. G > 1: one group per cycle through the SW units, its stored
            // word read into g3 (g_sel), each group written back from the units' result
            // registers, the word's spikes complete in p4 (the earlier groups' held per lane)
            /* verilator lint_off UNUSEDSIGNAL */
            wire [ST_W-1:0]        p2_st;
            /* verilator lint_on UNUSEDSIGNAL */
            if (G == 1) begin : g_p2
                reg [ST_W-1:0] p2_q;
                always @(posedge clk) begin
                    if (st1_valid && st1_sweep)
                        p2_q <= s_q[p*ST_W +: ST_W];
                end
                assign p2_st = p2_q;
            end else begin : g_no_p2
                assign p2_st = {ST_W{1'b0}};
            end
            wire                  s_new;
            /* verilator lint_off UNUSEDSIGNAL */   // per kind and ST_I / ST_A: I, A and R, or P and H
            wire signed [U_W-1:0] u_new;            // (the state write takes the units' own)
            wire signed [I_W-1:0] i_new;
            wire signed [A_W-1:0] a_new;
            wire [R_W-1:0]        r_new;
            wire signed [U_W-1:0] p_new, h_new;
            /* verilator lint_on UNUSEDSIGNAL */
            wire [SC_W-1:0]       sat_u, sat_i, sat_a, sat_p, sat_h;   // clamps (counts)
            if (IS_USER) begin : g_user
                // a user-defined neuron (KIND 5; SW = P, one group): snn_user_neuron (written
                // by the generator) on the raw stored states (no decay stage), its result
                // registered like the unit's (p3 -> p4); state 0 is U, states 1.. sit in the I
                // field, H (graded) in the R field
                reg  [USER_NS*U_W-1:0] p3_x;
                always @(posedge clk) begin
                    if (p2_v)
                        p3_x <= p2_st[0 +: USER_NS*U_W];
                end
                wire [USER_NS*U_W-1:0] x_nxt;
                wire                   s_nxt;
                wire [U_W-1:0]         h_nxt;
                wire [5*SC_W-1:0]      c_nxt;
                snn_user_neuron #(.USER_ID(USER_ID), .ACC_W(ACC_W), .U_W(U_W), .NS(USER_NS),
                                  .SAT_W(SC_W)) u_user (
                    .acc(a_old), .x_in(p3_x), .x_out(x_nxt), .s_out(s_nxt), .h_out(h_nxt),
                    .sat(c_nxt));
                reg  [USER_NS*U_W-1:0] x_r;
                reg                    s_r;
                reg  [U_W-1:0]         h_r;
                reg  [5*SC_W-1:0]      c_r;
                // loaded with the initial state during the init pass (st_clr): the state
                // memory's write data is this register alone, no multiplexer in front of it
                always @(posedge clk) begin
                    if (st_clr) begin
                        x_r <= INIT_LANE[0 +: USER_NS*U_W];
                        s_r <= INIT_LANE[OFF_S];
                        h_r <= USER_H ? INIT_PAD[OFF_R +: U_W] : {U_W{1'b0}};
                        c_r <= {(5 * SC_W){1'b0}};
                    end else if (p3_v) begin
                        x_r <= x_nxt;
                        s_r <= s_nxt;
                        h_r <= USER_H ? h_nxt : {U_W{1'b0}};
                        c_r <= c_nxt;
                    end
                end
                assign u_new = x_r[0 +: U_W];
                assign s_new = s_r;
                assign h_new = h_r;
                assign {i_new, a_new, r_new, p_new} = {(I_W + A_W + R_W + U_W){1'b0}};
                assign {sat_h, sat_p, sat_a, sat_i, sat_u} = c_r;
                assign new_state[p*ST_W +: U_W]   = u_new;
                assign new_state[p*ST_W + OFF_S] = s_new;
                if (USER_NS > 1) begin : g_wx
                    assign new_state[p*ST_W + OFF_I +: SI_W] = x_r[U_W +: SI_W];
                end
                if (USER_H) begin : g_wh
                    assign new_state[p*ST_W + OFF_R +: U_W] = h_r;
                end else begin : g_wr
                    assign new_state[p*ST_W + OFF_R +: R_W] = {R_W{1'b0}};
                end
            end else begin : g_builtin
                if (p < SW) begin : g_unit
                    // sweep unit p: lane g * SW + p of the word in group g. With G > 1 the
                    // group's stored word (read the cycle before) is registered at p2 into
                    // g3_st and its input selected from a_q at g3 into p3_acc (a register
                    // behind the multiplexer, so the leak's tree and the unit start from
                    // registers as with G = 1); the decays run at g3
                    wire [ST_W-1:0] st;
                    wire signed [ACC_W-1:0] u_acc;
                    if (G > 1) begin : g_sel
                        reg [ST_W-1:0]         g3_st;
                        reg signed [ACC_W-1:0] p3_acc;
                        always @(posedge clk) begin
                            if (g2_v)
                                g3_st  <= s_q[p*ST_W +: ST_W];
                            if (g3_v)
                                p3_acc <= a_rd[(g3_g * SW + p) * ACC_W +: ACC_W];
                        end
                        assign st    = g3_st;
                        assign u_acc = p3_acc;
                    end else begin : g_direct
                        assign st    = p2_st;
                        assign u_acc = a_old;
                    end
                    wire signed [I_W-1:0] st_i;
                    wire signed [A_W-1:0] st_a;
                    wire signed [U_W-1:0] st_p;
                    wire [R_W-1:0]        st_r;
                    if (IS_ASN) begin : g_st_asn
                        assign st_i = {I_W{1'b0}};
                        assign st_p = st[OFF_I +: U_W];
                        assign st_r = {R_W{1'b0}};
                    end else begin : g_st_builtin
                        if (ST_I != 0) begin : g_si
                            assign st_i = st[OFF_I +: I_W];
                        end else begin : g_no_si
                            assign st_i = {I_W{1'b0}};
                        end
                        assign st_p = {U_W{1'b0}};
                        assign st_r = st[OFF_R +: R_W];
                    end
                    if (ST_A != 0) begin : g_sa
                        assign st_a = st[OFF_A +: A_W];
                    end else begin : g_no_sa
                        assign st_a = {A_W{1'b0}};
                    end
                    wire signed [U_W-1:0] u_dec;
                    wire signed [I_W-1:0] i_dec;
                    wire signed [A_W-1:0] a_pre;
                    wire signed [U_W-1:0] p_pre;
                    snn_decay #(.W(U_W), .LEAK((PRE_DECAY != 0 && KIND != 0) ? LEAK : 0),
                                .COEF(MEM_DECAY)) u_pre_u (.din(st[0 +: U_W]), .dout(u_dec));
                    snn_decay #(.W(I_W), .LEAK((PRE_DECAY != 0) ? LEAK : 0), .COEF(SYN_DECAY))
                        u_pre_i (.din(st_i), .dout(i_dec));
                    if (IS_ASN && PRE_DECAY != 0) begin : g_pre_asn
                        // ASN: A = decay_g(A), P = decay_e(P) (the unit sees only the decayed
                        // values)
                        snn_decay #(.W(A_W), .LEAK(LEAK), .COEF(ADAPT_DECAY))
                            u_pre_a (.din(st_a), .dout(a_pre));
                        snn_decay #(.W(U_W), .LEAK(LEAK), .COEF(PRED_DECAY))
                            u_pre_p (.din(st_p), .dout(p_pre));
                    end else begin : g_pre_raw
                        assign a_pre = st_a;                 // ALIF needs the raw A (th_prev)
                        assign p_pre = st_p;
                    end
                    reg signed [U_W-1:0]   p3_u;
                    reg signed [I_W-1:0]   p3_i;
                    reg signed [A_W-1:0]   p3_a;
                    reg signed [U_W-1:0]   p3_p;
                    reg                    p3_s;
                    reg [R_W-1:0]          p3_r;
                    always @(posedge clk) begin
                        if (d_v) begin
                            p3_u   <= u_dec;
                            p3_i   <= i_dec;
                            p3_a   <= a_pre;
                            p3_p   <= p_pre;
                            p3_s   <= st[OFF_S];
                            p3_r   <= st_r;
                        end
                    end
                    /* verilator lint_off UNUSEDSIGNAL */
                    wire                  nu_in_ready, nu_out_valid;
                    wire                  nu_tag;
                    /* verilator lint_on UNUSEDSIGNAL */
                    wire signed [U_W-1:0] c_u, c_p, c_h;
                    wire signed [I_W-1:0] c_i;
                    wire signed [A_W-1:0] c_a;
                    wire [R_W-1:0]        c_r;
                    wire                  c_s, c_su, c_si, c_sa, c_sp, c_sh;
                    // combinational (LATENCY 0); its result is registered per lane (q_*)
                    snn_neuron_unit #(
                        .KIND(KIND), .RESET(RESET), .LEAK(LEAK),
                        .ACC_W(ACC_W), .ACC_FRAC(ACC_FRAC),
                        .U_W(U_W), .U_FRAC(U_FRAC), .I_W(I_W), .I_FRAC(I_FRAC),
                        .A_W(A_W), .A_FRAC(A_FRAC), .R_W(R_W),
                        .MEM_DECAY(MEM_DECAY), .SYN_DECAY(SYN_DECAY), .ADAPT_DECAY(ADAPT_DECAY),
                        .PRED_DECAY(PRED_DECAY), .THRESHOLD(THRESHOLD), .BETA(BETA), .M_F(M_F),
                        .REFRACTORY(REFRACTORY),
                        .TAG_W(1), .LATENCY(0), .DECAYED_IN(PRE_DECAY)
                    ) u_neuron (
                        .clk(clk), .rst(rst),
                        .in_valid(p3_v), .in_ready(nu_in_ready), .in_tag(1'b0),
                        .acc(u_acc),
                        .u_in(p3_u), .i_in(p3_i), .a_in(p3_a), .p_in(p3_p),
                        .s_in(p3_s), .r_in(p3_r),
                        .out_valid(nu_out_valid), .out_ready(1'b1), .out_tag(nu_tag),
                        .u_out(c_u), .i_out(c_i), .a_out(c_a), .p_out(c_p), .h_out(c_h),
                        .s_out(c_s), .r_out(c_r),
                        .sat_u(c_su), .sat_i(c_si), .sat_a(c_sa), .sat_p(c_sp), .sat_h(c_sh));
                    assign un_res[p*UO_W +: UO_W] = {c_u, c_p, c_h, c_i, c_a, c_r, c_s,
                                                     c_su, c_si, c_sa, c_sp, c_sh};
                end
                // this lane's result (in un_res's order) as its word leaves p4. G = 1: the
                // lane's unit result register (q_res, un_q), which the init pass (st_clr)
                // zeroes: the state memory's write data is the register alone, no multiplexer
                // in front of it. G > 1: the units' registers hold the group at p4 (written
                // back from there); a lane of an earlier group holds its result (q_hold) until
                // the word's last group is at p4
                localparam integer UNIT  = p % SW;
                localparam integer GRP_I = p / SW;
                localparam [GW-1:0] GRP  = GRP_I[GW-1:0];
                wire [UO_W-1:0] q_lane;
                if (p < SW) begin : g_q
                    reg [UO_W-1:0] q_res;
                    always @(posedge clk) begin
                        if (st_clr)
                            q_res <= {UO_W{1'b0}};
                        else if (p3_v)
                            q_res <= un_res[p*UO_W +: UO_W];
                    end
                    assign un_q[p*UO_W +: UO_W] = q_res;
                    // the state write's data (lane p of the word at G = 1, of the group at G > 1)
                    /* verilator lint_off UNUSEDSIGNAL */   // per kind and ST_I / ST_A
                    wire signed [U_W-1:0] w_u, w_p, w_h;
                    wire signed [I_W-1:0] w_i;
                    wire signed [A_W-1:0] w_a;
                    wire [R_W-1:0]        w_r;
                    wire                  w_s;
                    wire [4:0]            w_sat;
                    /* verilator lint_on UNUSEDSIGNAL */
                    assign {w_u, w_p, w_h, w_i, w_a, w_r, w_s, w_sat} = q_res;
                    assign new_state[p*ST_W +: U_W]   = w_u;
                    assign new_state[p*ST_W + OFF_S] = w_s;
                    if (IS_ASN) begin : g_w_asn
                        assign new_state[p*ST_W + OFF_I +: U_W] = w_p;
                        assign new_state[p*ST_W + OFF_R +: U_W] = w_h;
                    end else begin : g_w_builtin
                        assign new_state[p*ST_W + OFF_R +: R_W] = w_r;
                        if (ST_I != 0) begin : g_wi
                            assign new_state[p*ST_W + OFF_I +: I_W] = w_i;
                        end
                    end
                    if (ST_A != 0) begin : g_wa
                        assign new_state[p*ST_W + OFF_A +: A_W] = w_a;
                    end
                end
                if (GRP_I == G - 1) begin : g_now
                    assign q_lane = un_q[UNIT*UO_W +: UO_W];
                end else begin : g_hold
                    reg [UO_W-1:0] q_hold;   // (only its spike, clamps and height are used)
                    always @(posedge clk) begin
                        if (p4g_v && p4_g == GRP)
                            q_hold <= un_q[UNIT*UO_W +: UO_W];
                    end
                    assign q_lane = q_hold;
                end
                assign {u_new, p_new, h_new, i_new, a_new, r_new, s_new,
                        sat_u, sat_i, sat_a, sat_p, sat_h} = q_lane;
            end
            assign lane_h[p*U_W +: U_W] = h_new;
            // the lane holds a neuron (< N): from p3's word index, registered with the result
            /* verilator lint_off UNUSEDSIGNAL */
            wire [31:0] n_index = p3_k * P + p;
            /* verilator lint_on UNUSEDSIGNAL */
            reg p4_real;
            always @(posedge clk) begin
                if (p3_v)
                    p4_real <= (n_index < N);
            end
            assign lane_real[p]  = p4_real;
            assign lane_spk[p]   = s_new && lane_real[p];
            assign lane_sat_u[p*SC_W +: SC_W] = lane_real[p] ? sat_u : {SC_W{1'b0}};
            assign lane_sat_i[p*SC_W +: SC_W] = lane_real[p] ? sat_i : {SC_W{1'b0}};
            assign lane_sat_a[p*SC_W +: SC_W] = lane_real[p] ? sat_a : {SC_W{1'b0}};
            assign lane_sat_p[p*SC_W +: SC_W] = lane_real[p] ? sat_p : {SC_W{1'b0}};
            assign lane_sat_h[p*SC_W +: SC_W] = lane_real[p] ? sat_h : {SC_W{1'b0}};
        end
    endgenerate

    // ------------------------------------------------------------------ stage-1 advance
    assign st1_adv = st1_valid;                            // the pipeline never stalls
    // the sweep ends (the next step's events are taken) when its last word has passed st0;
    // with G > 1 when the last word's last group takes its input from a_q (g3), so that no
    // event's read replaces a_q before that group has used it
    wire sweep_done = (G == 1) ? (st0_sw && st0_lastword)
                               : (g3_v && g3_g == G_LAST && g3_last);

    // ------------------------------------------------------------------ spike queue
    // p4 words with a spike (and the last word, for the token) enter the queue; the others
    // give their credit back at once. The emitter loads from the queue only (one cycle after
    // the push at the earliest)
    assign sq_push = p4_v && ((|p4_spk) || p4_last);
    assign sw_rel  = p4_v && !sq_push;
    wire   sq_empty = (sq_cnt == 3'd0);
    wire   sq_pop   = !sq_empty && em_free;
    wire   sq_wr    = sq_push;                            // every such word goes through it
    wire   em_load  = sq_pop;
    // whether at most one of the word's spikes is set, computed at p4 and queued with it (off
    // the emitter's load path)
    wire   p4_single = ((p4_spk & (p4_spk - 1'b1)) == {P{1'b0}});
    always @(posedge clk) begin
        if (sq_wr) begin
            sq_spk[sq_wp]  <= p4_spk;
            sq_k[sq_wp]    <= p4_k;
            sq_last[sq_wp] <= p4_last;
            sq_one[sq_wp]  <= p4_single;
        end
    end
    always @(posedge clk) begin
        if (rst || clear) begin
            p2_v    <= 1'b0;
            p3_v    <= 1'b0;
            p4_v    <= 1'b0;
            p4g_v   <= 1'b0;
            gc      <= {GW{1'b0}};
            g3_v    <= 1'b0;
            sq_wp   <= 3'd0;
            sq_rp   <= 3'd0;
            sq_cnt  <= 3'd0;
            sw_cred <= SQ_D[2:0];
        end else begin
            p2_v <= st1_valid && st1_sweep;
            g3_v <= (G > 1) && g2_v;
            p3_v <= d_v;
            p4_v <= p3_v && (p3_g == G_LAST);      // the word's last group: the word done
            p4g_v <= p3_v;
            gc   <= (g2_v && g2_idx != G_LAST) ? g2_idx + 1'b1 : {GW{1'b0}};
            if (sq_wr)
                sq_wp <= (sq_wp == SQ_LAST) ? 3'd0 : sq_wp + 3'd1;
            if (sq_pop)
                sq_rp <= (sq_rp == SQ_LAST) ? 3'd0 : sq_rp + 3'd1;
            sq_cnt  <= sq_cnt + {2'b0, sq_wr} - {2'b0, sq_pop};
            sw_cred <= sw_cred + {2'b0, sw_rel} + {2'b0, em_load} - {2'b0, sw_issue};
        end
    end
    always @(posedge clk) begin
        p2_k    <= st1_k;
        p2_last <= st1_lastword;
        g3_k    <= p2_k;
        g3_g    <= g2_idx;
        g3_last <= p2_last;
        p3_k    <= (G > 1) ? g3_k : p2_k;
        p3_g    <= (G > 1) ? g3_g : g2_idx;
        p3_last <= (G > 1) ? g3_last : p2_last;
        p4_k    <= p3_k;
        p4_g    <= p3_g;
        p4_last <= p3_last;
    end
    assign p4_spk   = lane_spk;
    assign p4_sat_u = lane_sat_u;
    assign p4_sat_i = lane_sat_i;
    assign p4_sat_a = lane_sat_a;
    assign p4_sat_p = lane_sat_p;
    assign p4_sat_h = lane_sat_h;

    // ------------------------------------------------------------------ emitter
    wire [P-1:0] em_low  = em_spk & (~em_spk + 1'b1);   // lowest pending spike, one-hot
    wire [P-1:0] em_rest = em_spk & ~em_low;
    assign       em_token = (em_spk == {P{1'b0}});      // all spikes out: the token
    reg  [LW-1:0] em_idx;
    integer j;
    always @* begin
        em_idx = {LW{1'b0}};
        for (j = P - 1; j >= 0; j = j - 1)
            if (em_spk[j])
                em_idx = j[LW-1:0];
    end
    /* verilator lint_off UNUSEDSIGNAL */
    /* verilator lint_off WIDTHEXPAND */
    wire [31:0] em_n = em_k * P + em_idx;              // unsigned, zero-extended
    /* verilator lint_on WIDTHEXPAND */
    /* verilator lint_on UNUSEDSIGNAL */
    assign em_fire = em_valid && em_ready;
    wire em_done = em_fire && (em_token || (em_single && !em_last));
    // the next pending spikes, and whether at most one of them is set (registered with them,
    // off the m_ready -> em_done path)
    wire [P-1:0] em_nspk = sq_spk[sq_rp];
    wire em_rest_single = ((em_rest & (em_rest - 1'b1)) == {P{1'b0}});
    wire em_nspk_single = sq_one[sq_rp];
    assign em_free   = !em_valid || em_done;
    assign em_addr   = em_token ? {OUT_AW{1'b0}} : em_n[OUT_AW-1:0];
    // the payload: 1 for a spike; an ASN core's spike carries its height (sign-extended)
    wire [OUT_PW-1:0] spk_payload;
    generate
        if (IS_ASN || USER_H) begin : g_pay_asn
            reg [P*U_W-1:0]      em_pay;     // the heights of the emitter word's spikes
            reg signed [U_W-1:0] h_sel;
            integer q;
            always @* begin
                h_sel = {U_W{1'b0}};
                for (q = 0; q < P; q = q + 1)
                    if (em_low[q])
                        h_sel = em_pay[q*U_W +: U_W];
            end
            wire signed [OUT_PW-1:0] h_ext;
            /* verilator lint_off WIDTHEXPAND */
            /* verilator lint_off WIDTHTRUNC */
            assign h_ext = h_sel;            // sign-extends (OUT_PW >= U_W)
            /* verilator lint_on WIDTHTRUNC */
            /* verilator lint_on WIDTHEXPAND */
            assign spk_payload = h_ext;
            // the heights travel with their word through the spike queue (lane_h: the unit's
            // registered h at p4)
            reg [P*U_W-1:0] sq_h [0:SQ_D-1];
            always @(posedge clk) begin
                if (sq_wr)
                    sq_h[sq_wp] <= lane_h;
            end
            always @(posedge clk) begin
                if (em_load)
                    em_pay <= sq_h[sq_rp];
            end
        end else begin : g_pay_one
            assign spk_payload = PAYLOAD_ONE;
            /* verilator lint_off UNUSEDSIGNAL */
            wire [P*U_W-1:0] unused_h = lane_h;
            /* verilator lint_on UNUSEDSIGNAL */
        end
    endgenerate
    wire [OUT_PW-1:0] em_payload = em_token ? {OUT_PW{1'b0}} : spk_payload;

    // ------------------------------------------------------------------ output slice
    // a skid buffer between the emitter and m_*: m_valid and the event come from registers, and
    // the emitter sees a registered ready (the skid entry empty), so m_ready reaches only the
    // slice's enables (one cycle of latency, one event per cycle)
    localparam integer OE_W = 1 + OUT_PW + OUT_AW;
    wire [OE_W-1:0] em_event = {em_token, em_payload, em_addr};
    reg             ob_valid, sk_valid;
    reg [OE_W-1:0]  ob_event, sk_event;
    wire            ob_load = !ob_valid || m_ready;
    assign em_ready = !sk_valid;
    always @(posedge clk) begin
        if (rst) begin
            ob_valid <= 1'b0;
            sk_valid <= 1'b0;
        end else if (ob_load) begin
            ob_valid <= sk_valid || em_fire;
            sk_valid <= 1'b0;
        end else if (em_fire) begin
            sk_valid <= 1'b1;
        end
    end
    always @(posedge clk) begin
        if (ob_load)
            ob_event <= sk_valid ? sk_event : em_event;
        if (!sk_valid)
            sk_event <= em_event;
    end
    assign m_valid   = ob_valid;
    assign m_last    = ob_event[OE_W-1];
    assign m_payload = ob_event[OUT_AW +: OUT_PW];
    assign m_addr    = ob_event[0 +: OUT_AW];

    always @(posedge clk) begin
        if (rst) begin
            em_valid <= 1'b0;
            em_spk   <= {P{1'b0}};
            em_k     <= {KW{1'b0}};
            em_last  <= 1'b0;
            em_single <= 1'b1;
        end else begin
            if (em_fire) begin
                if (em_done)
                    em_valid <= 1'b0;
                else begin
                    em_spk    <= em_rest;
                    em_single <= em_rest_single;
                end
            end
            if (em_load) begin
                em_valid  <= 1'b1;
                em_single <= em_nspk_single;
                em_spk   <= em_nspk;
                em_k     <= sq_k[sq_rp];
                em_last  <= sq_last[sq_rp];
            end
        end
    end

    // ------------------------------------------------------------------ control
    always @(posedge clk) begin
        if (rst || clear) begin
            init_busy  <= 1'b1;
            init_k     <= {SKW{1'b0}};
            ev_busy    <= 1'b0;
            sweep_pend <= 1'b0;
            sw_k       <= {KW{1'b0}};
            sw_issued  <= 1'b0;
            sw_gap     <= {GW{1'b0}};
            st0_valid  <= 1'b0;
            st1_valid  <= 1'b0;
        end else begin
            if (init_busy) begin
                init_k <= init_k + 1'b1;
                if (init_k == INIT_LAST)
                    init_busy <= 1'b0;
            end
            // event intake and word issue
            if (r_fire) begin
                ev_busy <= 1'b1;
                ev_rec  <= 1'b1;
                ev_wa   <= ev_row_base[EA_W-1:0];
                ev_pay  <= {IN_PW{1'b0}};
                ev_k    <= {KW{1'b0}};
            end else if (s_fire) begin
                if (s_last) begin
                    sweep_pend <= 1'b1;
                    ev_busy    <= 1'b0;
                end else begin
                    ev_busy <= s_in_range;
                    ev_rec  <= 1'b0;
                    ev_wa   <= ev_row_base[EA_W-1:0];
                    ev_pay  <= s_payload;
                    ev_k    <= {KW{1'b0}};
                end
            end else if (ev_busy) begin
                if (ev_k == LAST_K)
                    ev_busy <= 1'b0;
                else begin
                    ev_k  <= ev_k + 1'b1;
                    ev_wa <= ev_wa + 1'b1;
                end
            end
            // sweep issue
            if (sw_issue) begin
                sw_gap <= G_LAST;
                sw_k   <= sw_k + 1'b1;
                if (sw_k == LAST_K)
                    sw_issued <= 1'b1;
            end else if (sw_gap != {GW{1'b0}}) begin
                sw_gap <= sw_gap - 1'b1;
            end
            if (sweep_done) begin
                sweep_pend <= 1'b0;
                sw_issued  <= 1'b0;
                sw_k       <= {KW{1'b0}};
            end
            // stage 0
            if (ev_issue) begin
                st0_valid    <= 1'b1;
                st0_sweep    <= 1'b0;
                st0_rec      <= ev_rec;
                st0_k        <= ev_k;
                st0_pay      <= ev_pay;
                st0_lastword <= 1'b0;
            end else if (sw_issue) begin
                st0_valid    <= 1'b1;
                st0_sweep    <= 1'b1;
                st0_rec      <= 1'b0;
                st0_k        <= sw_k;
                st0_lastword <= (sw_k == LAST_K);
            end else begin
                st0_valid    <= 1'b0;
            end
            // stage 1
            if (st0_valid) begin
                st1_valid    <= 1'b1;
                st1_sweep    <= st0_sweep;
                st1_rec      <= st0_rec;
                st1_k        <= st0_k;
                st1_pay      <= st0_pay;
                st1_lastword <= st0_lastword;
            end else if (st1_adv) begin
                st1_valid    <= 1'b0;
            end
        end
    end

    // ------------------------------------------------------------------ statistics
    integer b;
    reg [LW+SC_W-1:0] n_sat_u, n_sat_i, n_sat_a, n_sat_p, n_sat_h;
    always @* begin
        n_sat_u = {(LW + SC_W){1'b0}};
        n_sat_i = {(LW + SC_W){1'b0}};
        n_sat_a = {(LW + SC_W){1'b0}};
        n_sat_p = {(LW + SC_W){1'b0}};
        n_sat_h = {(LW + SC_W){1'b0}};
        for (b = 0; b < P; b = b + 1) begin
            n_sat_u = n_sat_u + {{LW{1'b0}}, p4_sat_u[b*SC_W +: SC_W]};
            n_sat_i = n_sat_i + {{LW{1'b0}}, p4_sat_i[b*SC_W +: SC_W]};
            n_sat_a = n_sat_a + {{LW{1'b0}}, p4_sat_a[b*SC_W +: SC_W]};
            n_sat_p = n_sat_p + {{LW{1'b0}}, p4_sat_p[b*SC_W +: SC_W]};
            n_sat_h = n_sat_h + {{LW{1'b0}}, p4_sat_h[b*SC_W +: SC_W]};
        end
    end
    always @(posedge clk) begin
        if (rst) begin
            sat_u_count <= {CNT_W{1'b0}};
            sat_i_count <= {CNT_W{1'b0}};
            sat_a_count <= {CNT_W{1'b0}};
            sat_p_count <= {CNT_W{1'b0}};
            sat_h_count <= {CNT_W{1'b0}};
            step_count  <= {CNT_W{1'b0}};
        end else begin
            if (p4_v) begin
                sat_u_count <= sat_u_count + {{(CNT_W - LW - SC_W){1'b0}}, n_sat_u};
                sat_i_count <= sat_i_count + {{(CNT_W - LW - SC_W){1'b0}}, n_sat_i};
                sat_a_count <= sat_a_count + {{(CNT_W - LW - SC_W){1'b0}}, n_sat_a};
                sat_p_count <= sat_p_count + {{(CNT_W - LW - SC_W){1'b0}}, n_sat_p};
                sat_h_count <= sat_h_count + {{(CNT_W - LW - SC_W){1'b0}}, n_sat_h};
            end
            if (em_done && em_token)
                step_count <= step_count + 1'b1;
        end
    end

    assign idle = !init_busy && !ev_busy && !st0_valid && !st1_valid && !sweep_pend && !em_valid && !rq_valid &&
                  !ob_valid && !sk_valid &&
                  !g2_v && !g3_v && !p3_v && !p4_v && sq_cnt == 3'd0;
endmodule

`default_nettype wire
