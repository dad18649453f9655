// The per-engine glue an R x C array needs around its PEs, synthesized apart from them so that
// tools/synth_costs.py can price it per row, per column and per engine (docs/resources.md):
//
// - load side: the DMA's 64-bit stream written into one operand buffer per row (weights) and one
//   per column (activations), each with its own write enable decoded from a buffer index;
// - execute side: one operand register per row (WB bits: a code word, digit or packed weight) and
//   one per column (A bits), which drive the row and column broadcasts into the array;
// - drain side: the C column chain tails (ACC bits each), registered, and a C:1 output mux that
//   hands one column's sum per cycle to the output path (requantization, output buffer);
// - control: the job sequencer (step, pass and chain counters and their compares).
//
// The buffers themselves are BRAM (priced from the config's BRAM36 counts), the PEs are priced
// per PE; neither is in here.
module engine_glue #(
    parameter R = 8,
    parameter C = 8,
    parameter WB = 4,    // row operand bits
    parameter A = 8,     // column operand bits
    parameter ACC = 32   // column output bits
) (
    input clk,
    // load side
    input ld_valid,
    input [63:0] ld_data,
    input ld_row,               // 1: the word goes to a row buffer, 0: to a column buffer
    input [15:0] ld_index,      // which buffer
    output [R-1:0] row_we,
    output [C-1:0] col_we,
    output reg [63:0] ld_word,
    // execute side
    input start,
    input [15:0] tk,
    input [15:0] passes,
    input [15:0] chain,
    input [R*WB-1:0] row_rd,    // the row buffers' read data
    input [C*A-1:0] col_rd,     // the column buffers' read data
    output reg [R*WB-1:0] row_op,
    output reg [C*A-1:0] col_op,
    output step_valid,
    output [15:0] step_k,
    output chain_end,
    // drain side
    input drain_valid,
    input [C*ACC-1:0] tails,
    output reg [ACC-1:0] out_data,
    output reg out_valid
);
  // Load: one-hot write enables from the buffer index, registered with the data word.
  reg [R-1:0] rwe = {R{1'b0}};
  reg [C-1:0] cwe = {C{1'b0}};
  integer i;
  always @(posedge clk) begin
    for (i = 0; i < R; i = i + 1) rwe[i] <= ld_valid & ld_row & (ld_index == i[15:0]);
    for (i = 0; i < C; i = i + 1) cwe[i] <= ld_valid & !ld_row & (ld_index == i[15:0]);
    ld_word <= ld_data;
  end
  assign row_we = rwe;
  assign col_we = cwe;

  // Sequencer.
  reg busy = 1'b0;
  reg [15:0] kr = 16'd0, pr = 16'd0, jr = 16'd0;
  wire issue = start | busy;
  wire [15:0] k = start ? 16'd0 : kr;
  wire [15:0] pass = start ? 16'd0 : pr;
  wire [15:0] j = start ? 16'd0 : jr;
  wire last_k = k == tk - 16'd1;
  assign chain_end = j == chain - 16'd1 || last_k;
  always @(posedge clk)
    if (issue) begin
      jr <= chain_end ? 16'd0 : j + 16'd1;
      kr <= last_k ? 16'd0 : k + 16'd1;
      pr <= last_k ? pass + 16'd1 : pass;
      busy <= !(last_k && pass == passes - 16'd1);
    end
  assign step_valid = issue;
  assign step_k = k;

  // Operand broadcast registers.
  always @(posedge clk)
    if (issue) begin
      row_op <= row_rd;
      col_op <= col_rd;
    end

  // Drain: register the tails when a pass's sums arrive, then one column per cycle.
  reg [C*ACC-1:0] held;
  reg [15:0] col = 16'd0;
  reg draining = 1'b0;
  always @(posedge clk) begin
    if (drain_valid) begin
      held <= tails;
      col <= 16'd0;
      draining <= 1'b1;
    end else if (draining) begin
      col <= col + 16'd1;
      draining <= col != C - 1;
    end
    out_data <= held[col*ACC +: ACC];
    out_valid <= draining;
  end
endmodule
