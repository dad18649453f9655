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

// A (pixel tile, k tile, output-channel tile) step of a layer, in the order of the plan's loops.
struct Step {
  int tile = 0;
  int kt = 0;
  int mt = 0;
  int64_t tk = 0;       // reduction steps of this k tile
  int64_t in_load = 0;  // the input load it reads (index into LayerRun::in_loads)
  int out_tile = 0;     // the output tile it adds to (index into LayerRun::out_tiles)
  bool first_k = true;  // its output tile's first k tile: the tile's buffer space must be there
  bool last_k = true;   // its output tile's last k tile: the tile can be written after it
  std::vector<int64_t> release_in;         // input loads whose last use this step is
  std::vector<std::vector<CoreJob>> jobs;  // by engine slot
};

// An input region loaded into the input buffer: one (pixel tile, k tile), read by one or more
// steps.
struct InputLoad {
  int tile = 0;
  int kt = 0;
  int mt = -1;  // a grouped convolution's channel tile: only this output-channel tile's groups
  int64_t tk = 0;
  int64_t in_offset = 0, seg_bytes = 0, seg_stride = 0, seg_count = 0;
  int64_t grp_count = 1, grp_stride = 0;  // as Tile's (a channel tile sets its own)
  int64_t bytes() const { return seg_bytes * seg_count * grp_count; }
};

// An output tile: the rows of one output-channel tile over one pixel tile, in the output buffer
// from its first k tile to its write.
struct OutTile {
  int tile = 0;
  int mt = 0;
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
  std::vector<Step> steps;  // in the order of the plan's loops
  std::vector<InputLoad> in_loads;
  std::vector<OutTile> out_tiles;
  // Rows of each output-channel tile (every engine's blocks of the tile) and the first channel
  // of the tile in DRAM (a tile's channels are one run: the next layer's weights follow the
  // order in which the tiles store them).
  std::vector<std::vector<int32_t>> mt_rows;
  std::vector<int64_t> mt_ch0;
  // By engine slot (prepare_layer sizes them).
  std::vector<std::vector<WeightLoad>> wloads;
  std::vector<int64_t> resident_release;  // bytes each engine frees at the end of the layer
  uint64_t w_addr = 0, in_addr = 0, out_addr = 0;
  // Global index of its first step, first input load and first output tile.
  int64_t seq0 = 0, load0 = 0, tile0 = 0;

  // Statistics.
  std::vector<CoreLayerStats> core;  // by engine slot
  int64_t dram_bytes = 0;
  int64_t dram_by[3] = {0, 0, 0};                                        // weights, inputs, outputs
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
