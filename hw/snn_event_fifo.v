// snn_event_fifo: synchronous first-word-fall-through FIFO for address events.
//
// Part of the snnc hardware library (see hw/README.md for the event format). It never drops
// an event: s_ready is low while the FIFO is full, and m_valid is high while it holds an event.
// Both sides are valid/ready (AXI-Stream style): a word moves when valid and ready are both high
// on a rising clock edge. s_ready depends only on the FIFO's state (never combinationally on
// m_ready), and m_valid/m_data only on the state, so FIFOs break handshake paths.
//
// Parameters
//   WIDTH  bits per event ({last, payload, address} for snnc events; any width works)
//   DEPTH  number of entries, a power of two >= 2
//
// Synchronous active-high reset empties the FIFO (the storage is not cleared).
`default_nettype none

module snn_event_fifo #(
    parameter integer WIDTH = 16,
    parameter integer DEPTH = 16
) (
    input  wire             clk,
    input  wire             rst,
    // write side
    input  wire             s_valid,
    output wire             s_ready,
    input  wire [WIDTH-1:0] s_data,
    // read side (first word fall-through: m_data is the head while m_valid)
    output wire             m_valid,
    input  wire             m_ready,
    output wire [WIDTH-1:0] m_data,
    // status
    output wire             full,
    output wire             empty,
    output wire [$clog2(DEPTH):0] level  // number of events held, 0 .. DEPTH
);
    localparam integer PTR_W = $clog2(DEPTH);

    // a few words: flip-flops (LUT-RAM where the synthesis tool maps logic memories to it),
    // never a whole block RAM
    (* ram_style = "logic" *)
    reg [WIDTH-1:0] mem [0:DEPTH-1];
    reg [PTR_W:0]   wr_ptr;              // one wrap bit above the index
    reg [PTR_W:0]   rd_ptr;

    assign level   = wr_ptr - rd_ptr;
    assign full    = (wr_ptr[PTR_W] != rd_ptr[PTR_W]) &&
                     (wr_ptr[PTR_W-1:0] == rd_ptr[PTR_W-1:0]);
    assign empty   = (wr_ptr == rd_ptr);
    assign s_ready = !full;
    assign m_valid = !empty;
    assign m_data  = mem[rd_ptr[PTR_W-1:0]];

    wire push = s_valid && !full;
    wire pop  = m_ready && !empty;

    always @(posedge clk) begin
        if (push)
            mem[wr_ptr[PTR_W-1:0]] <= s_data;
    end

    always @(posedge clk) begin
        if (rst) begin
            wr_ptr <= {(PTR_W + 1){1'b0}};
            rd_ptr <= {(PTR_W + 1){1'b0}};
        end else begin
            if (push)
                wr_ptr <= wr_ptr + 1'b1;
            if (pop)
                rd_ptr <= rd_ptr + 1'b1;
        end
    end
endmodule

`default_nettype wire
