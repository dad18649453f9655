// Builds the quantized network the simulator runs from layer shapes and the workload config:
// synthetic float weights quantized by the policy of models/quantizer.h, biases, requantization
// constants and input activations, all seeded and deterministic.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/config.h"
#include "models/layer.h"

namespace msq {

// `shapes` is the whole network in order; w.layers (names, empty = all) selects the layers built.
// Layer i's data depends only on (w.seed, i, its shape and the quantization settings), so a layer
// gets the same data whichever other layers are run. Each built layer has shape.batch = w.batch;
// act_bits, acc_bits and overflow from the configs; output = Accumulators for the network's last
// layer when w.last_layer_accumulators.
//
// with_values == false (timing only): per-row scheme and bits by counts alone
// (assign_schemes_by_count, the same per-scheme counts as with values); weights, bias, requant
// constants stay empty and each input tensor has its dimensions but no data.
//
// Bad shapes or unknown layer names: msq::InputError. Out-of-range settings the config loader
// should have rejected (fractions, bit widths): std::invalid_argument.
// Upper bounds on one layer, far above any real network but low enough that the simulator's
// 64-bit counts (elements, bytes, MACs, cycles; summed over a network) cannot wrap.
constexpr int64_t kMaxLayerElements = int64_t(1) << 40;  // input, output or weights
constexpr int64_t kMaxLayerMacs = int64_t(1) << 50;

// What makes `s` (at s.batch) too large to simulate: "" when its element counts and MACs are
// within the bounds above, else a sentence for an error message ("expected ... (got ...)").
std::string layer_size_problem(const LayerShape& s);

// A network input [b, c, h, w] of `act_bits`-bit codes with the distribution of the layers' own
// synthetic inputs, seeded by `seed` alone (a graph run's input when none is given).
ActTensor synthetic_input(uint64_t seed, int b, int c, int h, int w, int act_bits);

Workload build_workload(const std::string& name, const std::vector<LayerShape>& shapes,
                        const WorkloadConfig& w, const AccumulatorConfig& acc, bool with_values);

}  // namespace msq
