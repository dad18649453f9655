// The DRAM model: a sequential stream runs near the bus peak (page hits, refresh the main loss);
// a random stream of short accesses misses its rows and falls far below.
#include <gtest/gtest.h>

#include <random>

#include "models/dram.h"

using namespace msq;
using sc_core::sc_time;

namespace {
DramConfig ddr3() {
  return DramConfig{};
}  // the defaults are the DDR3-1066 x32 preset
DramConfig ddr4() {
  DramConfig c;
  c.preset = "ddr4-2400-x64";
  c.clock_mhz = 1200, c.data_width_bits = 64, c.banks = 16, c.rows = 65536, c.row_bytes = 8192;
  c.tRCD = 17, c.tRP = 17, c.CL = 17, c.tRAS = 39, c.tRFC = 420, c.tREFI = 9360, c.tCCD = 4;
  return c;
}
double efficiency(Dram& d, int64_t bytes, sc_time end) {
  return double(bytes) / end.to_seconds() / d.peak_bytes_per_s();
}
}  // namespace

TEST(Dram, SequentialStreamReachesExpectedEfficiency) {
  for (const DramConfig& cfg : {ddr3(), ddr4()}) {
    Dram d(cfg.preset.c_str(), cfg);
    const int64_t bytes = 8 << 20;
    const sc_time end = d.access(sc_core::SC_ZERO_TIME, 0, bytes, bytes, 1, false);
    const double eff = efficiency(d, bytes, end);
    // Page hits keep the bus busy; refresh (tRFC every tREFI) and a few cycles per page change
    // are what is lost: 93-98% for these presets.
    EXPECT_GT(eff, 0.90) << cfg.preset;
    EXPECT_LT(eff, 0.99) << cfg.preset;
    EXPECT_GT(d.stats().hit_rate(), 0.98) << cfg.preset;
    EXPECT_GT(d.stats().refreshes, 0) << cfg.preset;
  }
}

TEST(Dram, RandomStreamShowsRowMisses) {
  const DramConfig cfg = ddr3();
  Dram d("ddr3", cfg);
  std::mt19937_64 rng(3);
  sc_time t = sc_core::SC_ZERO_TIME;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const uint64_t addr = rng() % d.capacity_bytes() / 32 * 32;
    t = d.access(t, addr, 32, 32, 1, false);
  }
  const double eff = efficiency(d, int64_t(n) * 32, t);
  EXPECT_LT(d.stats().hit_rate(), 0.05);
  EXPECT_GT(d.stats().row_conflicts, n * 9 / 10);
  EXPECT_LT(eff, 0.35);
}
