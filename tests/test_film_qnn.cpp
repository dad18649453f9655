// configs/examples/film_qnn_zcu102.yaml stands for FILM-QNN (docs/film_qnn.md) only as long as
// its networks are quantized as FILM-QNN's: every filter (row) fixed point, 5% of each layer's
// rows at 8 bits and the rest at 4, every activation a 5-bit code. These tests read the built
// networks (weights and every activation tensor of the chained graph), not the config's keys, so
// a config, builder or quantizer change that moves away from that fails here.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "models/layer.h"
#include "models/reference/graph_reference.h"
#include "sim/config_loader.h"
#include "sim/energy_report.h"
#include "sim/session.h"
#include "tests/support/cli_fixture.h"

namespace msq {
namespace {

const std::string kFilm = std::string(MSQ_SOURCE_DIR) + "/configs/examples/film_qnn_zcu102.yaml";

// FILM-QNN's published mix (its abstract): 95% of the weights at 4 bits, 5% at 8 bits, 5-bit
// activations. Written out here rather than read from the config, which is what is checked.
constexpr double kFilm8BitShare = 0.05;
constexpr int kFilmLowBits = 4, kFilmActBits = 5;
constexpr int32_t kFilmActMax = (1 << kFilmActBits) - 1;  // 31

class FilmQnnNetworks : public ::testing::TestWithParam<std::string> {};

TEST_P(FilmQnnNetworks, RowsAndActivationsAreFilmQnns) {
  const RunConfig cfg = load_run_config(kFilm, {"workload.network=" + GetParam()});
  const Design d = prepare_design(cfg, true, shipped_resource_costs());
  ASSERT_TRUE(d.graph_run);
  ASSERT_FALSE(d.wl.layers.empty());

  int64_t rows = 0, rows8 = 0;
  for (const QuantLayer& L : d.wl.layers) {
    SCOPED_TRACE(L.shape.name);
    const int64_t M = L.shape.m(), K = L.shape.k();
    EXPECT_EQ(L.act_bits, kFilmActBits);
    EXPECT_EQ(L.hi_code(), kFilmActMax);
    ASSERT_EQ(int64_t(L.scheme.size()), M);
    ASSERT_EQ(int64_t(L.weights.size()), M * K);
    int64_t n8 = 0;
    for (int64_t m = 0; m < M; ++m) {
      // Fixed point only (FILM-QNN has no SP2 rows), 4 or 8 bits.
      ASSERT_EQ(L.scheme[size_t(m)], uint8_t(Scheme::Fixed)) << "row " << m;
      const int b = L.bits[size_t(m)];
      ASSERT_TRUE(b == kFilmLowBits || b == 8) << "row " << m << " has " << b << " bits";
      n8 += b == 8;
      // A row's scale is its largest magnitude, so its widest code is exactly 2^(b-1) - 1: a
      // 4-bit row spans -7..7 and an 8-bit row reaches 127 (not a 4-bit row labelled 8).
      int32_t widest = 0;
      for (int64_t k = 0; k < K; ++k) widest = std::max(widest, std::abs(L.row(m)[k]));
      EXPECT_EQ(widest, (1 << (b - 1)) - 1) << "row " << m;
    }
    // 5% of each layer's rows, rounded to whole rows (at least one in every layer here).
    EXPECT_EQ(n8, std::lround(kFilm8BitShare * double(M))) << "M = " << M;
    EXPECT_GE(n8, 1);
    EXPECT_LE(std::abs(double(n8) / double(M) - kFilm8BitShare), 0.5 / double(M) + 1e-12);
    rows += M;
    rows8 += n8;
  }
  EXPECT_NEAR(double(rows8) / double(rows), kFilm8BitShare, 0.005) << rows8 << " of " << rows;

  // Every activation the network carries, from the input through each layer, add and pool, is a
  // 5-bit code; the widest use the top half of the range (5 bits, not 4).
  const Graph& g = d.graph;
  int32_t widest_input = 0;
  for (uint16_t v : d.graph_input.data) {
    ASSERT_LE(int32_t(v), kFilmActMax);
    widest_input = std::max(widest_input, int32_t(v));
  }
  EXPECT_GT(widest_input, kFilmActMax / 2);
  const GraphValues vals = run_graph_functional(g, d.wl.layers, d.graph_input);
  int64_t tensors_checked = 0;
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    if (std::find(g.outputs.begin(), g.outputs.end(), int(t)) != g.outputs.end())
      continue;  // the classifier's raw accumulators
    SCOPED_TRACE(g.tensors[t].name);
    EXPECT_EQ(g.tensors[t].bits, kFilmActBits);
    const auto& data = vals.tensors[t].data;
    ASSERT_FALSE(data.empty());
    const auto [lo, hi] = std::minmax_element(data.begin(), data.end());
    EXPECT_GE(*lo, 0);
    EXPECT_LE(*hi, kFilmActMax);
    ++tensors_checked;
  }
  EXPECT_GE(tensors_checked, int64_t(d.wl.layers.size()));
}

INSTANTIATE_TEST_SUITE_P(Published, FilmQnnNetworks,
                         ::testing::Values("resnet18", "resnet50", "mobilenet_v2"));

// The example as users run it: verified with 0 mismatches, and its report shows FILM-QNN's rows
// (no SP2 row, 5% 8-bit rows per layer) and widths.
class FilmQnnExample : public testing::CliTest {};

TEST_F(FilmQnnExample, RunsVerifiedWithFilmQnnsRows) {
  const testing::Result r = run("run '" + kFilm + "' --json r.json");
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json j = read_json("r.json");
  EXPECT_EQ(j["config"]["device"]["name"], "xczu9eg");
  EXPECT_EQ(j["config"]["workload"]["weight_bits"].get<int>(), kFilmLowBits);
  EXPECT_EQ(j["config"]["workload"]["act_bits"].get<int>(), kFilmActBits);
  EXPECT_TRUE(j["verify"]["enabled"].get<bool>());
  EXPECT_GT(j["verify"]["outputs_checked"].get<int64_t>(), 0);
  EXPECT_EQ(j["verify"]["mismatches"].get<int64_t>(), 0);
  ASSERT_FALSE(j["layers"].empty());
  for (const nlohmann::json& l : j["layers"]) {
    const int64_t m = l["m"].get<int64_t>();
    EXPECT_EQ(l["sp2_rows"].get<int64_t>(), 0) << l["name"];
    EXPECT_EQ(l["fixed_rows"].get<int64_t>(), m) << l["name"];
    EXPECT_EQ(l["fixed8_rows"].get<int64_t>(), std::lround(kFilm8BitShare * double(m)))
        << l["name"];
    EXPECT_EQ(l["verify"]["mismatches"].get<int64_t>(), 0) << l["name"];
  }
}

}  // namespace
}  // namespace msq
