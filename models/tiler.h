// The scheduler's policy, as a plain class: which rows run on which core and how, and how a layer
// is cut into tiles that fit the buffers. No SystemC here, so it is testable on its own.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "models/config.h"
#include "models/layer.h"

namespace msq {

// The most engines a design lists (accelerator.engines).
constexpr int kMaxEngines = 16;

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
// batch elements), or a box of output pixels, and the input region it reads, per k tile.
// Activations are stored HWC in DRAM, so a region of whole rows is one contiguous run.
struct Tile {
  int64_t n0 = 0, tn = 0;
  // A box of several output rows and part of the columns (docs/mapping.md): box_cols columns of
  // tn / box_cols rows, n0 its top left pixel. 0: the tile's pixels are the one run from n0.
  int64_t box_cols = 0;
  // The input region of k tile 0, as DRAM sees it: seg_count runs of seg_bytes, seg_stride apart,
  // from byte offset `offset` of the layer's input tensor, all that grp_count times, grp_stride
  // apart (a K split over part of each input row, of a box or of a part of one output row: a run
  // per pixel, a group per input row). K tile j starts j * k_channels activations later.
  int64_t offset = 0, seg_bytes = 0, seg_stride = 0, seg_count = 0;
  int64_t grp_count = 1, grp_stride = 0;
  int64_t region_bytes() const { return seg_bytes * seg_count * grp_count; }
  // Output pixel (index into the layer's N) of the tile's column nn; Wout the output width.
  int64_t pixel(int64_t nn, int64_t Wout) const {
    return box_cols > 0 ? n0 + nn / box_cols * Wout + nn % box_cols : n0 + nn;
  }
};

// How a layer's tile loops nest (docs/mapping.md). Three loops run over tiles: N (pixel tiles,
// LayerPlan::tiles), K (k tiles of k_channels input channels) and M (output-channel tiles: each
// engine's row blocks cut in m_tiles contiguous runs). A tensor's tile, once in its buffer, stays
// there while the loops inside the innermost loop that indexes it run (inputs: N, K; weights: M,
// K; outputs: M, N); keep_* moves that level outwards when the larger set still fits a buffer
// slot, so that the tile is not loaded again. Partial sums never leave the output buffer: a
// mapping whose output tiles cannot all stay there across the K loop is not a mapping.
struct LoopMapping {
  std::string order = "NKM";  // outermost first
  int64_t m_tiles = 1;
  // Loop level (0 = outermost .. 3) from which a tile of the inputs / of the weights is kept:
  // it is loaded once for every combination of the loops above that level. 3: only reused across
  // the loops inside the tensor's own innermost loop.
  int keep_in = 3, keep_w = 3;
  bool searched = false;  // chosen by the mapping search (else the fixed rule)
  bool given = false;     // from the mapping file (scheduler.mapping: given)
  // The search's analytic estimate of this mapping and of the fixed rule's (0 when not searched
  // or when the fixed rule cannot run the layer): cycles and DRAM bytes.
  int64_t est_cycles = 0, est_dram_bytes = 0, fixed_est_cycles = 0, fixed_est_dram_bytes = 0;
  int64_t candidates = 0;  // mappings the search evaluated
  int level(char loop) const { return int(order.find(loop)); }
};

// What one engine runs of a layer.
struct EnginePlan {
  std::vector<RowBlock> blocks;
  int64_t rows = 0;          // rows it runs
  int64_t spilled_rows = 0;  // of them, rows of a scheme it is not built for (scheduler.spill)
  int64_t weight_bytes = 0;  // its rows' weights, as stored in DRAM
  int acc_bits = 32;         // its accumulator registers on this layer
  int group_pack = 1;        // groups of a grouped convolution per row block
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
  // Pixel tile: output rows x output columns (fully connected layers: batch elements x 1); several
  // rows of part of the columns are boxes (Tile::box_cols).
  int64_t tile_rows = 0, tile_cols = 0;
  int group_pack = 1;  // groups of a grouped convolution that share one row block (the most of
                       // any engine's; EnginePlan::group_pack has each engine's)
  LoopMapping map;
  // The blocks of engine `slot` in output-channel tile mt: [first, second).
  std::pair<size_t, size_t> m_tile_blocks(int slot, int64_t mt) const {
    const size_t nb = blocks(slot).size();
    return {size_t(int64_t(nb) * mt / map.m_tiles), size_t(int64_t(nb) * (mt + 1) / map.m_tiles)};
  }
};

// Options of the row split that the mapping search varies.
struct RowOptions {
  int64_t spill = -1;  // SP2 rows moved to the fixed-point engine; -1: by scheduler.spill's rule
  int group_pack = 1;  // groups of a grouped convolution per row block
  // The same per engine slot, when the search gives each engine its own: 0 takes group_pack.
  int engine_pack[kMaxEngines] = {};
  // A given mapping's output-channel tiles: each engine's blocks are cut so that every one of
  // m_tiles tiles gets whole blocks of about equal rows (the tile's share of the engine's rows),
  // as a scheduler that splits each channel tile between the arrays runs them. 0: blocks as
  // large as the array.
  int64_t m_tiles = 0;
  // Per-layer balance on any engine list (spill -1): spill_balance splits the rows as
  // scheduler.spill: true does (each row on any engine that can run it, balanced by the engines'
  // estimates); then the last move_rows rows of engine move_from that engine move_to can run move
  // there.
  bool spill_balance = false;
  int move_from = -1, move_to = -1;
  int64_t move_rows = 0;
};

// Plans a layer. The layer's per-row scheme and bits and the engines' capabilities decide which
// engine runs each row (docs/config.md, "Engines"); a row that no engine can run is refused with
// an InputError naming the layer, the row and the engines. Its weights, when present,
// let the planner confirm per row that packed accumulation cannot overflow. Throws InputError with
// the reason when the design cannot run the layer (a buffer too small for one tile, ...). `where`
// names the layer in messages.
LayerPlan plan_layer(const QuantLayer& layer, const RunConfig& cfg, const std::string& where);

// The steps of plan_layer: the row split, blocks, packing and buffer slots (no tiles yet); the
// fixed tiling rule (k tiles as large as the input and weight slots allow, pixel tiles as large
// as the output slot allows, loops N, K, M); tiles for given k channels and pixel tile.
LayerPlan plan_rows(const QuantLayer& layer, const RunConfig& cfg, const std::string& where,
                    const RowOptions& opt);
void tile_fixed(LayerPlan& p, const QuantLayer& layer, const RunConfig& cfg,
                const std::string& where);
void make_tiles(LayerPlan& p, const QuantLayer& layer, int k_channels, int64_t tile_rows,
                int64_t tile_cols);

// Cycles of one core job (a row block over tn columns and tk reduction steps): the cores' timing
// and the per-cycle oracles in the tests agree on these.
int64_t lut_job_cycles(const LutCoreConfig& c, int64_t tn, int64_t tk);

// How fast an engine slot goes, for the planner's estimates (spill, balance, mapping search):
// the output columns one pass of a row block covers and the cycles of one k step. lut_sp2 and
// dsp48 do one k step of `cols` columns per cycle; lut_sp2_bitserial takes one cycle per signed
// digit, two for an SP2 weight at most (the engine's timing-only count); dsp48_actpack with
// packing on puts two columns on each slice. The simulation times the jobs with the engines' own
// job_cycles; this only ranks the choices, and must not rank a bit-serial array as fast as a
// bit-parallel one.
struct EngineRate {
  int64_t cols = 1;
  int64_t cycles_per_k = 1;
};
EngineRate engine_rate(const EngineSpec& e);
// The same for engine `slot` of the design (engine_specs order).
EngineRate engine_rate(const AcceleratorConfig& a, int slot);
int64_t dsp_job_cycles(const DspCoreConfig& c, int64_t tn, int64_t tk, bool packed, int64_t chain);

// Packing needs the accumulator to hold any sum of the row without overflow, so that adding a
// drained chain at once equals adding its products one by one: the data-type bound plus one bit of
// headroom for the bias.
bool packing_overflow_safe(int acc_bits, int64_t K, int act_bits, int w_bits);

}  // namespace msq
