// The functional model on a graph: executes every op in order with plain integer arithmetic
// (docs/arithmetic.md, "Networks as graphs"); each op reads the tensors its producers wrote. The
// cycle model's tensors are checked against these.
#pragma once

#include <cstdint>
#include <vector>

#include "models/graph/graph.h"
#include "models/layer.h"

namespace msq {

struct GraphValues {
  std::vector<OutTensor> tensors;   // by tensor id: codes (or a final layer's accumulators)
  std::vector<uint64_t> overflows;  // by op: accumulator overflows of Conv / Fc ops
};

// `layers`: the Conv / Fc ops' layers (Graph::layers unless kept elsewhere). `input`: the network
// input's codes. The graph must have passed check_graph. Throws InputError when the input does not
// match the graph's input tensor.
GraphValues run_graph_functional(const Graph& g, const std::vector<QuantLayer>& layers,
                                 const ActTensor& input);

// The same on any batch: `input.b` images through the graph (its tensors and layers re-batched
// when input.b differs from the graph's), with Graph::layers. The integer side of the accuracy
// report (`run --eval`) and the source of an ONNX layer subset's chained inputs.
GraphValues run_graph_int(const Graph& g, const ActTensor& input);

// Float images n x [C, H, W] as the input tensor's codes: clamp(round(x / s) + z, 0, 2^bits - 1)
// (scale 0, not calibrated: s = 1).
ActTensor quantize_input(const TensorDesc& t, const float* images, int n);

// An op's input as the codes a Conv / Fc layer reads: the tensor's values, shaped as the layer's
// input ([B, K, 1, 1] for an Fc, whatever the producer's shape: Flatten is a view in C order).
ActTensor layer_input(const OutTensor& t, const LayerShape& s);

// The non-GEMM ops, plain: one output value at a time, straight from the formulas.
OutTensor reference_op(const Op& op, const std::vector<const OutTensor*>& in,
                       const std::vector<const TensorDesc*>& in_desc, const TensorDesc& out_desc);

}  // namespace msq
