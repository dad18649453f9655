// A trained network in floating point, as imported from ONNX (docs/import.md): the ops the
// integer graph has (models/graph/graph.h), with float weights and biases, BatchNormalization
// already folded into the convolutions and Relu / Clip(0, max) folded into their producers. The
// float reference executes it and calibration reads its activation ranges; the quantizer turns it
// into a msq::Graph.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "models/graph/graph.h"

namespace msq {

// A tensor of one image: [C, H, W] (a vector is [C, 1, 1]); the batch is the leading dimension of
// whatever is fed in.
struct FloatTensorDesc {
  std::string name;
  int c = 1, h = 1, w = 1;
  int64_t size() const { return int64_t(c) * h * w; }
};

struct FloatOp {
  std::string name;
  OpKind kind = OpKind::Conv;
  std::vector<int> inputs;  // tensor ids
  int output = -1;
  // Conv: weights [out_c][in_c / groups][kh][kw] (ONNX's layout, which is also the GEMM's
  // im2col row order); Fc: [out_c][in_c]. Pooling uses kh..pw as its window.
  int out_c = 0, groups = 1;
  int kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0;
  std::vector<float> weights, bias;
  // A fused activation: the output is clamped to [0, clamp_hi] when relu is set (Relu: hi = inf,
  // Relu6 / Clip(0, x): hi = x). Conv, Fc, Add and the average pools carry it.
  bool relu = false;
  float clamp_hi = std::numeric_limits<float>::infinity();

  int64_t k() const { return weights.empty() ? 0 : int64_t(weights.size()) / out_c; }
};

struct FloatGraph {
  std::string name;
  std::vector<FloatTensorDesc> tensors;
  std::vector<FloatOp> ops;  // every op after its producers
  int input = 0;
  std::vector<int> outputs;
};

}  // namespace msq
