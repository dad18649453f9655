// The scheduler's policy, as a plain class: which rows run on which core and how, and how a layer
// is cut into tiles that fit the buffers. No SystemC here, so it is testable on its own.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/config.h"
#include "models/layer.h"

namespace msq {

// Capacity of one BRAM36 for data: 36 Kb less the parity bits, used as 512 x 64.
constexpr int64_t kBram36DataBytes = 4096;

// One block of rows that a core processes together: up to the array's rows (LUT) or DSP slices
// (DSP; a packed slice carries two rows). When packed, rows[2i] is the high lane and rows[2i+1]
// the low lane of slice i; an odd count leaves the last slice with one row.
struct RowBlock {
  std::vector<int32_t> rows;
  bool packed = false;
  int64_t weight_bits_per_k = 0;  // bits of weights one k step of this block reads
  int64_t sp2_rows = 0;           // of its rows, SP2 ones (the engines count MACs by scheme)
  // Packed blocks: the lane offset D and the longest safe accumulation chain of their layout.
  int lane_offset = 0;
  int64_t chain = 0;
};

// A tile: output columns [n0, n0 + tn) of one image (or, for layers whose output is 1x1, a run of
// batch elements) and the input region it reads, per k tile. Activations are stored HWC in DRAM,
// so a region of whole rows is one contiguous run.
struct Tile {
  int64_t n0 = 0, tn = 0;
  // The input region of k tile 0, as DRAM sees it: seg_count runs of seg_bytes, seg_stride apart,
  // from byte offset `offset` of the layer's input tensor. K tile j starts j * k_channels
  // activations later.
  int64_t offset = 0, seg_bytes = 0, seg_stride = 0, seg_count = 0;
  int64_t region_bytes() const { return seg_bytes * seg_count; }
};

// What one engine runs of a layer.
struct EnginePlan {
  std::vector<RowBlock> blocks;
  int64_t rows = 0;          // rows it runs
  int64_t spilled_rows = 0;  // of them, rows of a scheme it is not built for (scheduler.spill)
  int64_t weight_bytes = 0;  // its rows' weights, as stored in DRAM
  int acc_bits = 32;         // its accumulator registers on this layer
  // Packing (engines that pack, docs/arithmetic.md).
  bool packing = false;
  int packed_w_bits = 0, lane_offset = 0;
  int64_t chain = 0;
  std::string packing_note;
};

// The plan of one layer.
struct LayerPlan {
  std::vector<EnginePlan> engines;  // by engine slot (the config's engine list)
  const std::vector<RowBlock>& blocks(int slot) const { return engines[size_t(slot)].blocks; }
  std::vector<int8_t> row_engine;        // per row: the slot of the engine that runs it
  int64_t sp2_rows = 0, fixed_rows = 0;  // rows per scheme
  int64_t spilled_rows = 0;              // rows on an engine not built for their scheme
  // Packing of the first engine that packs (the report's layer-level `packing`).
  bool packing = false;
  int packed_w_bits = 0;     // weight width of the packed layout
  int lane_offset = 0;       // D
  int64_t chain = 0;         // longest safe packed accumulation chain
  std::string packing_note;  // why some rows run unpacked, when they do
  // Per row, when the layer has values: the width its sums need at most, 32 or 64 when every
  // partial sum provably fits the accumulator (|bias| + max|x| * sum|w|), 0 when one might not.
  // Such a row may run packed, and its sums may be formed in any grouping.
  std::vector<int8_t> row_sum_bits;
  // Tiling: tiles along N; K in k_tiles pieces of k_channels input channels (tk =
  // k_channels*kh*kw).
  std::vector<Tile> tiles;
  int64_t tn = 0;  // largest tile
  int64_t tk = 0, k_tiles = 1;
  int k_channels = 0;
  // Each engine has an equal part of the weight buffer; an engine's share of the layer's weights
  // stays resident for the whole layer when it fits one slot of that part, else it is streamed
  // block by block.
  bool weights_resident = false;
  int64_t weight_bytes = 0;  // the whole layer's, as stored in DRAM (rows packed to bytes)
  int64_t input_slot_bytes = 0, weight_slot_bytes = 0 /* per engine */, output_slot_bytes = 0;
  int act_bytes = 1, acc_bytes = 4, out_bytes = 1;
};

// Plans a layer. The layer's per-row scheme and bits and the engines' capabilities decide which
// engine runs each row (docs/config.md, "Engines"); a row that no engine can run is refused with
// an InputError naming the layer, the row and the engines. Its weights, when present,
// let the planner confirm per row that packed accumulation cannot overflow. Throws InputError with
// the reason when the design cannot run the layer (a buffer too small for one tile, ...). `where`
// names the layer in messages.
LayerPlan plan_layer(const QuantLayer& layer, const RunConfig& cfg, const std::string& where);

// Cycles of one core job (a row block over tn columns and tk reduction steps): the cores' timing
// and the per-cycle oracles in the tests agree on these.
int64_t lut_job_cycles(const LutCoreConfig& c, int64_t tn, int64_t tk);
int64_t dsp_job_cycles(const DspCoreConfig& c, int64_t tn, int64_t tk, bool packed, int64_t chain);

// Packing needs the accumulator to hold any sum of the row without overflow, so that adding a
// drained chain at once equals adding its products one by one: the data-type bound plus one bit of
// headroom for the bias.
bool packing_overflow_safe(int acc_bits, int64_t K, int act_bits, int w_bits);

}  // namespace msq
