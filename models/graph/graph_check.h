// Checks a Graph before anything runs it: every op reads tensors that exist and are produced
// before it (no dangling input, no cycle), shapes agree with each op's rule, and every constant is
// in its range (docs/config.md, "Graphs"). A graph that passes can be executed by both models.
#pragma once

#include <string>
#include <vector>

#include "models/graph/graph.h"

namespace msq {

// "conv", "fc", "add", "maxpool", "avgpool", "global_avgpool", "concat", "flatten".
const char* op_kind_name(OpKind k);

// The output shape an op's rule gives for its input shapes (b, c, h, w; bits and zero point of
// the first input). `layer` is the op's QuantLayer for Conv / Fc, else null. Throws InputError
// naming the op when the inputs do not fit the rule.
TensorDesc infer_output(const Op& op, const std::vector<const TensorDesc*>& in,
                        const QuantLayer* layer);

// Throws InputError ("graph NAME: op OP (KIND): ...") for the first problem found. `layers` are
// the Conv / Fc ops' layers (Graph::layers unless the caller keeps them elsewhere).
void check_graph(const Graph& g, const std::vector<QuantLayer>& layers);
inline void check_graph(const Graph& g) {
  check_graph(g, g.layers);
}

}  // namespace msq
