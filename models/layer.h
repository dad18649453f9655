// Layers as GEMMs and the quantized data they carry (docs/arithmetic.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace msq {

enum class LayerType : uint8_t { Conv, Fc };
enum class Scheme : uint8_t { Fixed = 0, Sp2 = 1 };  // values are the trace's scheme.npy codes
enum class Overflow : uint8_t { Wrap, Saturate };
enum class OutputKind : uint8_t { Activations, Accumulators };

// Shape of one layer. A conv maps to Y[M x N] = W[M x K] * X[K x N] with M = out_c,
// K = (in_c / groups) * kh * kw, N = out_h * out_w * batch. A fully connected layer is a 1x1 conv
// on a 1x1 input (in_c = K).
struct LayerShape {
  std::string name;
  LayerType type = LayerType::Conv;
  int batch = 1;
  int in_c = 1, in_h = 1, in_w = 1;
  int out_c = 1;
  int kh = 1, kw = 1;
  int sh = 1, sw = 1;
  int ph = 0, pw = 0;
  int groups = 1;

  int out_h() const { return (in_h + 2 * ph - kh) / sh + 1; }
  int out_w() const { return (in_w + 2 * pw - kw) / sw + 1; }
  int64_t m() const { return out_c; }
  int64_t k() const { return int64_t(in_c / groups) * kh * kw; }
  int64_t n() const { return int64_t(out_h()) * out_w() * batch; }
  int64_t macs() const { return m() * k() * n(); }
  // Rows of one group share the group's input channels; a row's group is row / rows_per_group().
  int rows_per_group() const { return out_c / groups; }
};

// A quantized layer: every per-row array has M entries, weights are [M][K] row-major integer
// weights (the decoded value, not the code: an SP2 row holds its levels, a fixed row its codes).
struct QuantLayer {
  LayerShape shape;
  int act_bits = 8;  // activation width, input and output
  int acc_bits = 32;
  Overflow overflow = Overflow::Wrap;
  // Per row, when the rows run on engines of different accumulators (an engine's own
  // accumulator, docs/config.md): each row's width and Overflow; empty: acc_bits and overflow.
  std::vector<uint8_t> row_acc_bits, row_overflow;
  OutputKind output = OutputKind::Activations;
  std::vector<int32_t> weights;  // [M][K] (int32: an 8-bit SP2 level reaches 2^15)
  std::vector<uint8_t> scheme;   // [M] Scheme values
  std::vector<uint8_t> bits;     // [M] bit width of each row
  std::vector<int32_t> bias;     // [M]
  std::vector<int32_t> rq_mult;  // [M] non-negative
  std::vector<int8_t> rq_shift;  // [M] in [1, 62]
  // Zero points and clamp of the requantization (docs/arithmetic.md): padded input positions hold
  // in_zero (its effect on the sums is folded into the bias at import), the output is
  // clamp(((acc * M + 2^(S-1)) >> S) + out_zero, lo, hi); hi < 0 means 2^act_bits - 1.
  int32_t in_zero = 0, out_zero = 0, lo = 0, hi = -1;
  // The clamp's top in codes: hi, or 2^act_bits - 1 when hi < 0.
  int32_t hi_code() const { return hi < 0 ? int32_t((int64_t(1) << act_bits) - 1) : hi; }
  // Quantization error of each scheme's rows (relative: ||w - q||^2 / ||w||^2), when known.
  double rel_err_sp2 = -1.0, rel_err_fixed = -1.0;

  const int32_t* row(int64_t m) const { return weights.data() + m * shape.k(); }
};

// Activation tensor [B, C, H, W], unsigned codes below 2^act_bits.
struct ActTensor {
  int b = 0, c = 0, h = 0, w = 0;
  std::vector<uint16_t> data;
  size_t size() const { return size_t(b) * c * h * w; }
  uint16_t at(int bi, int ci, int hi, int wi) const {
    return data[((size_t(bi) * c + ci) * h + hi) * w + wi];
  }
};

// Layer output [B, Cout, Hout, Wout]: requantized activations, or raw accumulators when the layer
// emits them. int64 so that accumulators of up to 64 bits fit.
struct OutTensor {
  int b = 0, c = 0, h = 0, w = 0;
  std::vector<int64_t> data;
  size_t size() const { return size_t(b) * c * h * w; }
};

// The whole network as the simulator runs it.
struct Workload {
  std::string name;
  std::vector<QuantLayer> layers;
  std::vector<ActTensor> inputs;  // one per layer
};

}  // namespace msq
