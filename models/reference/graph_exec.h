// A plain integer executor of a msq::Graph (docs/arithmetic.md, "Networks as graphs"), op by op:
// the functional side of the float-agreement report and the source of each layer's real, chained
// input codes for the cycle model. Exact, no vectorization: the rules read straight off the
// contract.
#pragma once

#include <vector>

#include "models/graph/graph.h"
#include "models/layer.h"

namespace msq {

// Every tensor of the graph (codes, or accumulators for a layer that emits them), given the input
// tensor's codes [B, C, H, W]. B may differ from the graph's batch.
std::vector<OutTensor> run_graph_int(const Graph& g, const ActTensor& input);

// Float images n x [C, H, W] as the input tensor's codes: clamp(round(x / s) + z, 0, 2^bits - 1).
ActTensor quantize_input(const TensorDesc& t, const float* images, int n);

}  // namespace msq
