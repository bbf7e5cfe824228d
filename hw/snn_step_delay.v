// snn_step_delay: an axonal delay of DELAY time steps on an event stream, in lock step.
//
// Part of the snnc hardware library (see hw/README.md for the event format {last, payload,
// address}; `last` is the MSB of the word). It sits in front of a layer core in place of its
// event FIFO and implements docs/semantics.md section 1, in_L[t] = W_L . S_X[t - d]: the core's
// step t receives the source's events of step t - DELAY and no events in its first DELAY steps.
//
//   * Output step t closes with a token; for t < DELAY the step is empty (a bare token), then
//     the source's events and tokens follow in order, through a FIFO of DEPTH words.
//   * Lock step: output token t leaves only once the source's token t has come in, so the core
//     never runs ahead of its source (the step-by-step replays of the benches rely on this).
//     While the first DELAY output steps wait for their tokens, the FIFO holds the source's
//     events of up to DELAY + 1 steps: DEPTH must be >= (min(DELAY, STEPS) + 1) * (M + 1) for a
//     source of M neurons, or the source stalls for good (the generator sizes it).
//   * After STEPS output tokens the sample is over for the core: what the source still sends
//     (its last DELAY steps, which no step of this sample sees) is accepted and dropped, and
//     `clear` empties the FIFO and restarts the step count for the next sample.
//
// Nothing is dropped within a sample; s_ready is low only while the FIFO is full.
//
// Parameters
//   WIDTH  bits per event word ({last, payload, address})
//   DELAY  delay in steps, >= 1
//   STEPS  time steps per sample (the model's `steps`)
//   DEPTH  FIFO entries, a power of two >= 2 (see above)
//
// idle is high when no word can leave now (nothing pending, a token waiting for its source, or
// the sample's steps all out).
`default_nettype none

module snn_step_delay #(
    parameter integer WIDTH = 8,
    parameter integer DELAY = 1,
    parameter integer STEPS = 10,
    parameter integer DEPTH = 16
) (
    input  wire             clk,
    input  wire             rst,
    input  wire             clear,
    // from the source
    input  wire             s_valid,
    output wire             s_ready,
    input  wire [WIDTH-1:0] s_data,
    // to the core
    output wire             m_valid,
    input  wire             m_ready,
    output wire [WIDTH-1:0] m_data,
    output wire             idle
);
    localparam integer CW   = $clog2(STEPS + 2) + 1;
    localparam integer LEAD = DELAY < STEPS ? DELAY : STEPS;

    reg  [CW-1:0] in_tokens;     // source tokens accepted in this sample (saturating)
    reg  [CW-1:0] out_tokens;    // tokens sent to the core in this sample

    wire done = out_tokens == STEPS[CW-1:0];     // the core has all its steps: drop the rest
    wire lead = out_tokens < LEAD[CW-1:0];       // an empty leading step: a bare token
    wire gate = in_tokens > out_tokens;          // token t waits for the source's token t

    wire             f_s_ready, f_m_valid;
    wire [WIDTH-1:0] f_m_data;
    wire             head_last = f_m_data[WIDTH-1];
    wire             f_m_ready;

    /* verilator lint_off PINCONNECTEMPTY */   // full, empty and level are not needed here
    snn_event_fifo #(.WIDTH(WIDTH), .DEPTH(DEPTH)) u_fifo (
        .clk(clk), .rst(rst || clear),
        .s_valid(s_valid && !done), .s_ready(f_s_ready), .s_data(s_data),
        .m_valid(f_m_valid), .m_ready(f_m_ready), .m_data(f_m_data),
        .full(), .empty(), .level()
    );
    /* verilator lint_on PINCONNECTEMPTY */

    assign s_ready   = done ? 1'b1 : f_s_ready;
    assign m_valid   = !done && (lead ? gate : (f_m_valid && (!head_last || gate)));
    assign m_data    = lead ? {1'b1, {(WIDTH - 1){1'b0}}} : f_m_data;
    assign f_m_ready = !done && !lead && m_ready && (!head_last || gate);
    assign idle      = !m_valid;

    wire in_token  = s_valid && s_ready && s_data[WIDTH-1];
    wire out_token = m_valid && m_ready && m_data[WIDTH-1];

    always @(posedge clk) begin
        if (rst || clear) begin
            in_tokens  <= {CW{1'b0}};
            out_tokens <= {CW{1'b0}};
        end else begin
            if (in_token && in_tokens != {CW{1'b1}})
                in_tokens <= in_tokens + 1'b1;
            if (out_token)
                out_tokens <= out_tokens + 1'b1;
        end
    end
endmodule

`default_nettype wire
