// The float reference: executes an imported FloatGraph on float inputs with plain loops, as the
// trained network computes it. Calibration reads its activation ranges and the accuracy report
// compares the integer network's outputs with it (docs/import.md).
#pragma once

#include <vector>

#include "models/workload/float_graph.h"

namespace msq {

// Every tensor of the graph for one image (input: [C, H, W] of the graph's input tensor, C order);
// result[t] holds tensor t's values [C][H][W].
std::vector<std::vector<float>> run_float_image(const FloatGraph& g, const float* input);

}  // namespace msq
