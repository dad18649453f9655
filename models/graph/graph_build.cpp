#include "models/graph/graph_build.h"

#include <cmath>

namespace msq {

Graph synthetic_graph(const Graph& skeleton, const std::vector<QuantLayer>& layers, int act_bits) {
  Graph g = skeleton;
  const int32_t top = int32_t((int64_t(1) << act_bits) - 1);
  for (TensorDesc& t : g.tensors) {
    t.bits = act_bits;
    t.scale = 0.0;
    t.zero_point = 0;
  }
  for (Op& op : g.ops) {
    op.lo = 0;
    op.hi = top;
    if (op.layer >= 0) {
      const QuantLayer& L = layers[size_t(op.layer)];
      g.tensors[size_t(op.output)].zero_point = L.out_zero;
      continue;
    }
    switch (op.kind) {
      case OpKind::Add:
        op.mult_a = op.mult_b = 5;
        op.shift = 3;
        break;
      case OpKind::AvgPool:
      case OpKind::GlobalAvgPool: {
        const TensorDesc& in = g.tensors[size_t(op.inputs[0])];
        const double area =
            op.kind == OpKind::AvgPool ? double(op.kh) * op.kw : double(in.h) * in.w;
        op.shift = 20;
        op.mult_a = int32_t(std::lround(std::ldexp(1.0, 20) / area));
        op.mult_b = 0;
        break;
      }
      default:
        break;
    }
  }
  return g;
}

}  // namespace msq
