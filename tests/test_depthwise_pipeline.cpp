// Depthwise layers under the mapping search (docs/mapping.md, "Depthwise and grouped
// convolutions"): channel tiles whose input load, compute and output write overlap, an estimate
// that matches what the simulation then does, and values that stay bit-exact. The layers are
// MSD's MobileNet-V2 stride-1 depthwise layers on its PYNQ-Z2 design (docs/msd.md), where these
// layers are memory-bound and the overlap decides their time.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "models/accelerator.h"
#include "models/functional_model.h"
#include "models/plan/mapper.h"
#include "models/workload_builder.h"
#include "sim/config_loader.h"
#include "tests/support/one_layer.h"

using namespace msq;
using namespace msq::testing;

namespace {

RunConfig pynq_mobilenet() {
  return load_run_config(std::string(MSQ_SOURCE_DIR) + "/configs/msd/pynq_z2.yaml",
                         {"workload.network=msd_mobilenet_v2"});
}

struct Figures {
  int64_t cycles = 0, est = 0, m_tiles = 0, in_bytes = 0, out_bytes = 0, busy = 0;
  int64_t mismatches = -1, checked = 0;
};

Figures run_layer(const std::string& layer, bool values) {
  return in_child<Figures>([&] {
    const RunConfig c = pynq_mobilenet();
    const Workload wl = one_layer(c, layer, values);
    const SimResult r = simulate(c, wl, SimOptions{values, {}, nullptr, nullptr});
    const LayerResult& l = r.layers.at(0);
    Figures f;
    f.cycles = l.cycles;
    f.est = l.mapping.est_cycles;
    f.m_tiles = l.mapping.m_tiles;
    f.in_bytes = l.dram_by[1], f.out_bytes = l.dram_by[2];
    for (const auto& e : l.core) f.busy = std::max(f.busy, e.busy);
    if (values) {
      const OutTensor ref = run_functional(wl.layers[0], wl.inputs[0]).out;
      f.mismatches = 0;
      for (size_t i = 0; i < ref.data.size(); ++i) f.mismatches += ref.data[i] != l.out.data[i];
      f.checked = int64_t(ref.data.size());
    }
    return f;
  });
}

}  // namespace

// The stride-1 depthwise layers run as channel tiles that pipeline: well under the serial sum of
// the input load, the busiest engine's compute and the output write (activations in and out share
// one 64-bit port, 8 bytes per cycle each way), and the search's estimate within 5% of the
// simulated cycles. Before channel tiles these layers ran as one to four tiles whose load,
// compute and write followed each other (Conv23: 23684 simulated cycles against an estimate of
// 15412).
TEST(DepthwisePipeline, ChannelTilesOverlapLoadComputeAndWrite) {
  for (const char* layer : {"Conv23", "Conv35", "Conv44", "Conv14"}) {
    const Figures f = run_layer(layer, false);
    const int64_t serial = f.in_bytes / 8 + f.busy + f.out_bytes / 8;
    std::printf(
        "%s: %lld cycles (estimate %lld), %lld channel tiles; serial load + compute + "
        "write %lld\n",
        layer, (long long)f.cycles, (long long)f.est, (long long)f.m_tiles, (long long)serial);
    EXPECT_GT(f.m_tiles, 4) << layer;
    EXPECT_LT(f.cycles, serial * 3 / 4) << layer;
    EXPECT_NEAR(double(f.est), double(f.cycles), 0.05 * double(f.cycles)) << layer;
  }
}

// Channel tiles load only their groups' channels; the values stay those of the functional model.
TEST(DepthwisePipeline, ChannelTilesBitExact) {
  for (const char* layer : {"Conv23", "Conv2"}) {
    const Figures f = run_layer(layer, true);
    EXPECT_GT(f.m_tiles, 1) << layer;
    EXPECT_GT(f.checked, 0) << layer;
    EXPECT_EQ(f.mismatches, 0) << layer;
  }
}

// Each engine takes as many groups per row block as the input buffer's ports can feed it
// (docs/mapping.md): on the PYNQ-Z2 design a slot's 20 BRAM36 give 160 bytes per cycle, the
// bit-serial 40-column LUT array reads 20 activations per cycle per group and the packed 14-slice
// DSP array 28. A shared count for both arrays allowed 2 groups per block at most.
TEST(DepthwisePipeline, EachEngineTakesTheGroupsThePortsFeed) {
  const RunConfig c = pynq_mobilenet();
  const Workload wl = one_layer(c, "Conv23", false);
  const QuantLayer& L = wl.layers.at(0);
  const LayerPlan p = plan_layer(L, c, "Conv23");
  const int need[2] = {20, 28};
  int bytes = 0;
  for (int e = 0; e < 2; ++e) {
    bytes += p.engines[size_t(e)].group_pack * need[e];
    for (const RowBlock& b : p.blocks(e)) {
      std::vector<int32_t> g;
      for (int32_t m : b.rows) g.push_back(m / L.shape.rows_per_group());
      std::sort(g.begin(), g.end());
      EXPECT_LE(std::unique(g.begin(), g.end()) - g.begin(), p.engines[size_t(e)].group_pack);
    }
  }
  EXPECT_LE(bytes, 160);
  EXPECT_GE(std::max(p.engines[0].group_pack, p.engines[1].group_pack), 4);
  EXPECT_EQ(p.group_pack, std::max(p.engines[0].group_pack, p.engines[1].group_pack));
}
