// A bit-serial SP2 processing element: one signed digit of the weight per cycle.
//
// Digit encoding: a digit is a signed power of two, {s, e} with e in [0, 2^M1 - 1]: the value
// (-1)^s * t(e), t(0) = 0, t(e) = 2^(F - e). An SP2 weight (s, e1, e2) is the two digits
// {s, e1} then {s, e2}, so every weight takes 2 cycles whatever its value (the timing does not
// depend on the data). The PE needs one shifter instead of two and no term adder.
//
// Pipeline: operand registers, the shifted term and its sign, the accumulator; then the readout
// register. A pass of tk weights (2 tk digits) has its sum in the readout register after edge
// 2 tk + 3.
module sp2_pe_bitserial #(
    parameter A = 8,     // activation bits (unsigned)
    parameter M1 = 2,    // exponent bits of a digit (the SP2 format's m1)
    parameter ACC = 32,  // accumulator bits
    parameter SAT = 0    // 0: wrap, 1: saturate
) (
    input clk,
    input in_valid,
    input in_first,          // first digit of a reduction
    input in_last,           // last digit of a reduction
    input [A-1:0] x,
    input [M1:0] digit,      // s | e
    input shift,
    input [ACC-1:0] chain_in,
    output [ACC-1:0] out,
    output reg out_valid
);
  localparam F = (1 << M1) - 1;
  localparam SW = A + F - 1;

  reg [A-1:0] x1;
  reg [M1:0] d1;
  reg v1 = 1'b0, f1 = 1'b0, l1 = 1'b0;
  always @(posedge clk) begin
    x1 <= x;
    d1 <= digit;
    v1 <= in_valid;
    f1 <= in_first;
    l1 <= in_last;
  end

  wire [SW-1:0] tw;
  sp2_shifter #(.A(A), .M(M1), .F(F)) sh (.x(x1), .e(d1[M1-1:0]), .t(tw));
  reg [SW-1:0] t2;
  reg s2, v2 = 1'b0, f2 = 1'b0, l2 = 1'b0;
  always @(posedge clk) begin
    t2 <= tw;
    s2 <= d1[M1];
    v2 <= v1;
    f2 <= f1;
    l2 <= l1;
  end

  wire [ACC-1:0] acc;
  msq_acc #(.ACC(ACC), .IW(SW + 1), .SAT(SAT), .HAS_SUB(1)) accu (
      .clk(clk), .en(v2), .first(f2), .sub(s2), .addend({1'b0, t2}), .q(acc));
  reg done3 = 1'b0;
  always @(posedge clk) begin
    done3 <= v2 & l2;
    out_valid <= done3;
  end
  msq_readout #(.ACC(ACC)) ro (
      .clk(clk), .load(done3), .shift(shift), .d(acc), .chain_in(chain_in), .q(out));
endmodule
