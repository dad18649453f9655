// How values and readiness flow between the ops of a graph in the cycle model: the scheduler's
// Conv / Fc layers and the vector engine's ops each wait until the ops that produce their inputs
// are done, then read the tensors those ops wrote (the cycle model's own values, so a wrong bit
// early shows in every later tensor).
#pragma once

#include <string>
#include <systemc>
#include <vector>

#include "models/graph/graph.h"
#include "models/layer.h"
#include "models/plan/tensor_memory.h"

namespace msq {

struct LayerRun;

// What one op did, for the report.
struct OpTiming {
  sc_core::sc_time start, end;
  int64_t busy_cycles = 0;  // compute cycles of the engine that ran it
  int64_t dram_bytes = 0;
};

class GraphFlow {
 public:
  GraphFlow(const Graph& g, const std::vector<QuantLayer>& layers, bool values);

  const Graph& graph;
  const std::vector<QuantLayer>& layers;
  bool values;
  std::vector<int> layer_op;  // by layer index (LayerRun): its op
  std::vector<int> producer;  // by tensor: the op that writes it (-1: the network input)
  TensorMemoryPlan memory;
  std::vector<OpTiming> timing;         // by op
  std::vector<OutTensor> store;         // by tensor: the vector engine's outputs, the input
  std::vector<const OutTensor*> value;  // by tensor: where its values are (null: not yet)
  std::vector<ActTensor> layer_in;      // by layer: the codes it reads
  // By op: its index among the timeline's layer names (after the Conv / Fc layers, the vector
  // engine's ops), or -1 for an op without spans of its own (Conv / Fc, which the layers' spans
  // cover, and Flatten, a view).
  std::vector<int> timeline_index;

  // Blocks the calling SystemC thread until every producer of op's inputs is done.
  void wait_inputs(int op);
  void finish(int op);
  bool done(int op) const { return done_[size_t(op)] != 0; }

  // The scheduler's hooks: before a layer's first input load (waits for its producers, makes its
  // input codes) and after its last output is in DRAM.
  void before_layer(LayerRun& run, int layer);
  void after_layer(LayerRun& run, int layer);

 private:
  std::vector<char> done_;
  sc_core::sc_event ev_;
};

}  // namespace msq
