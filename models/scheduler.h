// The scheduler: turns each layer's plan into steps and core jobs, and drives the data movement
// around the engines: input tiles into the input buffer, weights into each engine's part of the
// weight buffer, output tiles out of the output buffer. Layers run one after the other: a layer's
// inputs are loaded only once the previous layer's outputs are in DRAM.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <systemc>
#include <vector>

#include "models/buffer.h"
#include "models/config.h"
#include "models/dma.h"
#include "models/layer_run.h"

namespace msq {

class GraphFlow;

// Flips bits of one output of the cycle model, to prove that the cross-check catches it.
struct FaultInjection {
  int layer = -1;  // -1: none
  int64_t row = 0, col = 0;
  int64_t xor_mask = 1;
};

// When the input of a step got its buffer space and its data: the cores use these to tell a
// wait for a free buffer from a wait for DRAM.
struct StepTiming {
  sc_core::sc_time requested, granted, loaded;
  int64_t bytes = 0;
};

// What an engine signals to the scheduler (and the scheduler to it), counted per engine.
struct EngineSignals {
  Counter step_done, tile_done, w_loaded, layer_done;
};

// State shared by the scheduler and the cores.
struct Fabric {
  std::vector<LayerRun> runs;
  std::vector<std::pair<int, int>> step_of;  // global step -> (layer, step)
  std::vector<std::pair<int, int>> load_of;  // global input load -> (layer, load)
  std::vector<std::pair<int, int>> tile_of;  // global output tile -> (layer, output tile)
  std::vector<StepTiming> step_timing;       // by global input load
  Counter in_loaded, out_granted, out_written;
  // By engine slot; a deque, since a Counter (an sc_event) cannot move. simulate() adds one per
  // engine before building the blocks.
  std::deque<EngineSignals> engines;
  std::map<int64_t, InputTileValues> in_values;    // by global input load
  std::map<int64_t, OutputTileValues> out_values;  // by global output tile
  sc_core::sc_time clock;
  DspKind dsp_kind = DspKind::DSP48E1;
  Buffer* input_buffer = nullptr;  // for the engines' reads and writes (their statistics)
  Buffer* output_buffer = nullptr;
  FaultInjection fault;
  GraphFlow* graph = nullptr;  // a graph run: layers wait for and read their producers' tensors
};

// Fills a run's plan-derived parts: steps, jobs and their cycles, weight loads, DRAM addresses.
// `next_addr` is the DRAM allocation cursor. Throws InputError when the layer cannot run.
// `wloads` counts each engine's weight loads so far (the loaders' and engines' shared numbering),
// one entry per engine. `plan`: the layer's plan if already made (else it is planned here).
void prepare_layer(LayerRun& run, const RunConfig& cfg, const std::string& where,
                   uint64_t& next_addr, uint64_t page_bytes, std::vector<int64_t>& wloads,
                   const LayerPlan* plan = nullptr);

class Scheduler : public sc_core::sc_module {
 public:
  Scheduler(sc_core::sc_module_name name, Fabric& fabric, Dma& dma, Buffer& input, Buffer& output,
            std::vector<Buffer*> weights /* by engine slot */);

 private:
  void input_loader();
  void input_retire();
  void output_alloc();
  void output_writer();
  void weight_loader(int core);
  void record(LayerRun& run, sc_core::sc_time t0);
  void gather_inputs(const LayerRun& run, const InputLoad& st, InputTileValues& v);
  void write_outputs(LayerRun& run, int tile, OutputTileValues& v);

  Fabric& f_;
  Dma& dma_;
  Buffer &input_, &output_;
  std::vector<Buffer*> weights_;
};

}  // namespace msq
