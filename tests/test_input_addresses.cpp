// The DRAM addresses of input loads: every input tile (whole rows, part of one row, boxes, with
// and without a K split, depthwise channel tiles) reaches the DMA as runs at the addresses its
// pixels have in the HWC input tensor (docs/mapping.md, "Input loads in DRAM"), so that the DRAM
// model opens the rows the tile really touches.
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "models/dma.h"
#include "models/hw/memory/dram_model.h"
#include "models/layer_run.h"
#include "models/plan/mapper.h"
#include "models/scheduler.h"
#include "models/tiler.h"
#include "tests/support/in_child.h"
#include "tests/support/random_layers.h"

using namespace msq;
using namespace msq::testing;

namespace {

RunConfig small_design() {
  RunConfig c;
  c.accelerator.lut_core = {8, 8, 3};
  c.accelerator.dsp_core.rows = 4;
  c.accelerator.dsp_core.cols = 8;
  c.accelerator.buffers = {64, 64, 64, true};
  return c;
}

// A byte range [first, second) of the input tensor.
using Range = std::pair<int64_t, int64_t>;

// Adjacent ranges joined, so that how a region is cut into runs does not matter.
std::vector<Range> merged(std::vector<Range> v) {
  std::sort(v.begin(), v.end());
  std::vector<Range> out;
  for (const Range& r : v)
    if (!out.empty() && out.back().second == r.first)
      out.back().second = r.second;
    else
      out.push_back(r);
  return out;
}

// The runs one input load hands the DMA, as byte offsets into the input tensor.
std::vector<Range> runs_of(const InputLoad& ld) {
  std::vector<Range> v;
  for (int64_t g = 0; g < ld.grp_count; ++g)
    for (int64_t i = 0; i < ld.seg_count; ++i) {
      const int64_t a = ld.in_offset + g * ld.grp_stride + i * ld.seg_stride;
      v.push_back({a, a + ld.seg_bytes});
    }
  return v;
}

struct Prepared {
  QuantLayer layer;
  LayerRun run;
};

// Plans a layer with the given tiles (and output-channel tiles) and fills its loads.
void prepare(Prepared& pr, const LayerShape& s, int k_channels, int64_t tile_rows,
             int64_t tile_cols, int64_t m_tiles, int group_pack) {
  const RunConfig c = small_design();
  RandomLayerSpec sp;
  sp.shape = s;
  pr.layer = random_layer(sp, 3);
  LayerPlan p = plan_rows(pr.layer, c, "t", RowOptions{-1, group_pack});
  make_tiles(p, pr.layer, k_channels, tile_rows, tile_cols);
  p.map.m_tiles = m_tiles;
  p.map.keep_in = natural_keep(p.map.order, "NK");
  p.map.keep_w = natural_keep(p.map.order, "MK");
  pr.run.layer = &pr.layer;
  uint64_t next = 0;
  std::vector<int64_t> wloads(p.engines.size(), 0);
  prepare_layer(pr.run, c, "t", next, 4096, wloads, &p);
}

}  // namespace

// By hand: a conv of 16 channels of 8 x 8 (one-byte activations), 3 x 3, stride 1, pad 1, output
// 8 x 8, in pixel tiles of 1 output row by 4 columns, K split in two k tiles of 8 channels.
// A pixel is 16 bytes in DRAM and an image row 8 x 16 = 128 bytes (HWC).
// Tile 7 is output row 3, columns 4..7: input rows 2..4, input columns 3..7 (3 + 4 - 1 + 3 = 10,
// cut to the image at 8): 3 rows of 5 pixels. K tile 0 reads channels 0..7 of each, 8-byte runs
// at (ih x 8 + iw) x 16:
//   row 2: 304 320 336 352 368   row 3: 432 448 464 480 496   row 4: 560 576 592 608 624
// (rows 128 bytes apart, each row's runs 16 apart); k tile 1 the same 8 bytes later. Taking the
// 3 rows as contiguous would read 304 + 16 i for i = 0..14, up to 528: row 2's columns 3..7,
// then row 3's columns 0..7 and row 4's 0..1, pixels the tile does not need.
TEST(InputAddresses, PartOfOneRowWithAKSplitReadsEachInputRowWhereItIs) {
  Prepared pr;
  prepare(pr, conv("c", 16, 8, 8, 3, 1, 1), 8, 1, 4, 1, 1);
  const LayerRun& run = pr.run;
  ASSERT_EQ(run.plan.tiles.size(), 16u);  // 8 rows x 2 parts
  std::map<int, std::vector<Range>> by_kt;
  for (const InputLoad& ld : run.in_loads)
    if (ld.tile == 7) {
      std::vector<Range> r = runs_of(ld);
      std::sort(r.begin(), r.end());
      by_kt[ld.kt] = r;
    }
  ASSERT_EQ(by_kt.size(), 2u);
  for (int kt = 0; kt < 2; ++kt) {
    std::vector<Range> want;
    for (int64_t row : {304, 432, 560})
      for (int64_t i = 0; i < 5; ++i)
        want.push_back({row + 16 * i + 8 * kt, row + 16 * i + 8 * kt + 8});
    EXPECT_EQ(by_kt[kt], want) << "k tile " << kt;
  }
}

