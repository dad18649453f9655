// The DSP core's activation-packed processing element: two unsigned activations (two output
// pixels of the same row) share one signed weight in one DSP48 multiplier, as MSD's DSP PE does.
// The A port takes A = (x_hi << D) + x_lo, which is wiring (x_lo < 2^A <= 2^D, no adder), the B
// port the weight; the slice computes P += A * w = (w x_hi << D) + w x_lo. Every `chain` products
// P is drained into two row accumulators with the same lane split as the weight-packed PE
// (dsp_pe_packed.v, dsp_unpack): lo = P[D-1:0] sign-extended, hi = (P >>> D) + P[D-1].
//
// Pipeline and timing are those of dsp_pe_packed (pipeline_depth = 4, one idle cycle after each
// chain): a pass of tk products with d drains has its sums in the readout registers after edge
// tk + d + 4. A pass covers two columns of the output per slice column.
module dsp_pe_actpacked #(
    parameter A = 8,     // activation bits (unsigned)
    parameter WB = 8,    // weight bits (signed, on the slice's 18-bit B port)
    parameter AW = 25,   // A port: 25 (DSP48E1), 27 (DSP48E2); needs D + A + 1 <= AW
    parameter D = 16,    // lane offset
    parameter ACC = 32,  // row accumulator bits
    parameter SAT = 0    // 0: wrap, 1: saturate
) (
    input clk,
    input in_valid,
    input in_clr,
    input in_drain,
    input in_first,
    input in_last,
    input [WB-1:0] w,
    input [A-1:0] x_hi,
    input [A-1:0] x_lo,
    input shift,
    input [ACC-1:0] chain_hi,
    input [ACC-1:0] chain_lo,
    output [ACC-1:0] out_hi,
    output [ACC-1:0] out_lo,
    output reg out_valid
);
  localparam PB = 48;
  localparam HW = PB - D + 1;

  reg [WB-1:0] w0;
  reg [A-1:0] xh0, xl0;
  reg v0 = 1'b0, c0 = 1'b0, d0 = 1'b0, f0 = 1'b0, l0 = 1'b0;
  always @(posedge clk) begin
    w0 <= w;
    xh0 <= x_hi;
    xl0 <= x_lo;
    v0 <= in_valid;
    c0 <= in_clr;
    d0 <= in_drain;
    f0 <= in_first;
    l0 <= in_last;
  end
  reg v1 = 1'b0, c1 = 1'b0, d1 = 1'b0, f1 = 1'b0, l1 = 1'b0;
  reg v2 = 1'b0, c2 = 1'b0, d2 = 1'b0, f2 = 1'b0, l2 = 1'b0;
  always @(posedge clk) begin
    {v1, c1, d1, f1, l1} <= {v0, c0, d0, f0, l0};
    {v2, c2, d2, f2, l2} <= {v1, c1, d1, f1, l1};
  end

  wire [AW-1:0] a_packed = {{(AW - D - A) {1'b0}}, xh0, {(D - A) {1'b0}}, xl0};
  wire [17:0] b_weight = {{(18 - WB) {w0[WB-1]}}, w0};
  wire [PB-1:0] p;
  msq_dsp_mac #(.AW(AW), .BW(18), .PB(PB)) mac (
      .clk(clk), .a(a_packed), .b(b_weight), .ce_p(v2), .clr(c2), .p(p));

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
