// Calibration and quantization of an imported float network into the integer graph both models
// run (docs/import.md): per-tensor activation scales and zero points from calibration inputs,
// per-row weights by the quantization policy (models/quantizer.h), biases with the input zero
// point folded in, normalized integer multipliers and shifts for every requantization.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "models/graph/graph.h"
#include "models/workload/float_graph.h"

namespace msq {

// A tensor's float range over the calibration inputs (widened to include 0 when quantized).
struct TensorRange {
  float lo = 0, hi = 0;
};

// Min and max of every tensor of `g` over `n` images (`images`: n x [C, H, W] of the input).
std::vector<TensorRange> calibrate(const FloatGraph& g, const std::vector<float>& images, int n);

// n deterministic pseudo-random images for a network without calibration data: normal values
// (mean 0, deviation 1, as a normalized image), seeded.
std::vector<float> synthetic_images(const FloatGraph& g, int n, uint64_t seed);

struct QuantizeOptions {
  int act_bits = 8, weight_bits = 4;
  double sp2_fraction = 0.5, fixed8_fraction = 0.0;
  // Per-layer SP2 fractions (by op name) that replace sp2_fraction for that layer.
  std::map<std::string, double> sp2_fraction_per_layer;
  // Per-layer 8-bit fractions (by op name) that replace fixed8_fraction for that layer.
  std::map<std::string, double> fixed8_fraction_per_layer;
  // auto: each layer's SP2 fraction is the share of its rows whose SP2 error is below their
  // fixed-point error, clamped to [auto_lo, auto_hi] (per-layer overrides still win).
  bool sp2_auto = false;
  double auto_lo = 0.0, auto_hi = 1.0;
  int acc_bits = 32;
  Overflow overflow = Overflow::Wrap;
  bool last_layer_accumulators = true;  // a final Conv / Fc emits raw accumulators
  int batch = 1;
  // Testing aid, true in any real use: false leaves the input zero point out of the biases (the
  // classic zero-point bug, a broken quantizer that the accuracy bounds must catch).
  bool fold_zero_point = true;
};

// Per Conv / Fc layer: what the scheme mix cost in weight error (relative: ||w - q||^2 / ||w||^2
// over the layer's rows), for all rows fixed, all rows SP2 (at weight_bits) and the mix used.
struct LayerQuantInfo {
  std::string name;
  double sp2_fraction = 0;  // the fraction used for this layer
  double err_fixed = 0, err_sp2 = 0, err_mix = 0;
};

struct QuantizedNet {
  Graph graph;
  std::vector<LayerQuantInfo> layers;  // per Graph::layers entry
  // Per Graph::layers entry that emits accumulators: the real value of one accumulator unit per
  // row (s_in * alpha_row / D_row), to dequantize the network's outputs.
  std::vector<std::vector<double>> acc_scale;
};

// Throws InputError naming the layer when a folded bias overflows int32 or a multiplier is out of
// range.
QuantizedNet quantize_graph(const FloatGraph& g, const std::vector<TensorRange>& ranges,
                            const QuantizeOptions& o);

// A real multiplier m >= 0 as M * 2^-S with M a normalized non-negative int32 (in [2^30, 2^31)
// unless m is tiny or 0) and S in [1, 62]. m too large for S >= 1: std::out_of_range.
void quantize_multiplier(double m, int32_t* mult, int* shift);

}  // namespace msq