// Every tiling: each load's runs cover exactly its tile's input pixels (the halo box of the
// tile's output pixels, cut to the image) at their HWC addresses, the load's channels of each.
TEST(InputAddresses, EveryTilingLoadsItsPixelsAtTheirAddresses) {
  struct Case {
    const char* what;
    LayerShape shape;
    int k_channels;
    int64_t tile_rows, tile_cols, m_tiles;
    int group_pack;
  };
  const LayerShape c = conv("c", 16, 9, 16, 3, 1, 1), s2 = conv("s2", 16, 11, 16, 3, 2, 1),
                   dw = conv("dw", 24, 9, 24, 3, 1, 1, 24);
  const std::vector<Case> cases = {
      {"whole rows", c, 16, 2, 9, 1, 1},
      {"whole rows, K split", c, 8, 2, 9, 1, 1},
      {"part of a row", c, 16, 1, 4, 1, 1},
      {"part of a row, K split", c, 8, 1, 4, 1, 1},
      {"part of a row, K split, stride 2", s2, 4, 1, 2, 1, 1},
      {"box", c, 16, 3, 4, 1, 1},
      {"box, K split", c, 8, 3, 4, 1, 1},
      {"depthwise channel tiles, whole rows", dw, 24, 2, 9, 2, 4},
      {"depthwise channel tiles, part of a row", dw, 24, 1, 4, 2, 4},
      {"depthwise channel tiles, box", dw, 24, 3, 4, 2, 4},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.what);
    Prepared pr;
    prepare(pr, k.shape, k.k_channels, k.tile_rows, k.tile_cols, k.m_tiles, k.group_pack);
    const LayerShape& s = k.shape;
    const LayerRun& run = pr.run;
    const int64_t Wout = s.out_w(), pix = s.in_c;  // one-byte activations
    ASSERT_FALSE(run.in_loads.empty());
    std::set<std::pair<int, int>> seen;
    for (const InputLoad& ld : run.in_loads) {
      const Tile& t = run.plan.tiles[size_t(ld.tile)];
      // The load's channels: where its first run starts within its pixel, and its run's bytes
      // (all of them when a run holds whole pixels).
      const int64_t c0 = (ld.in_offset - t.offset) % pix, nch = std::min(ld.seg_bytes, pix);
      ASSERT_LE(c0 + nch, pix);
      int64_t oh0 = INT64_MAX, oh1 = -1, ow0 = INT64_MAX, ow1 = -1;
      for (int64_t nn = 0; nn < t.tn; ++nn) {
        const int64_t n = t.pixel(nn, Wout);
        oh0 = std::min(oh0, n / Wout), oh1 = std::max(oh1, n / Wout);
        ow0 = std::min(ow0, n % Wout), ow1 = std::max(ow1, n % Wout);
      }
      const int64_t ih0 = std::max<int64_t>(0, oh0 * s.sh - s.ph),
                    ih1 = std::min<int64_t>(s.in_h, oh1 * s.sh - s.ph + s.kh);
      const bool whole = k.tile_cols >= Wout;  // whole rows read whole input rows
      const int64_t iw0 = whole ? 0 : std::max<int64_t>(0, ow0 * s.sw - s.pw),
                    iw1 = whole ? s.in_w : std::min<int64_t>(s.in_w, ow1 * s.sw - s.pw + s.kw);
      std::vector<Range> want;
      for (int64_t ih = ih0; ih < ih1; ++ih)
        for (int64_t iw = iw0; iw < iw1; ++iw) {
          const int64_t a = (ih * s.in_w + iw) * pix + c0;
          want.push_back({a, a + nch});
        }
      EXPECT_EQ(merged(runs_of(ld)), merged(want))
          << "tile " << ld.tile << " k tile " << ld.kt << " channel tile " << ld.mt;
      seen.insert({ld.kt, ld.mt});
    }
    // Each k tile (or channel tile) is loaded.
    EXPECT_EQ(int64_t(seen.size()), k.m_tiles > 1 ? k.m_tiles : run.plan.k_tiles);
  }
}

// What the DRAM sees. A conv of 64 channels of 64 x 64 (one-byte activations), 3 x 3, stride 1,
// pad 1, in pixel tiles of 1 output row by 4 columns, K split in two k tiles of 32 channels, its
// input tensor at address 0 of the default DDR3 (one channel, 8 banks, 4096-byte rows, address
// map row | bank | channel | column). An image row is 64 x 64 = 4096 bytes: input row ih is DRAM
// page ih exactly, in bank ih % 8, DRAM row ih / 8.
// Tile 81 is output row 5, columns 4..7: input rows 4..6, columns 3..8. Its first k tile's load
// touches pages 4, 5 and 6, so a fresh DRAM activates 3 rows (banks 4, 5, 6, each closed). Read
// as if its rows were contiguous, the 18 runs would lie 64 bytes apart from (4 x 64 + 3) x 64 =
// 16576 to 16576 + 17 x 64 + 32 = 17696, all in page 4: one activation.
TEST(InputAddresses, TheDramOpensEachInputRowOfAPartOfOneRow) {
  Prepared pr;
  prepare(pr, conv("c", 64, 64, 16, 3, 1, 1), 32, 1, 4, 1, 1);
  const InputLoad* load = nullptr;
  for (const InputLoad& ld : pr.run.in_loads)
    if (ld.tile == 81 && ld.kt == 0) load = &ld;
  ASSERT_NE(load, nullptr);
  const InputLoad ld = *load;
  const int64_t acts = in_child<int64_t>([ld] {
    MemoryConfig m;  // the default DDR3-1066 x32
    auto dram = make_dram_model(m.model, "dram", m.dram);
    Dma dma("dma", m, sc_core::sc_time(5, sc_core::SC_NS), *dram);
    sc_core::sc_spawn([&] {
      dma.transfer(Traffic::Inputs, uint64_t(ld.in_offset), ld.seg_bytes, ld.seg_stride,
                   ld.seg_count, false, ld.grp_count, ld.grp_stride);
    });
    sc_core::sc_start();
    return dram->stats().activates;
  });
  EXPECT_EQ(acts, 3);
}
