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

// The plan of one layer.
struct LayerPlan {
  std::vector<RowBlock> lut_blocks, dsp_blocks;
  // The blocks of engine slot `slot` (0: the SP2 engine, 1: the fixed-point engine), for code
  // that serves any slot.
  const std::vector<RowBlock>& blocks(int slot) const {
    return slot == 0 ? lut_blocks : dsp_blocks;
  }
  int64_t lut_rows = 0, dsp_rows = 0;    // rows per core
  int64_t sp2_rows = 0, fixed_rows = 0;  // rows per scheme
  int64_t spilled_rows = 0;              // SP2 rows moved to the DSP core
  // Packing on the DSP core (docs/arithmetic.md).
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
  // Each core has half the weight buffer; a core's share of the layer's weights stays resident for
  // the whole layer when it fits one slot of that half, else it is streamed block by block.
  bool weights_resident = false;
  int64_t core_weight_bytes[2] = {0, 0};  // LUT, DSP
  int64_t weight_bytes = 0;  // the whole layer's, as stored in DRAM (rows packed to bytes)
  int64_t input_slot_bytes = 0, weight_slot_bytes = 0 /* per core */, output_slot_bytes = 0;
  int act_bytes = 1, acc_bytes = 4, out_bytes = 1;
};

// Plans a layer. The layer's per-row scheme and bits decide the split; its weights, when present,
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
