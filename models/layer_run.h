// What the accelerator's blocks share about the layers in flight: the plan, the jobs of each
// core, DRAM addresses, the statistics each block fills in, and (with verification) the values
// moving through the buffers.
#pragma once

#include <cstdint>
#include <map>
#include <systemc>
#include <vector>

#include "models/layer.h"
#include "models/tiler.h"

namespace msq {

enum CoreId : int { kLut = 0, kDsp = 1 };

// One job of a core: a row block over one (tile, k tile) step.
struct CoreJob {
  int block = 0;
  int64_t wload = -1;         // global index of the core's weight load it needs (-1: none)
  int64_t release_bytes = 0;  // weight bytes it frees when done (streamed weights)
};

// A (tile, k tile) step of a layer: the unit the input buffer holds.
struct Step {
  int tile = 0;
  int kt = 0;
  int64_t tk = 0;  // reduction steps of this k tile
  int64_t in_offset = 0, seg_bytes = 0, seg_stride = 0, seg_count = 0;  // its input region
  std::vector<std::vector<CoreJob>> jobs;                               // by engine slot
};

struct WeightLoad {
  uint64_t addr = 0;
  int64_t bytes = 0;
};

struct CoreLayerStats {
  int64_t busy = 0, jobs = 0;  // busy in cycles
  int64_t macs = 0;            // multiply-accumulates of the real rows of its jobs
  sc_core::sc_time stall_dram, stall_buffer, last_end;
};

struct LayerRun {
  const QuantLayer* layer = nullptr;
  const ActTensor* input = nullptr;  // null in timing-only runs
  LayerPlan plan;
  std::vector<Step> steps;  // tile-major, k tile minor
  // By engine slot (prepare_layer sizes them).
  std::vector<std::vector<WeightLoad>> wloads;
  std::vector<int64_t> resident_release;  // bytes each engine frees at the end of the layer
  uint64_t w_addr = 0, in_addr = 0, out_addr = 0;
  int64_t seq0 = 0, tile0 = 0;  // global index of its first step and first tile

  // Statistics.
  std::vector<CoreLayerStats> core;  // by engine slot
  int64_t dram_bytes = 0;
  std::vector<std::pair<sc_core::sc_time, sc_core::sc_time>> transfers;  // DMA intervals
  sc_core::sc_time start, end;

  // Values (verification on).
  bool values = false;
  OutTensor out;
  uint64_t overflows = 0;
};

// Values in the buffers during a step / a tile (verification on).
struct InputTileValues {
  // The im2col view the cores' address generators read from the input buffer, in blocks of kNB
  // columns: element (g, k, n) sits at ((g * nblocks + n / kNB) * tk + k) * kNB + n % kNB, with
  // zeros past tn. A block of columns over all k is one contiguous run, so the value kernels
  // stream it from cache.
  static constexpr int64_t kNB = 64;
  std::vector<uint8_t> x8;
  std::vector<uint16_t> x16;
  int64_t tk = 0, tn = 0, nblocks = 0;
  template <typename XT>
  const XT* block(int g, int64_t nb) const;
};
template <>
inline const uint8_t* InputTileValues::block<uint8_t>(int g, int64_t nb) const {
  return x8.data() + size_t((g * nblocks + nb) * tk * kNB);
}
template <>
inline const uint16_t* InputTileValues::block<uint16_t>(int g, int64_t nb) const {
  return x16.data() + size_t((g * nblocks + nb) * tk * kNB);
}
struct OutputTileValues {
  std::vector<int64_t> acc;  // [M][tn] accumulators
};

}  // namespace msq
