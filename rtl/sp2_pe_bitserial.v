// The bit-serial SP2 processing element of the lut_sp2_bitserial engine (docs/arithmetic.md, "The
// bit-serial LUT core's product"): one signed digit of the weight per cycle, as MSD's LUT PE.
//
// Digit word {s, e}, e in [0, 2^M1 - 1]: the value (-1)^s * t(e), t(0) = 0, t(e) = 2^(F - e), so
// e != 0 is a shift of the activation by F - e and e = 0 a zero digit. An SP2 weight (s, e1, e2)
// is its nonzero terms, e1's first; the weight buffer pads every weight with zero digits to the
// block's digit count, so every k step takes `digits` cycles whatever its weights.
//
// SAT = 1 (saturate): the digits of one weight are summed in a product register (exact: a + F + 1
// bits), and the product enters the accumulator whole after the weight's last digit, so the
// accumulator saturates product by product, as the cycle model's acc_add. Pipeline: operand
// registers, the shifted term and its sign, the product register, the accumulator; then the
// readout register.
//
// SAT = 0 (wrap): no product register; each digit's signed term goes straight into the
// accumulator. Wrapping is addition modulo 2^ACC, which is associative, so the sum is bit for bit
// the one of adding whole products. The overflow count the models report (one per product whose
// exact sum leaves the range) is still what this PE does: the digits of one weight share its
// sign, so the wraps of its digits all go the same way and the product wraps exactly when one of
// its digits does (docs/arithmetic.md). Pipeline: two operand registers (the second keeps the
// depth the engine charges), the shifted term and its sign, the accumulator; then the readout.
//
// Both: pipeline_depth = 4. A pass of tk steps of d digits has its sums in the readout register
// after edge tk * d + 4, the timing the engine charges.
module sp2_pe_bitserial #(
    parameter A = 8,     // activation bits (unsigned)
    parameter M1 = 2,    // exponent bits of a digit (the SP2 format's m1)
    parameter ACC = 32,  // accumulator bits
    parameter SAT = 0    // 0: wrap, 1: saturate
) (
    input clk,
    input in_valid,
    input in_dfirst,         // first digit of a weight: the product register restarts
    input in_dlast,          // last digit of a weight: the product goes to the accumulator
    input in_first,          // a digit of the first weight of a reduction
    input in_last,           // a digit of the last weight of a reduction
    input [A-1:0] x,
    input [M1:0] digit,      // s | e
    input shift,
    input [ACC-1:0] chain_in,
    output [ACC-1:0] out,
    output reg out_valid
);
  localparam F = (1 << M1) - 1;
  localparam SW = A + F - 1;  // a shifted term: the largest shift is F - 1
  localparam PW = A + F + 1;  // a signed product: |x w| < 2^(A + F)

  generate
    if (SAT == 0) begin : g_wrap
      // Flags: valid, first digit of the reduction, last digit of the reduction.
      reg [A-1:0] x1, x1b;
      reg [M1:0] d1, d1b;
      reg v1 = 1'b0, f1 = 1'b0, l1 = 1'b0, v1b = 1'b0, f1b = 1'b0, l1b = 1'b0;
      always @(posedge clk) begin
        x1 <= x;
        d1 <= digit;
        v1 <= in_valid;
        f1 <= in_first & in_dfirst;
        l1 <= in_last & in_dlast;
        x1b <= x1;
        d1b <= d1;
        v1b <= v1;
        f1b <= f1;
        l1b <= l1;
      end

      wire [SW-1:0] tw;
      sp2_shifter #(.A(A), .M(M1), .F(F)) sh (.x(x1b), .e(d1b[M1-1:0]), .t(tw));
      reg [SW-1:0] t2;
      reg s2, v2 = 1'b0, f2 = 1'b0, l2 = 1'b0;
      always @(posedge clk) begin
        t2 <= tw;
        s2 <= d1b[M1];
        v2 <= v1b;
        f2 <= f1b;
        l2 <= l1b;
      end

      // acc <= (first ? 0 : acc) +/- term, wrapped: modulo 2^ACC, as adding whole products.
      wire [ACC-1:0] acc;
      msq_acc #(.ACC(ACC), .IW(SW + 1), .SAT(0), .HAS_SUB(1)) accu (
          .clk(clk), .en(v2), .first(f2), .sub(s2), .addend({1'b0, t2}), .q(acc));
      reg done3 = 1'b0;
      always @(posedge clk) begin
        done3 <= v2 & l2;
        out_valid <= done3;
      end
      msq_readout #(.ACC(ACC)) ro (
          .clk(clk), .load(done3), .shift(shift), .d(acc), .chain_in(chain_in), .q(out));
    end else begin : g_sat
      reg [A-1:0] x1;
      reg [M1:0] d1;
      reg v1 = 1'b0, df1 = 1'b0, dl1 = 1'b0, f1 = 1'b0, l1 = 1'b0;
      always @(posedge clk) begin
        x1 <= x;
        d1 <= digit;
        v1 <= in_valid;
        df1 <= in_dfirst;
        dl1 <= in_dlast;
        f1 <= in_first;
        l1 <= in_last;
      end

      wire [SW-1:0] tw;
      sp2_shifter #(.A(A), .M(M1), .F(F)) sh (.x(x1), .e(d1[M1-1:0]), .t(tw));
      reg [SW-1:0] t2;
      reg s2, v2 = 1'b0, df2 = 1'b0, dl2 = 1'b0, f2 = 1'b0, l2 = 1'b0;
      always @(posedge clk) begin
        t2 <= tw;
        s2 <= d1[M1];
        v2 <= v1;
        df2 <= df1;
        dl2 <= dl1;
        f2 <= f1;
        l2 <= l1;
      end

      // The product register: (dfirst ? 0 : p) +/- term, exact.
      wire [PW-1:0] p;
      msq_acc #(.ACC(PW), .IW(SW + 1), .SAT(0), .HAS_SUB(1)) prod (
          .clk(clk), .en(v2), .first(df2), .sub(s2), .addend({1'b0, t2}), .q(p));
      reg add3 = 1'b0, f3 = 1'b0, l3 = 1'b0;
      always @(posedge clk) begin
        add3 <= v2 & dl2;
        f3 <= f2;
        l3 <= l2;
      end

      wire [ACC-1:0] acc;
      msq_acc #(.ACC(ACC), .IW(PW), .SAT(SAT), .HAS_SUB(0)) accu (
          .clk(clk), .en(add3), .first(f3), .sub(1'b0), .addend(p), .q(acc));
      reg done4 = 1'b0;
      always @(posedge clk) begin
        done4 <= add3 & l3;
        out_valid <= done4;
      end
      msq_readout #(.ACC(ACC)) ro (
          .clk(clk), .load(done4), .shift(shift), .d(acc), .chain_in(chain_in), .q(out));
    end
  endgenerate
endmodule
