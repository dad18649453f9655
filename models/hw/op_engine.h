// The interface of an engine that runs a graph's non-GEMM ops (Add, pools, Concat, Flatten): a
// SystemC module that takes the ops in graph order as their inputs become ready (GraphFlow),
// moves their tensors through the DMA and writes their values. Built through the engine registry
// (models/hw/engine_registry.h, op_engine_kinds()).
#pragma once

#include <cstdint>
#include <systemc>
#include <vector>

#include "models/config.h"

namespace msq {

class Dma;
class GraphFlow;

class OpEngine : public sc_core::sc_module {
 public:
  using sc_core::sc_module::sc_module;
  virtual ~OpEngine() = default;
  virtual const char* impl() const = 0;
  // Cycles the engine computed, over the whole run.
  virtual int64_t busy_cycles() const = 0;
};

// What an op engine's factory gets: the graph's flow, the DMA, the fabric clock, the
// accelerator's config (for its own keys) and the bytes per value of each tensor.
struct OpEngineContext {
  GraphFlow& flow;
  Dma& dma;
  sc_core::sc_time clock;
  const AcceleratorConfig& accel;
  const std::vector<int>& elem_bytes;
};

}  // namespace msq
