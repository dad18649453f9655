// The DSP core's packed processing element: two signed low-bit weights share one unsigned
// activation in one DSP48 multiplier. The weight buffer holds the packed operand
// A = (w_hi << D) + w_lo; the slice computes P += A * x. Every `chain` products (the longest run
// the low lane's D bits can hold) P is drained: the low lane is P[D-1:0] sign-extended, the high
// lane (P - lo) >> D = (P >>> D) + P[D-1], each added into its row accumulator, and the next
// product restarts P (docs/resources.md).
//
// Pipeline (pipeline_depth = 4): the fabric operand register, then the slice's A/B, M and P
// registers; the drain adds P's lanes into the row accumulators at the next edge and the readout
// register takes the finished sums one edge later. The sequencer leaves one idle cycle after each
// chain (drain_cycles = 1), so a pass of tk products with d drains has its sums in the readout
// registers after edge tk + d + 4, the timing dsp_job_cycles charges.
module dsp_pe_packed #(
    parameter A = 8,     // activation bits (unsigned, on the slice's signed 18-bit port)
    parameter AW = 25,   // A port: 25 (DSP48E1), 27 (DSP48E2)
    parameter D = 21,    // lane offset
    parameter ACC = 32,  // row accumulator bits
    parameter SAT = 0    // 0: wrap, 1: saturate
) (
    input clk,
    input in_valid,
    input in_clr,    // first product of a chain: P restarts
    input in_drain,  // last product of a chain: P's lanes go to the row accumulators
    input in_first,  // first product of a reduction: the row accumulators restart
    input in_last,   // last product of a reduction
    input [AW-1:0] a,  // (w_hi << D) + w_lo, signed
    input [A-1:0] x,
    input shift,
    input [ACC-1:0] chain_hi,
    input [ACC-1:0] chain_lo,
    output [ACC-1:0] out_hi,
    output [ACC-1:0] out_lo,
    output reg out_valid
);
  localparam PB = 48;
  localparam HW = PB - D + 1;  // the high lane with the low lane's borrow

  // Fabric operand register (the stage beyond the slice's own).
  reg [AW-1:0] a0;
  reg [A-1:0] x0;
  reg v0 = 1'b0, c0 = 1'b0, d0 = 1'b0, f0 = 1'b0, l0 = 1'b0;
  always @(posedge clk) begin
    a0 <= a;
    x0 <= x;
    v0 <= in_valid;
    c0 <= in_clr;
    d0 <= in_drain;
    f0 <= in_first;
    l0 <= in_last;
  end
  // Flags travel beside the slice's A/B and M registers.
  reg v1 = 1'b0, c1 = 1'b0, d1 = 1'b0, f1 = 1'b0, l1 = 1'b0;
  reg v2 = 1'b0, c2 = 1'b0, d2 = 1'b0, f2 = 1'b0, l2 = 1'b0;
  always @(posedge clk) begin
    {v1, c1, d1, f1, l1} <= {v0, c0, d0, f0, l0};
    {v2, c2, d2, f2, l2} <= {v1, c1, d1, f1, l1};
  end

  wire [PB-1:0] p;
  msq_dsp_mac #(.AW(AW), .BW(18), .PB(PB)) mac (
      .clk(clk), .a(a0), .b({{(18 - A) {1'b0}}, x0}), .ce_p(v2), .clr(c2), .p(p));

  // At the P stage: whether P now ends a chain, and whether that chain began the reduction.
  reg dr3 = 1'b0, la3 = 1'b0, fi3 = 1'b0;
  always @(posedge clk) begin
    dr3 <= v2 & d2;
    la3 <= v2 & d2 & l2;
    if (v2) fi3 <= c2 ? f2 : (fi3 | f2);
  end

  wire [D-1:0] lo;
  wire [HW-1:0] hi;
  dsp_unpack #(.D(D), .PB(PB)) unpack (.p(p), .lo(lo), .hi(hi));

  wire [ACC-1:0] acc_hi, acc_lo;
  msq_acc #(.ACC(ACC), .IW(HW), .SAT(SAT), .HAS_SUB(0)) acch (
      .clk(clk), .en(dr3), .first(fi3), .sub(1'b0), .addend(hi), .q(acc_hi));
  msq_acc #(.ACC(ACC), .IW(D), .SAT(SAT), .HAS_SUB(0)) accl (
      .clk(clk), .en(dr3), .first(fi3), .sub(1'b0), .addend(lo), .q(acc_lo));
  reg done4 = 1'b0;
  always @(posedge clk) begin
    done4 <= la3;
    out_valid <= done4;
  end
  msq_readout #(.ACC(ACC)) roh (
      .clk(clk), .load(done4), .shift(shift), .d(acc_hi), .chain_in(chain_hi), .q(out_hi));
  msq_readout #(.ACC(ACC)) rol (
      .clk(clk), .load(done4), .shift(shift), .d(acc_lo), .chain_in(chain_lo), .q(out_lo));
endmodule

// The DSP48 slice as synthesis infers it: A/B registers, M register, P register accumulating
// M or restarting from it. P wraps at 48 bits like the slice's register.
module msq_dsp_mac #(
    parameter AW = 25,
    parameter BW = 18,
    parameter PB = 48
) (
    input clk,
    input [AW-1:0] a,
    input [BW-1:0] b,
    input ce_p,
    input clr,
    output reg [PB-1:0] p
);
  reg signed [AW-1:0] ar;
  reg signed [BW-1:0] br;
  reg signed [AW+BW-1:0] m;
  reg ce_m = 1'b0, clr_m = 1'b0;
  always @(posedge clk) begin
    ar <= a;
    br <= b;
    m <= ar * br;
  end
  wire [PB-1:0] mx = {{(PB - AW - BW) {m[AW+BW-1]}}, m};
  always @(posedge clk)
    if (ce_p) p <= (clr ? {PB{1'b0}} : p) + mx;
endmodule

// The lane split of a drained P: lo = P[D-1:0] (signed), hi = (P - lo) >> D.
module dsp_unpack #(
    parameter D = 21,
    parameter PB = 48
) (
    input [PB-1:0] p,
    output [D-1:0] lo,
    output [PB-D:0] hi
);
  assign lo = p[D-1:0];
  assign hi = {p[PB-1], p[PB-1:D]} + {{(PB - D) {1'b0}}, p[D-1]};
endmodule
