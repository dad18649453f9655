// Small arrays of the processing elements with their per-engine glue: the job sequencer (steps,
// passes, chains and drain cycles) and the operand distribution. Weights are broadcast along a
// row, activations along a column, as the cycle model assumes (no systolic skew). The sequencer
// names the step it issues (step_k, step_pass) and the operand buffers answer in the same cycle.
// The Verilator oracle test (tests/rtl/) drives these through rtl_oracle_top.

// Common sequencer of the LUT engines: `passes` passes of `tk` steps, each step `SUB` cycles
// (1: bit-parallel, 2: bit-serial, one digit per cycle), back to back.
module msq_lut_seq #(
    parameter SUB = 1
) (
    input clk,
    input start,
    input [15:0] tk,
    input [15:0] passes,
    output issue,
    output [15:0] k,
    output [15:0] pass,
    output sub,          // which digit of the step (bit-serial)
    output first,
    output last
);
  reg busy = 1'b0;
  reg [15:0] kr = 16'd0, pr = 16'd0;
  reg jr = 1'b0;
  assign issue = start | busy;
  assign k = start ? 16'd0 : kr;
  assign pass = start ? 16'd0 : pr;
  assign sub = start ? 1'b0 : jr;
  wire step_end = (SUB == 1) | sub;
  wire last_k = k == tk - 16'd1;
  assign first = k == 16'd0 && !sub;
  assign last = last_k && step_end;
  always @(posedge clk)
    if (issue) begin
      jr <= (SUB == 2) & !sub;
      if (step_end) begin
        kr <= last_k ? 16'd0 : k + 16'd1;
        pr <= last_k ? pass + 16'd1 : pass;
        busy <= !(last_k && pass == passes - 16'd1);
      end else begin
        kr <= k;  // `start` names step 0 of pass 0 without the registers holding it
        pr <= pass;
        busy <= 1'b1;
      end
    end
endmodule

module lut_array #(
    parameter R = 3,
    parameter C = 4,
    parameter A = 8,
    parameter M1 = 2,
    parameter M2 = 1,
    parameter ACC = 32,
    parameter SAT = 0
) (
    input clk,
    input start,
    input [15:0] tk,
    input [15:0] passes,
    output step_valid,
    output [15:0] step_k,
    output [15:0] step_pass,
    input [R*(1+M1+M2)-1:0] codes,  // row r's SP2 code word of step k
    input [C*A-1:0] xs,             // column c's activation of step k
    input shift,
    output [R*C*ACC-1:0] outs,      // PE (r, c) at (r * C + c) * ACC
    output out_valid
);
  localparam B = 1 + M1 + M2;
  wire first, last, sub;
  msq_lut_seq #(.SUB(1)) seq (
      .clk(clk), .start(start), .tk(tk), .passes(passes), .issue(step_valid), .k(step_k),
      .pass(step_pass), .sub(sub), .first(first), .last(last));
  wire [R*C-1:0] valids;
  assign out_valid = valids[0];
  genvar r, c;
  generate
    for (r = 0; r < R; r = r + 1) begin : row
      for (c = 0; c < C; c = c + 1) begin : col
        // The readout chain runs up each column: row r takes row r + 1's sum.
        wire [ACC-1:0] below;
        if (r + 1 < R) begin : chain
          assign below = outs[((r + 1) * C + c) * ACC +: ACC];
        end else begin : last_row
          assign below = {ACC{1'b0}};
        end
        sp2_pe #(.A(A), .M1(M1), .M2(M2), .ACC(ACC), .SAT(SAT)) pe (
            .clk(clk), .in_valid(step_valid), .in_first(first), .in_last(last),
            .x(xs[c*A +: A]), .code(codes[r*B +: B]), .shift(shift), .chain_in(below),
            .out(outs[(r * C + c) * ACC +: ACC]), .out_valid(valids[r*C+c]));
      end
    end
  endgenerate
endmodule

// The bit-serial LUT core: every k step takes `digits` cycles (the block's digit count); in each
// the sequencer names (k, sub) and the weight buffer answers with row r's digit `sub` of weight
// (r, k), a zero digit where the weight has fewer.
module bitserial_array #(
    parameter R = 3,
    parameter C = 4,
    parameter A = 8,
    parameter M1 = 2,
    parameter ACC = 32,
    parameter SAT = 0
) (
    input clk,
    input start,
    input [15:0] tk,
    input [15:0] passes,
    input [15:0] digits,
    output step_valid,
    output [15:0] step_k,
    output [15:0] step_pass,
    output [15:0] step_sub,
    input [R*(1+M1)-1:0] ds,        // row r's digit word {s, e} of (k, sub)
    input [C*A-1:0] xs,
    input shift,
    output [R*C*ACC-1:0] outs,
    output out_valid
);
  localparam DB = 1 + M1;
  reg busy = 1'b0;
  reg [15:0] kr = 16'd0, pr = 16'd0, jr = 16'd0;
  wire issue = start | busy;
  wire [15:0] k = start ? 16'd0 : kr;
  wire [15:0] pass = start ? 16'd0 : pr;
  wire [15:0] j = start ? 16'd0 : jr;
  wire dlast = j == digits - 16'd1;
  wire last_k = k == tk - 16'd1;
  always @(posedge clk)
    if (issue) begin
      jr <= dlast ? 16'd0 : j + 16'd1;
      if (dlast) begin
        kr <= last_k ? 16'd0 : k + 16'd1;
        pr <= last_k ? pass + 16'd1 : pass;
        busy <= !(last_k && pass == passes - 16'd1);
      end else begin
        kr <= k;  // `start` names step 0 of pass 0 without the registers holding it
        pr <= pass;
        busy <= 1'b1;
      end
    end
  assign step_valid = issue;
  assign step_k = k;
  assign step_pass = pass;
  assign step_sub = j;

  wire [R*C-1:0] valids;
  assign out_valid = valids[0];
  genvar r, c;
  generate
    for (r = 0; r < R; r = r + 1) begin : row
      for (c = 0; c < C; c = c + 1) begin : col
        wire [ACC-1:0] below;
        if (r + 1 < R) begin : chain
          assign below = outs[((r + 1) * C + c) * ACC +: ACC];
        end else begin : last_row
          assign below = {ACC{1'b0}};
        end
        sp2_pe_bitserial #(.A(A), .M1(M1), .ACC(ACC), .SAT(SAT)) pe (
            .clk(clk), .in_valid(issue), .in_dfirst(j == 16'd0), .in_dlast(dlast),
            .in_first(k == 16'd0), .in_last(last_k), .x(xs[c*A +: A]), .digit(ds[r*DB +: DB]),
            .shift(shift), .chain_in(below), .out(outs[(r * C + c) * ACC +: ACC]),
            .out_valid(valids[r*C+c]));
      end
    end
  endgenerate
endmodule

// The DSP core's PE for one row per slice (the dsp48 engine's unpacked blocks): the slice's A/B
// and M registers form w * x, and every product goes from M into the row accumulator, one
// addition per product, as the engine's finite register adds them (P is not used). Operands
// offered in cycle k reach the accumulator after edge k + 4 (fabric operand register, A/B, M,
// accumulator): a pass of tk steps has its sums in the readout register after edge tk + 4, the
// timing dsp_job_cycles charges without drains. (Not synthesized for the cost file: a one-row
// slice is priced as a packed one.)
module dsp_pe_single #(
    parameter A = 8,
    parameter AW = 25,
    parameter ACC = 32,
    parameter SAT = 0
) (
    input clk,
    input in_valid,
    input in_first,
    input in_last,
    input [AW-1:0] w,  // the row's weight, signed
    input [A-1:0] x,
    input shift,
    input [ACC-1:0] chain_in,
    output [ACC-1:0] out,
    output reg out_valid
);
  reg [AW-1:0] w0;
  reg [A-1:0] x0;
  reg v0 = 1'b0, f0 = 1'b0, l0 = 1'b0;
  always @(posedge clk) begin
    w0 <= w;
    x0 <= x;
    {v0, f0, l0} <= {in_valid, in_first, in_last};
  end
  reg signed [AW-1:0] ar;
  reg signed [17:0] br;
  reg signed [AW+17:0] m;
  reg v1 = 1'b0, f1 = 1'b0, l1 = 1'b0, v2 = 1'b0, f2 = 1'b0, l2 = 1'b0;
  always @(posedge clk) begin
    ar <= w0;
    br <= {{(18 - A) {1'b0}}, x0};
    m <= ar * br;
    {v1, f1, l1} <= {v0, f0, l0};
    {v2, f2, l2} <= {v1, f1, l1};
  end
  wire [ACC-1:0] acc;
  msq_acc #(.ACC(ACC), .IW(AW + 18), .SAT(SAT), .HAS_SUB(0)) accu (
      .clk(clk), .en(v2), .first(f2), .sub(1'b0), .addend(m), .q(acc));
  reg done3 = 1'b0;
  always @(posedge clk) begin
    done3 <= v2 & l2;
    out_valid <= done3;
  end
  msq_readout #(.ACC(ACC)) ro (
      .clk(clk), .load(done3), .shift(shift), .d(acc), .chain_in(chain_in), .q(out));
endmodule

// The packed DSP core: R slices per column, each holding a pair of rows (high and low lane).
// A chain of `chain` products (the planner's packed_max_chain) ends with a drain, and the
// sequencer idles one cycle after it (drain_cycles = 1). With PACKED = 0 a slice holds one row
// (outs_lo, dsp_pe_single), every product enters its accumulator and the sequencer never idles.
module dsp_array #(
    parameter R = 3,
    parameter C = 4,
    parameter A = 8,
    parameter AW = 25,
    parameter D = 21,
    parameter ACC = 32,
    parameter SAT = 0,
    parameter PACKED = 1  // 0: one row per slice, no chains, no drain cycles
) (
    input clk,
    input start,
    input [15:0] tk,
    input [15:0] passes,
    input [15:0] chain,
    output step_valid,
    output [15:0] step_k,
    output [15:0] step_pass,
    input [R*AW-1:0] as,   // slice row r's packed operand of step k (unpacked: row r's weight)
    input [C*A-1:0] xs,
    input shift,
    output [R*C*ACC-1:0] outs_hi,
    output [R*C*ACC-1:0] outs_lo,
    output out_valid
);
  reg busy = 1'b0, bub = 1'b0;
  reg [15:0] kr = 16'd0, pr = 16'd0, jr = 16'd0;
  wire issue = start | busy;
  wire [15:0] k = start ? 16'd0 : kr;
  wire [15:0] pass = start ? 16'd0 : pr;
  wire [15:0] j = start ? 16'd0 : jr;
  wire idle = !start & bub;
  wire last_k = k == tk - 16'd1;
  wire chain_end = j == chain - 16'd1 || last_k;
  always @(posedge clk)
    if (issue) begin
      if (idle) begin
        bub <= 1'b0;
        busy <= pr != passes;
      end else begin
        bub <= chain_end & (PACKED != 0);
        jr <= chain_end ? 16'd0 : j + 16'd1;
        kr <= last_k ? 16'd0 : k + 16'd1;
        pr <= last_k ? pass + 16'd1 : pass;
        // Packed, the idle cycle after the last chain ends the job; unpacked, its last product.
        busy <= (PACKED != 0) || !(last_k && pass == passes - 16'd1);
      end
    end
  assign step_valid = issue & !idle;
  assign step_k = k;
  assign step_pass = pass;

  wire [R*C-1:0] valids;
  assign out_valid = valids[0];
  genvar r, c;
  generate
    for (r = 0; r < R; r = r + 1) begin : row
      for (c = 0; c < C; c = c + 1) begin : col
        wire [ACC-1:0] below_hi, below_lo;
        if (r + 1 < R) begin : chain_r
          assign below_hi = outs_hi[((r + 1) * C + c) * ACC +: ACC];
          assign below_lo = outs_lo[((r + 1) * C + c) * ACC +: ACC];
        end else begin : last_row
          assign below_hi = {ACC{1'b0}};
          assign below_lo = {ACC{1'b0}};
        end
        if (PACKED != 0) begin : pk
          dsp_pe_packed #(.A(A), .AW(AW), .D(D), .ACC(ACC), .SAT(SAT)) pe (
              .clk(clk), .in_valid(step_valid), .in_clr(j == 16'd0), .in_drain(chain_end),
              .in_first(k == 16'd0), .in_last(last_k), .a(as[r*AW +: AW]), .x(xs[c*A +: A]),
              .shift(shift), .chain_hi(below_hi), .chain_lo(below_lo),
              .out_hi(outs_hi[(r * C + c) * ACC +: ACC]),
              .out_lo(outs_lo[(r * C + c) * ACC +: ACC]), .out_valid(valids[r*C+c]));
        end else begin : one_row
          dsp_pe_single #(.A(A), .AW(AW), .ACC(ACC), .SAT(SAT)) pe (
              .clk(clk), .in_valid(step_valid), .in_first(k == 16'd0), .in_last(last_k),
              .w(as[r*AW +: AW]), .x(xs[c*A +: A]), .shift(shift), .chain_in(below_lo),
              .out(outs_lo[(r * C + c) * ACC +: ACC]), .out_valid(valids[r*C+c]));
          assign outs_hi[(r * C + c) * ACC +: ACC] = {ACC{1'b0}};
        end
      end
    end
  endgenerate
endmodule

// The activation-packed DSP core: R slices per column, slice row r holding row r's weight, each
// slice column two columns of the output (x_lo: column 2c, x_hi: column 2c + 1, so that a lone
// last column rides the low lane with x_hi = 0, as docs/arithmetic.md and the engine have it), so
// a pass covers 2C output columns. Chains and drains as dsp_array.
module dsp_actpacked_array #(
    parameter R = 3,
    parameter C = 4,
    parameter A = 8,
    parameter WB = 4,
    parameter AW = 25,
    parameter D = 14,
    parameter ACC = 32,
    parameter SAT = 0
) (
    input clk,
    input start,
    input [15:0] tk,
    input [15:0] passes,
    input [15:0] chain,
    output step_valid,
    output [15:0] step_k,
    output [15:0] step_pass,
    input [R*WB-1:0] ws,     // row r's weight of step k
    input [2*C*A-1:0] xs,    // output column j's activation of step k, j in [0, 2C)
    input shift,
    output [R*C*ACC-1:0] outs_hi,  // slice (r, c): column 2c + 1
    output [R*C*ACC-1:0] outs_lo,  // slice (r, c): column 2c
    output out_valid
);
  reg busy = 1'b0, bub = 1'b0;
  reg [15:0] kr = 16'd0, pr = 16'd0, jr = 16'd0;
  wire issue = start | busy;
  wire [15:0] k = start ? 16'd0 : kr;
  wire [15:0] pass = start ? 16'd0 : pr;
  wire [15:0] j = start ? 16'd0 : jr;
  wire idle = !start & bub;
  wire last_k = k == tk - 16'd1;
  wire chain_end = j == chain - 16'd1 || last_k;
  always @(posedge clk)
    if (issue) begin
      if (idle) begin
        bub <= 1'b0;
        busy <= pr != passes;
      end else begin
        bub <= chain_end;
        jr <= chain_end ? 16'd0 : j + 16'd1;
        kr <= last_k ? 16'd0 : k + 16'd1;
        pr <= last_k ? pass + 16'd1 : pass;
        busy <= 1'b1;
      end
    end
  assign step_valid = issue & !idle;
  assign step_k = k;
  assign step_pass = pass;

  wire [R*C-1:0] valids;
  assign out_valid = valids[0];
  genvar r, c;
  generate
    for (r = 0; r < R; r = r + 1) begin : row
      for (c = 0; c < C; c = c + 1) begin : col
        wire [ACC-1:0] below_hi, below_lo;
        if (r + 1 < R) begin : chain_r
          assign below_hi = outs_hi[((r + 1) * C + c) * ACC +: ACC];
          assign below_lo = outs_lo[((r + 1) * C + c) * ACC +: ACC];
        end else begin : last_row
          assign below_hi = {ACC{1'b0}};
          assign below_lo = {ACC{1'b0}};
        end
        dsp_pe_actpacked #(.A(A), .WB(WB), .AW(AW), .D(D), .ACC(ACC), .SAT(SAT)) pe (
            .clk(clk), .in_valid(step_valid), .in_clr(j == 16'd0), .in_drain(chain_end),
            .in_first(k == 16'd0), .in_last(last_k), .w(ws[r*WB +: WB]),
            .x_hi(xs[(2 * c + 1) * A +: A]), .x_lo(xs[(2 * c) * A +: A]), .shift(shift),
            .chain_hi(below_hi), .chain_lo(below_lo),
            .out_hi(outs_hi[(r * C + c) * ACC +: ACC]), .out_lo(outs_lo[(r * C + c) * ACC +: ACC]),
            .out_valid(valids[r*C+c]));
      end
    end
  endgenerate
endmodule
