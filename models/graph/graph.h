// The network as a graph of integer operations on activation tensors (docs/arithmetic.md,
// "Networks as graphs"). Plain data: importers (network YAML, ONNX) build it, the planner and
// both models read it. Every rule for executing an op is exact and shared by the functional
// model, the cycle model and graph traces.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/layer.h"

namespace msq {

enum class OpKind : uint8_t { Conv, Fc, Add, MaxPool, AvgPool, GlobalAvgPool, Concat, Flatten };

// An activation tensor [B, C, H, W] of unsigned `bits`-bit codes; real value =
// scale * (code - zero_point). scale 0 means "not calibrated": the ranges are synthetic.
struct TensorDesc {
  std::string name;
  int b = 1, c = 1, h = 1, w = 1;
  int bits = 8;
  double scale = 0.0;
  int32_t zero_point = 0;
  int64_t size() const { return int64_t(b) * c * h * w; }
};

// One operation. Conv and Fc ops carry their weights, bias and per-row requantization in
// Graph::layers[layer] (QuantLayer: the input zero point is folded into the bias and pads the
// input; out_zero, lo and hi complete the requantization). The other ops requantize with the
// scalar constants below, in int64 with an arithmetic shift:
//   Add:      y = clamp(((mult_a * (A - zA) + mult_b * (B - zB) + 2^(shift-1)) >> shift) + z, lo, hi)
//   AvgPool / GlobalAvgPool:
//             T = sum over the full window of (x - z_in) (padding adds 0),
//             y = clamp(((T * mult_a + 2^(shift-1)) >> shift) + z, lo, hi)
//   MaxPool:  the largest in-bounds code of each window; scale and zero point pass through.
//   Concat:   channel concatenation; the inputs share scale and zero point.
//   Flatten:  a view in C order ([B, C*H*W, 1, 1]).
// zA, zB, z_in and z are the zero points of the tensors involved (Graph::tensors).
struct Op {
  std::string name;
  OpKind kind = OpKind::Conv;
  std::vector<int> inputs;  // tensor ids, in operand order
  int output = -1;          // tensor id
  int layer = -1;           // Conv / Fc: index into Graph::layers
  int kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0;  // pooling window
  int32_t mult_a = 1, mult_b = 1;                      // non-negative
  int shift = 1;                                       // 1..62
  int32_t lo = 0, hi = 255;                            // output clamp (codes)
};

struct Graph {
  std::string name;
  std::vector<TensorDesc> tensors;
  std::vector<Op> ops;             // in an order where every op follows its producers
  std::vector<QuantLayer> layers;  // the Conv / Fc ops' quantized data
  int input = 0;                   // tensor id of the network input
  std::vector<int> outputs;        // tensor ids the network returns
};

}  // namespace msq
