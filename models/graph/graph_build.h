// A network file's graph made runnable with synthetic constants (no calibration data): every
// tensor has the activation width, scale 0 ("not calibrated") and zero point 0; Conv / Fc layers
// keep the builder's requantization; the other ops get the constants of docs/config.md
// ("Graphs"): an Add weighs each input 5/8 (M_A = M_B = 5, S = 3), an average pool divides by its
// window area (M = round(2^20 / area), S = 20), all clamped to [0, 2^a - 1].
#pragma once

#include <vector>

#include "models/graph/graph.h"

namespace msq {

Graph synthetic_graph(const Graph& skeleton, const std::vector<QuantLayer>& layers, int act_bits);

}  // namespace msq
