// The LUT core's bit-parallel SP2 processing element: one weight x activation product per cycle,
// as two shifts and an add, accumulated output-stationary (docs/resources.md).
//
// Pipeline (pipeline_depth = 4): operand registers, the two shifted terms and the sign, the
// product's magnitude and the sign, the accumulator; then the readout register. Operands offered
// in cycle k reach the accumulator after edge k + 4: a pass of tk steps has its sum in the readout
// register after edge tk + 4, the timing lut_job_cycles charges.
module sp2_pe #(
    parameter A = 8,     // activation bits (unsigned)
    parameter M1 = 2,    // exponent bits of the first term; the code is b = 1 + M1 + M2 bits
    parameter M2 = 1,    // exponent bits of the second term
    parameter ACC = 32,  // accumulator bits
    parameter SAT = 0    // 0: wrap, 1: saturate
) (
    input clk,
    input in_valid,             // operands offered this cycle
    input in_first,             // first step of a reduction: the accumulator restarts
    input in_last,              // last step: the finished sum moves to the readout register
    input [A-1:0] x,
    input [M1+M2:0] code,       // s | e1 | e2, from the top bit down
    input shift,                // readout chain: take the neighbour's sum
    input [ACC-1:0] chain_in,
    output [ACC-1:0] out,
    output reg out_valid
);
  localparam B = 1 + M1 + M2;
  localparam F = (1 << M1) - 1;
  localparam SW = A + F - 1;  // a shifted term: the largest shift is F - 1
  localparam PW = A + F;      // the sum of two terms

  reg [A-1:0] x1;
  reg [B-1:0] c1;
  reg v1 = 1'b0, f1 = 1'b0, l1 = 1'b0;
  always @(posedge clk) begin
    x1 <= x;
    c1 <= code;
    v1 <= in_valid;
    f1 <= in_first;
    l1 <= in_last;
  end

  wire [SW-1:0] t1w, t2w;
  sp2_shifter #(.A(A), .M(M1), .F(F)) sh1 (.x(x1), .e(c1[M1+M2-1:M2]), .t(t1w));
  sp2_shifter #(.A(A), .M(M2), .F(F)) sh2 (.x(x1), .e(c1[M2-1:0]), .t(t2w));
  reg [SW-1:0] t1, t2;
  reg s2, v2 = 1'b0, f2 = 1'b0, l2 = 1'b0;
  always @(posedge clk) begin
    t1 <= t1w;
    t2 <= t2w;
    s2 <= c1[B-1];
    v2 <= v1;
    f2 <= f1;
    l2 <= l1;
  end

  reg [PW-1:0] p3;
  reg s3, v3 = 1'b0, f3 = 1'b0, l3 = 1'b0;
  always @(posedge clk) begin
    p3 <= {1'b0, t1} + {1'b0, t2};
    s3 <= s2;
    v3 <= v2;
    f3 <= f2;
    l3 <= l2;
  end

  wire [ACC-1:0] acc;
  msq_acc #(.ACC(ACC), .IW(PW + 1), .SAT(SAT), .HAS_SUB(1)) accu (
      .clk(clk), .en(v3), .first(f3), .sub(s3), .addend({1'b0, p3}), .q(acc));
  reg done4 = 1'b0;
  always @(posedge clk) begin
    done4 <= v3 & l3;
    out_valid <= done4;
  end
  msq_readout #(.ACC(ACC)) ro (
      .clk(clk), .load(done4), .shift(shift), .d(acc), .chain_in(chain_in), .q(out));
endmodule
