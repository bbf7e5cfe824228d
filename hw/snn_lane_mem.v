// snn_lane_mem: a layer core's per-neuron word memory (its accumulators or its neuron states):
// NW words of P lanes of W bits, lane q of word k holding neuron k * P + q; one read port (the
// word read with re is on rdata the cycle after) and one write port.
//
// SMALL = 0: one memory of NW words, read through a data register (a block RAM). It carries
// (* no_rw_check *): the core never reads and writes one address in a cycle (see where
// snn_layer_core instantiates it), so Yosys builds no read-first emulation around the RAM.
//
// SMALL = 1 (a few words, too few for a block RAM): flip-flops, one memory per lane of only
// the words where that lane holds a neuron (k * P + q < N), read through a registered address,
// so the read multiplexer feeds the reader's own register directly; a lane without a neuron
// reads FILL. A write in the cycle before the read's data is used is seen (the read is
// combinational from the registered address).
//
// Verilog-2001 subset accepted by Verilator, Icarus and Yosys.
`default_nettype none

module snn_lane_mem #(
    parameter integer P     = 1,              // lanes per word
    parameter integer N     = 1,              // neurons
    parameter integer NW    = 1,              // words: ceil(N / P)
    parameter integer W     = 8,              // bits per lane
    parameter integer KW    = 1,              // address width
    parameter integer SMALL = 0,              // 1: flip-flops per lane, registered address
    parameter [W-1:0] FILL  = {W{1'b0}}       // SMALL: what a lane without a neuron reads
) (
    input  wire            clk,
    input  wire            re,
    input  wire [KW-1:0]   raddr,
    input  wire            we,
    input  wire [KW-1:0]   waddr,
    input  wire [P*W-1:0]  wdata,
    output wire [P*W-1:0]  rdata
);
    generate
        if (SMALL != 0) begin : g_ff
            reg [KW-1:0] ra_q;
            always @(posedge clk) begin
                if (re)
                    ra_q <= raddr;
            end
            genvar q;
            for (q = 0; q < P; q = q + 1) begin : g_lane_mem
                localparam integer NWQ = (q < N) ? (N - q + P - 1) / P : 0;   // its words
                localparam integer QW  = (NWQ > 1) ? $clog2(NWQ) : 1;        // its word index
                if (NWQ > 0) begin : g_mem
                    reg [W-1:0] mem [0:NWQ-1];
                    /* verilator lint_off WIDTHEXPAND */
                    assign rdata[q*W +: W] = (ra_q < NWQ) ? mem[ra_q[QW-1:0]] : FILL;
                    always @(posedge clk) begin
                        if (we && waddr < NWQ)
                            mem[waddr[QW-1:0]] <= wdata[q*W +: W];
                    end
                    /* verilator lint_on WIDTHEXPAND */
                end else begin : g_none
                    assign rdata[q*W +: W] = FILL;
                    /* verilator lint_off UNUSEDSIGNAL */
                    wire unused_wd = ^wdata[q*W +: W];
                    /* verilator lint_on UNUSEDSIGNAL */
                end
            end
        end else begin : g_bram
            (* no_rw_check *)
            reg [P*W-1:0] mem [0:NW-1];
            reg [P*W-1:0] rd_q;
            always @(posedge clk) begin
                if (re)
                    rd_q <= mem[raddr];
            end
            assign rdata = rd_q;
            always @(posedge clk) begin
                if (we)
                    mem[waddr] <= wdata;
            end
        end
    endgenerate
endmodule

`default_nettype wire
