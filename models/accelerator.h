// The accelerator top: builds the blocks (DRAM, DMA, buffers, scheduler, and the engines through
// the engine registry) for a config, runs the workload through them once, and returns what each
// block counted. SystemC elaborates once per process, so simulate() may be called once per process.
#pragma once

#include <string>
#include <vector>

#include "models/config.h"
#include "models/dma.h"
#include "models/dram.h"
#include "models/graph/graph.h"
#include "models/hw/engine_caps.h"
#include "models/layer.h"
#include "models/scheduler.h"
#include "models/stats/event_sink.h"
#include "models/stats/stat_group.h"
#include "models/tiler.h"

namespace msq {

struct SimOptions {
  bool values = true;  // compute every output (needed for verification)
  FaultInjection fault;
  EventSink* events = nullptr;  // the timeline to emit into (null: none)
  // Each layer's plan when the caller already made it (run checks the design before simulating);
  // empty: simulate() plans every layer itself.
  const std::vector<LayerPlan>* plans = nullptr;
  // A graph run: the ops to execute (Conv / Fc ops' `layer` indexes the workload's layers, in the
  // same order) and, with values, the network input. Null: each layer reads its own input.
  const Graph* graph = nullptr;
  const ActTensor* graph_input = nullptr;
};

// What one op of a graph run did (every op, Conv / Fc included, in graph order).
struct OpResult {
  std::string name;
  OpKind kind = OpKind::Conv;
  std::string engine;  // "vector" for the vector engine's ops, "cores" for Conv / Fc
  int layer = -1;      // Conv / Fc: index into SimResult::layers
  int64_t start_cycle = 0, end_cycle = 0;
  int64_t cycles = 0;       // from the end of the ops before it in graph order to its end
  int64_t busy_cycles = 0;  // the vector engine's compute cycles (0 for a view)
  int64_t dram_bytes = 0;
  int64_t out_elements = 0;
};

// One engine on one layer.
struct CoreResult {
  int64_t busy = 0, stall_dram = 0, stall_buffer = 0, stall_other = 0, jobs = 0;  // cycles
  int64_t macs = 0;          // multiply-accumulates this engine executed
  int64_t rows = 0;          // rows of the layer it ran
  int64_t spilled_rows = 0;  // of them, rows of a scheme it is not built for
};

// One engine of the design.
struct EngineInfo {
  std::string name, impl;
  EngineCaps caps;
  int64_t peak_macs_per_cycle = 0;  // the MACs its whole array can do per cycle (docs/report.md)
  int acc_bits = 32;                // its own accumulator, or 0 when it follows each layer's
};

struct LayerResult {
  std::string name;
  int64_t m = 0, k = 0, n = 0, macs = 0;
  int64_t sp2_rows = 0, fixed_rows = 0, spilled_rows = 0;
  bool packing = false;
  int64_t chain = 0;
  int lane_offset = 0, packed_w_bits = 0;
  std::string packing_note;
  int64_t tiles = 0, k_tiles = 0, tn = 0;
  bool weights_resident = false;
  // The mapping that ran (docs/mapping.md): loops, tiles, reuse, and the DRAM bytes by stream.
  LoopMapping mapping;
  int64_t m_tiles = 1, tile_m = 0, tile_k = 0, tile_rows = 0, tile_cols = 0, k_channels = 0;
  int group_pack = 1;
  int64_t weight_bytes = 0;          // the layer's weights once
  int64_t dram_by[3] = {0, 0, 0};    // weights, inputs, outputs read/written
  std::vector<int64_t> est_compute;  // the analytic estimate of each engine's busy cycles
  int64_t start_cycle = 0, end_cycle = 0, cycles = 0;
  std::vector<CoreResult> core;    // by engine slot
  std::vector<int8_t> row_engine;  // per row: the slot of the engine that ran it
  int64_t dram_bytes = 0;
  int64_t memory_cycles = 0;  // cycles with at least one of the layer's transfers in flight
  std::string bound;          // "compute" | "memory"
  uint64_t overflows = 0;     // counted by the cycle model's accumulators
  OutTensor out;              // the cycle model's outputs (values on)
};

struct SimResult {
  std::vector<LayerResult> layers;
  int64_t total_cycles = 0;
  double clock_mhz = 0;
  DramStats dram;
  DmaStats dma;
  std::vector<EngineInfo> engines;  // by slot
  // What every block counted (docs/report.md, `stats`): the engines, the DMA, the DRAM, the
  // buffers, in that order.
  std::vector<StatGroup> stats;
  double dram_peak_bytes_per_s = 0;

  // Graph runs only.
  std::vector<OpResult> ops;
  // The cycle model's tensor values by tensor id, for the tensors the vector engine wrote and the
  // network input; a Conv / Fc op's are in layers[op.layer].out, a Flatten's are its input's.
  std::vector<OutTensor> tensors;
  int64_t vector_busy_cycles = 0;
  int64_t tensor_peak_bytes = 0;  // the most activation bytes alive in DRAM at once
  int64_t weight_dram_bytes = 0;  // the weights' DRAM regions
  std::string tensor_peak_op;     // where that peak occurs
};

// Throws InputError when a layer cannot run on the design (named by its index and name).
SimResult simulate(const RunConfig& cfg, const Workload& wl, const SimOptions& opt);

}  // namespace msq
