// The vector (post-processing) engine: runs a graph's Add, MaxPool, AvgPool, GlobalAvgPool,
// Concat and Flatten ops, one at a time in graph order, each once its inputs are ready. An op reads
// its input tensors from DRAM, computes on `lanes` values per cycle and writes its output tensor
// back (docs/arithmetic.md, "Networks as graphs", for the values; docs/report.md for the timing).
#pragma once

#include <systemc>

#include "models/config.h"
#include "models/dma.h"
#include "models/graph_flow.h"
#include "models/hw/op_engine.h"

namespace msq {

// Compute cycles of one op on `lanes` lanes: one lane-operation per value an op touches (an Add
// per output, a pool per window tap, a global pool per input value, a concat per output copied),
// plus the pipeline's fill. A Flatten is a view: 0.
int64_t vector_op_cycles(const Graph& g, const Op& op, int lanes, int pipeline_depth);

// The op's values as the engine computes them (lane by lane over the output); equal to the
// functional model's by construction of the contract, checked by verification.
OutTensor vector_op_values(const Graph& g, const Op& op, const std::vector<const OutTensor*>& in);

class VectorEngine : public OpEngine {
 public:
  VectorEngine(sc_core::sc_module_name name, GraphFlow& flow, Dma& dma, sc_core::sc_time clock,
               const VectorConfig& cfg, const std::vector<int>& elem_bytes);

  const char* impl() const override { return "vector"; }
  int64_t busy_cycles() const override { return busy_; }

 private:
  void run();
  GraphFlow& flow_;
  Dma& dma_;
  sc_core::sc_time clock_;
  VectorConfig cfg_;
  std::vector<int> elem_bytes_;
  int64_t busy_ = 0;
};

// The registry's factory (accelerator.vector keys).
std::unique_ptr<OpEngine> make_vector(const char* name, const OpEngineContext& ctx);

}  // namespace msq
