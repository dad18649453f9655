// Building blocks shared by the processing elements (docs/resources.md, "Where the coefficients
// come from"). Each part is its own module so that a hierarchical Yosys run reports its cells
// apart: tools/synth_costs.py derives the cost file's per-part coefficients from them.

// A finite two's complement accumulator: q <= (first ? 0 : q) +/- addend, wrapped to ACC bits
// (SAT = 0) or clamped to its range (SAT = 1), the same rule as the simulator's acc_add. The sum
// is formed one bit wider than both operands, so it is exact before wrapping or clamping.
module msq_acc #(
    parameter ACC = 32,     // accumulator bits
    parameter IW = 16,      // addend bits (signed)
    parameter SAT = 0,      // 0: wrap, 1: saturate
    parameter HAS_SUB = 1   // 1: `sub` negates the addend (an SP2 product's sign)
) (
    input clk,
    input en,
    input first,
    input sub,
    input [IW-1:0] addend,
    output reg [ACC-1:0] q
);
  localparam W = (ACC > IW ? ACC : IW) + 1;
  wire [W-1:0] base = first ? {W{1'b0}} : {{(W - ACC) {q[ACC-1]}}, q};
  wire [W-1:0] add = {{(W - IW) {addend[IW-1]}}, addend};
  // The negation rides the adder: XOR into the addend, +1 into the carry-in.
  wire neg = HAS_SUB ? sub : 1'b0;
  wire [W-1:0] sum = base + (add ^ {W{neg}}) + {{(W - 1) {1'b0}}, neg};
  wire [W-1:0] maxv = {{(W - ACC + 1) {1'b0}}, {(ACC - 1) {1'b1}}};
  wire [W-1:0] minv = ~maxv;
  wire above = !sum[W-1] && (sum > maxv);
  wire below = sum[W-1] && (sum < minv);
  always @(posedge clk)
    if (en) begin
      if (SAT != 0 && above) q <= maxv[ACC-1:0];
      else if (SAT != 0 && below) q <= minv[ACC-1:0];
      else q <= sum[ACC-1:0];
    end
endmodule

// The output-stationary readout: a finished sum is loaded while the next one accumulates, and the
// column's readout registers shift their sums out towards the array edge.
module msq_readout #(
    parameter ACC = 32
) (
    input clk,
    input load,
    input shift,
    input [ACC-1:0] d,
    input [ACC-1:0] chain_in,
    output reg [ACC-1:0] q
);
  always @(posedge clk)
    if (load) q <= d;
    else if (shift) q <= chain_in;
endmodule

// One SP2 term: x << (F - e), or 0 for e = 0 (t(e) = 2^(F - e)).
module sp2_shifter #(
    parameter A = 8,  // activation bits
    parameter M = 2,  // exponent bits
    parameter F = 3   // largest exponent of the format's first term (2^m1 - 1)
) (
    input [A-1:0] x,
    input [M-1:0] e,
    output [A+F-2:0] t
);
  wire [A+F-2:0] xw = {{(F - 1) {1'b0}}, x};
  wire [31:0] amount = F - {{(32 - M) {1'b0}}, e};
  assign t = (e == 0) ? {(A + F - 1) {1'b0}} : (xw << amount);
endmodule
