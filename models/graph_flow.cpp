#include "models/graph_flow.h"

#include "models/layer_run.h"
#include "models/reference/graph_reference.h"

namespace msq {

GraphFlow::GraphFlow(const Graph& g, const std::vector<QuantLayer>& l, bool v)
    : graph(g), layers(l), values(v) {
  layer_op.assign(l.size(), -1);
  producer.assign(g.tensors.size(), -1);
  for (size_t i = 0; i < g.ops.size(); ++i) {
    producer[size_t(g.ops[i].output)] = int(i);
    if (g.ops[i].layer >= 0) layer_op[size_t(g.ops[i].layer)] = int(i);
  }
  timing.resize(g.ops.size());
  store.resize(g.tensors.size());
  value.assign(g.tensors.size(), nullptr);
  layer_in.resize(l.size());
  done_.assign(g.ops.size(), 0);
}

void GraphFlow::wait_inputs(int op) {
  for (int t : graph.ops[size_t(op)].inputs) {
    const int p = producer[size_t(t)];
    while (p >= 0 && !done_[size_t(p)]) sc_core::wait(ev_);
  }
}

void GraphFlow::finish(int op) {
  done_[size_t(op)] = 1;
  timing[size_t(op)].end = sc_core::sc_time_stamp();
  ev_.notify(sc_core::SC_ZERO_TIME);
}

void GraphFlow::before_layer(LayerRun& run, int layer) {
  const int op = layer_op[size_t(layer)];
  wait_inputs(op);
  timing[size_t(op)].start = sc_core::sc_time_stamp();
  if (values) {
    // The layer reads the codes its producer wrote, as the layer's input shape (an Fc reads a
    // [B, C, H, W] tensor flattened in C order).
    layer_in[size_t(layer)] =
        layer_input(*value[size_t(graph.ops[size_t(op)].inputs[0])], run.layer->shape);
    run.input = &layer_in[size_t(layer)];
  }
}

void GraphFlow::after_layer(LayerRun& run, int layer) {
  const int op = layer_op[size_t(layer)];
  value[size_t(graph.ops[size_t(op)].output)] = &run.out;
  timing[size_t(op)].dram_bytes = run.dram_bytes;
  finish(op);
  if (values) {
    layer_in[size_t(layer)] = ActTensor();  // its codes are no longer needed
    run.input = nullptr;
  }
}

}  // namespace msq
