// msqsim optimize end to end: it finds at least the best point of a grid sweep over the same space
// under each objective, --max-share keeps a design above it out, bad options exit 2.
#include <fmt/format.h>

#include <set>

#include "sim/sweep.h"
#include "tests/support/sweep_fixture.h"

namespace {

using msq::testing::SweepDir;

// One small layer (layer3.1.conv1 of ResNet-18) on the XC7Z020, so that a point takes a few ms.
// 4 vector lanes (672 LUT and 16 DSP against 16 lanes' 2,688 and 64): the XC7Z020 keeps room for
// the arrays these tests compare.
const char* kConfig =
    "device: xc7z020\nclock_mhz: 150\naccelerator: {vector: {lanes: 4}}\n"
    "workload: {layers: [layer3.1.conv1]}\n";

struct Figures {
  double fps = 0, j = 0;
};

// Whether a results row's LUT, FF, DSP and BRAM36 are all at most 85% of the device's (in
// integers: 20 x used <= 17 x available).
bool within_share(const msq::SweepTable& t, const std::vector<std::string>& row) {
  for (const std::string r : {"lut", "ff", "dsp", "bram36"})
    if (20 * std::stoll(row[size_t(msq::column(t.header, r))]) >
        17 * std::stoll(row[size_t(msq::column(t.header, r + "_avail"))]))
      return false;
  return true;
}

// The figures of the best ok row under `objective` in a results CSV; with `within`, of the rows
// within the share only.
Figures best_of(const std::string& csv, const std::string& objective, bool within = false) {
  msq::SweepTable t = msq::read_sweep_csv(csv, false);
  const int st = msq::column(t.header, "status"), f = msq::column(t.header, "frames_per_s"),
            e = msq::column(t.header, "energy_j_per_frame");
  Figures best;
  double best_score = -1;
  for (const auto& row : t.rows) {
    if (row[size_t(st)] != "ok") continue;
    if (within && !within_share(t, row)) continue;
    const double fps = std::stod(row[size_t(f)]), j = std::stod(row[size_t(e)]);
    const double s = objective == "latency" ? fps : objective == "energy" ? 1 / j : fps / j;
    if (s > best_score) best_score = s, best = {fps, j};
  }
  return best;
}

// "  X frames/s, Y mJ/frame" under the "Best design" line of optimize's output.
Figures printed_best(const std::string& out) {
  const size_t at = out.find("Best design on ");
  EXPECT_NE(at, std::string::npos) << out;
  Figures r;
  const size_t nl = out.find('\n', at);
  EXPECT_EQ(std::sscanf(out.c_str() + nl + 1, " %lf frames/s, %lf mJ/frame", &r.fps, &r.j), 2)
      << out;
  r.j /= 1e3;
  return r;
}

// Every ok row's "frames_per_s energy_j_per_frame", sorted; with `within`, of the rows within
// the share only.
std::vector<std::string> figures_of(const std::string& csv, bool within) {
  msq::SweepTable t = msq::read_sweep_csv(csv, false);
  const auto col = [&](const char* n) { return size_t(msq::column(t.header, n)); };
  std::vector<std::string> v;
  for (const auto& row : t.rows) {
    if (row[col("status")] != "ok") continue;
    if (within && !within_share(t, row)) continue;
    v.push_back(row[col("frames_per_s")] + " " + row[col("energy_j_per_frame")]);
  }
  std::sort(v.begin(), v.end());
  return v;
}

// Under `objective`, optimize's printed best is at least the grid's best. The printed figures are
// rounded to 0.1 frames/s and 1 uJ.
void expect_at_least_the_grid(const Figures& opt, const Figures& grid,
                              const std::string& objective) {
  if (objective == "latency") {
    EXPECT_GE(opt.fps, grid.fps - 0.05);
  } else if (objective == "energy") {
    EXPECT_LE(opt.j, grid.j + 0.5e-6);
  } else {
    EXPECT_LE(opt.j / opt.fps, (grid.j + 0.5e-6) / (grid.fps - 0.05));
  }
}

// The buffer and fraction axes of the grid sweeps below, and the same values as optimize's
// options: the grids and the searches cover the same points.
const std::string kGridBuffersAndFractions =
    "  accelerator.buffers.weight_bram36: [16, 48]\n"
    "  accelerator.buffers.input_bram36: [32]\n"
    "  accelerator.buffers.output_bram36: [32]\n"
    "  workload.sp2_fraction: [0.2, 0.5, 0.8]\n";
const std::string kBuffersAndFractions =
    " --buffer-splits 16/32/32,48/32/32 --sp2-fractions 0.2,0.5,0.8";

class Optimize : public SweepDir {
 protected:
  // Runs the grid sweep s.yaml into grid.csv and gives its points within the share. Some points
  // of the space are above the share, some within it: both sides are exercised.
  void run_grid(std::vector<std::string>* within) {
    const auto s = msqsim("sweep s.yaml --jobs 2 --out grid.csv");
    ASSERT_EQ(s.code, 0) << s.err;
    *within = figures_of(path("grid.csv"), true);
    ASSERT_GT(within->size(), 0u);
    ASSERT_LT(within->size(), figures_of(path("grid.csv"), false).size());
  }
  // Each option of `cases` (option, part of the message) exits 2 with one line on stderr holding
  // the message, before any design is reported.
  void expect_refused(const std::vector<std::pair<std::string, std::string>>& cases) {
    for (const auto& [opt, msg] : cases) {
      const auto r = msqsim("optimize c.yaml " + opt);
      EXPECT_EQ(r.code, 2) << opt;
      EXPECT_NE(r.err.find(msg), std::string::npos) << opt << ": " << r.err;
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << opt << ": " << r.err;
      EXPECT_EQ(r.out.find("Best design"), std::string::npos) << opt;
    }
  }
};

TEST_F(Optimize, FindsAtLeastTheBestPointOfAGridSweepUnderEachObjective) {
  write("c.yaml", kConfig);
  // The same space as a sweep: the engines list carries the kinds and the arrays (the sweep can
  // only vary config keys), the buffers are three axes whose product is the optimizer's splits.
  const std::vector<std::pair<std::string, std::string>> mixes = {
      {"lut_sp2", "dsp48"}, {"lut_sp2_bitserial", "dsp48_actpack"}};
  const std::vector<std::pair<int, int>> luts = {{8, 8}, {8, 16}, {16, 8}}, dsps = {{4, 4}, {4, 8}};
  std::string engines;
  for (const auto& [l, d] : mixes)
    for (const auto& [lr, lc] : luts)
      for (const auto& [dr, dc] : dsps)
        engines += fmt::format(
            "    - [{{impl: {}, rows: {}, cols: {}}}, {{impl: {}, rows: {}, cols: {}, packing: "
            "true}}]\n",
            l, lr, lc, d, dr, dc);
  write("s.yaml",
        "name: grid\nbase: c.yaml\nconstraints: {max_lut_percent: 85, max_dsp_percent: 85}\n"
        "axes:\n  accelerator.engines:\n" +
            engines + kGridBuffersAndFractions);
  const auto s = msqsim("sweep s.yaml --jobs 2 --out grid.csv");
  ASSERT_EQ(s.code, 0) << s.err;
  const std::string space =
      " --engines lut_sp2+dsp48,lut_sp2_bitserial+dsp48_actpack --lut-shapes 8x8,8x16,16x8"
      " --dsp-shapes 4x4,4x8" +
      kBuffersAndFractions;
  // The whole space (72 points, within the default budget), then in stages with a budget of 30.
  for (const std::string budget : {"", " --budget 30"})
    for (const std::string objective : {"latency", "energy", "edp"}) {
      SCOPED_TRACE(objective + budget);
      const auto o = msqsim("optimize c.yaml --jobs 2 --max-share 0.85 --csv opt.csv --objective " +
                            objective + space + budget);
      ASSERT_EQ(o.code, 0) << o.err;
      // The space is printed with each axis and its size before anything runs.
      for (const char* line :
           {"  engines          2 values: lut_sp2+dsp48 lut_sp2_bitserial+dsp48_actpack\n",
            "  LUT array        3 values: 8x8 8x16 16x8\n",
            "  DSP array        2 values: 4x4 4x8\n",
            "  buffers          2 values: 16/32/32 48/32/32\n",
            "  SP2 fraction     3 values: 0.20 0.50 0.80\n", "  72 points\n"})
        EXPECT_NE(o.out.find(line), std::string::npos) << line << o.out;
      EXPECT_NE(o.out.find(budget.empty() ? "search: every point (72 within the budget of 500"
                                          : "search: in stages, at most 30 simulations"),
                std::string::npos)
          << o.out;
      const Figures grid = best_of(path("grid.csv"), objective);
      const Figures opt = printed_best(o.out);
      ASSERT_GT(grid.fps, 0);
      expect_at_least_the_grid(opt, grid, objective);
      // And the optimizer's own CSV agrees with what it printed.
      const Figures own = best_of(path("opt.csv"), objective);
      EXPECT_NEAR(own.fps, opt.fps, 0.05);
      EXPECT_NEAR(own.j, opt.j, 0.5e-6);
    }
}

// Three engines (two SP2 arrays, one with an accumulator of its own, and a DSP array): each
// engine's shape is an axis. Compared with an exhaustive enumeration of the same space, a grid
// sweep over whole engine lists with no constraints, of which only the points within the share
// count: optimize simulates exactly those points (the same figures) and its best is the grid's.
const char* kThreeEngines =
    "device: xc7z020\nclock_mhz: 150\n"
    "accelerator:\n"
    "  vector: {lanes: 4}\n"
    "  engines:\n"
    "    - {impl: lut_sp2, name: lut_big, rows: 16, cols: 16}\n"
    "    - {impl: lut_sp2, name: lut_small, rows: 8, cols: 8, accumulator: {bits: 24, overflow: "
    "wrap}}\n"
    "    - {impl: dsp48, name: dsp_core, rows: 4, cols: 4, packing: true}\n"
    "workload: {layers: [layer3.1.conv1]}\n";

TEST_F(Optimize, ThreeEnginesFindsTheBestPointOfAnExhaustiveEnumeration) {
  write("c.yaml", kThreeEngines);
  const std::vector<std::pair<int, int>> bigs = {{8, 8}, {16, 16}, {24, 16}},
                                         smalls = {{4, 8}, {8, 8}}, dsps = {{4, 4}, {4, 8}};
  std::string engines;
  for (const auto& [br, bc] : bigs)
    for (const auto& [sr, sc] : smalls)
      for (const auto& [dr, dc] : dsps)
        engines += fmt::format(
            "    - [{{impl: lut_sp2, name: lut_big, rows: {}, cols: {}}}, {{impl: lut_sp2, name: "
            "lut_small, rows: {}, cols: {}, accumulator: {{bits: 24, overflow: wrap}}}}, "
            "{{impl: dsp48, name: dsp_core, rows: {}, cols: {}, packing: true}}]\n",
            br, bc, sr, sc, dr, dc);
  write("s.yaml", "name: grid\nbase: c.yaml\naxes:\n  accelerator.engines:\n" + engines +
                      kGridBuffersAndFractions);
  std::vector<std::string> grid_within;
  ASSERT_NO_FATAL_FAILURE(run_grid(&grid_within));
  const std::string space =
      " --shapes lut_big=8x8,16x16,24x16 --shapes lut_small=4x8,8x8 --dsp-shapes 4x4,4x8" +
      kBuffersAndFractions;
  for (const std::string objective : {"latency", "energy", "edp"}) {
    SCOPED_TRACE(objective);
    const auto o = msqsim("optimize c.yaml --jobs 2 --csv opt.csv --out best.yaml --objective " +
                          objective + space);
    ASSERT_EQ(o.code, 0) << o.err;
    for (const char* line :
         {"  engines            1 values (the config's kinds; --engines to search others): "
          "lut_sp2+lut_sp2+dsp48\n",
          "  lut_big array      3 values: 8x8 16x16 24x16\n",
          "  lut_small array    2 values: 4x8 8x8\n", "  dsp_core array     2 values: 4x4 4x8\n",
          "  72 points\n",
          "  arrays: 4 of 12 engine/array combinations exceed 85% of a resource (4 by LUT)\n",
          "  not searched: each engine's other keys, the vector engine (4 lanes, "
          "accelerator.vector.lanes)"})
      EXPECT_NE(o.out.find(line), std::string::npos) << line << o.out;
    EXPECT_NE(o.out.find("search: every point ("), std::string::npos) << o.out;
    // Exactly the grid's points within the share were simulated, with the same figures.
    EXPECT_EQ(figures_of(path("opt.csv"), false), grid_within);
    const Figures grid = best_of(path("grid.csv"), objective, true);
    const Figures opt = printed_best(o.out);
    ASSERT_GT(grid.fps, 0);
    expect_at_least_the_grid(opt, grid, objective);
    // The best design is written as the three-engine list, each engine's other keys kept.
    const std::string best = read(path("best.yaml"));
    EXPECT_NE(best.find("lut_small"), std::string::npos) << best;
    EXPECT_NE(best.find("bits: 24"), std::string::npos) << best;
    const auto v = msqsim("validate best.yaml");
    EXPECT_EQ(v.code, 0) << v.err;
  }
}

// A graph whose max pool and residual add run on the vector engine, so that its lanes change the
// frames/s as well as the LUTs and DSP slices left for the arrays.
const char* kPoolNet =
    "name: tiny\nsource: test\nlayers:\n"
    "  - {name: c1, type: conv, input: [16, 32, 32], out_channels: 32, kernel: 3, padding: 1}\n"
    "  - {name: pool, type: maxpool, kernel: 2, stride: 2}\n"
    "  - {name: c2, type: conv, out_channels: 32, kernel: 3, padding: 1}\n"
    "  - {name: add, type: add, inputs: [c2, pool]}\n"
    "  - {name: gap, type: global_avgpool}\n";

// --vector-lanes makes the lanes an axis: compared with an exhaustive grid sweep over the same
// space with accelerator.vector.lanes as an axis, optimize simulates exactly the grid's points
// within the share and its best is the grid's. 40 lanes take 160 DSP slices, so the 4x8 DSP
// array (32 more) fits 85% of the XC7Z020's 220 only with 2 lanes: the grid's best overall
// (16x16, 4x8, 40 lanes) is above the share, and the best within it has 2 lanes.
TEST_F(Optimize, VectorLanesAxisFindsTheBestPointOfAnExhaustiveEnumeration) {
  write("tiny.yaml", kPoolNet);
  write("c.yaml",
        "device: xc7z020\nclock_mhz: 150\naccelerator: {vector: {lanes: 4}}\n"
        "workload: {network: tiny.yaml}\n");
  std::string engines;
  for (const auto& [lr, lc] : std::vector<std::pair<int, int>>{{8, 8}, {16, 16}, {24, 16}})
    for (const auto& [dr, dc] : std::vector<std::pair<int, int>>{{4, 4}, {4, 8}})
      engines += fmt::format(
          "    - [{{impl: lut_sp2, rows: {}, cols: {}}}, {{impl: dsp48, rows: {}, cols: {}, "
          "packing: true}}]\n",
          lr, lc, dr, dc);
  write("s.yaml", "name: grid\nbase: c.yaml\naxes:\n  accelerator.engines:\n" + engines +
                      "  accelerator.vector.lanes: [2, 40]\n" + kGridBuffersAndFractions);
  std::vector<std::string> grid_within;
  ASSERT_NO_FATAL_FAILURE(run_grid(&grid_within));
  const std::string space =
      " --engines lut_sp2+dsp48 --lut-shapes 8x8,16x16,24x16 --dsp-shapes 4x4,4x8"
      " --vector-lanes 2,40" +
      kBuffersAndFractions;
  for (const std::string objective : {"latency", "energy", "edp"}) {
    SCOPED_TRACE(objective);
    const auto o = msqsim("optimize c.yaml --jobs 2 --csv opt.csv --out best.yaml --objective " +
                          objective + space);
    ASSERT_EQ(o.code, 0) << o.err;
    for (const char* line :
         {"  vector lanes     2 values: 2 40\n", "  72 points\n",
          "  arrays and lanes: 5 of 12 engine/array/lanes combinations exceed 85% of a resource "
          "(2 by DSP, 3 by LUT)\n",
          "  leaves 42 points\n", "search: every point (42 within the budget of 500"})
      EXPECT_NE(o.out.find(line), std::string::npos) << line << o.out;
    EXPECT_EQ(figures_of(path("opt.csv"), false), grid_within);
    const Figures grid = best_of(path("grid.csv"), objective, true);
    const Figures opt = printed_best(o.out);
    ASSERT_GT(grid.fps, 0);
    expect_at_least_the_grid(opt, grid, objective);
    // The lanes of the best design: in its line, in the CSV's column named by the config key (as
    // the sweep names it) and in the written config.
    msq::SweepTable t = msq::read_sweep_csv(path("opt.csv"), false);
    ASSERT_GE(msq::column(t.header, "accelerator.vector.lanes"), 0);
    const size_t at = o.out.find("Best design on ");
    const std::string line = o.out.substr(at, o.out.find('\n', at) - at);
    int lanes = 0;
    const size_t v = line.find(", vector ");
    ASSERT_NE(v, std::string::npos) << line;
    ASSERT_EQ(std::sscanf(line.c_str() + v, ", vector %d lanes", &lanes), 1) << line;
    EXPECT_NE(read(path("best.yaml")).find(fmt::format("lanes: {}", lanes)), std::string::npos);
    const auto r = msqsim("run best.yaml --no-verify");
    ASSERT_EQ(r.code, 0) << r.err;
  }
  // The latency optimum has 2 lanes: the DSP slices 40 lanes would take go to the DSP array.
  const auto o = msqsim("optimize c.yaml --jobs 2" + space);
  EXPECT_NE(o.out.find("(most frames/s): lut_sp2+dsp48, LUT 16x16, DSP 4x8, vector 2 lanes"),
            std::string::npos)
      << o.out;
  // In stages (a budget below the 42 points left), within the budget and the share.
  const auto st = msqsim("optimize c.yaml --jobs 2 --csv opt.csv --budget 20" + space);
  ASSERT_EQ(st.code, 0) << st.err;
  EXPECT_NE(st.out.find("search: in stages, at most 20 simulations"), std::string::npos) << st.out;
  const auto all = figures_of(path("opt.csv"), false);
  EXPECT_LE(all.size(), 20u);
  EXPECT_EQ(figures_of(path("opt.csv"), true), all);
  // Without --vector-lanes only the config's lanes run, and nothing about them is printed.
  const auto d = msqsim(
      "optimize c.yaml --jobs 2 --csv opt.csv --engines lut_sp2+dsp48 "
      "--lut-shapes 8x8 --dsp-shapes 4x4 --buffer-splits 16/32/32 "
      "--sp2-fractions 0.5");
  ASSERT_EQ(d.code, 0) << d.err;
  EXPECT_EQ(d.out.find("lanes"), std::string::npos) << d.out;
  EXPECT_LT(
      msq::column(msq::read_sweep_csv(path("opt.csv"), false).header, "accelerator.vector.lanes"),
      0);
}

// The same three-engine space in stages (a budget below its 72 points) stays within the budget,
// runs only points within the share, and says how it searched.
TEST_F(Optimize, ThreeEnginesInStagesStaysWithinTheBudget) {
  write("c.yaml", kThreeEngines);
  const auto o = msqsim(
      "optimize c.yaml --jobs 2 --csv opt.csv --budget 12 --shapes lut_big=8x8,16x16,24x16 "
      "--shapes lut_small=4x8,8x8 --dsp-shapes 4x4,4x8 --buffer-splits 16/32/32,48/32/32 "
      "--sp2-fractions 0.2,0.5,0.8");
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("search: in stages, at most 12 simulations"), std::string::npos) << o.out;
  const auto all = figures_of(path("opt.csv"), false);
  EXPECT_LE(all.size(), 12u);
  EXPECT_GT(all.size(), 0u);
  EXPECT_EQ(figures_of(path("opt.csv"), true), all);
}

// Options about engines that a three-engine list makes wrong: exit 2, one line naming the option.
TEST_F(Optimize, ThreeEngineOptionsExit2WithOneClearLine) {
  write("c.yaml", kThreeEngines);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--engines lut_sp2+dsp48",
       "--engines: expected a comma-separated list of 3 kinds joined by '+', one per engine of "
       "accelerator.engines in its order (lut_big: lut_sp2 or lut_sp2_bitserial, lut_small: "
       "lut_sp2 or lut_sp2_bitserial, dsp_core: dsp48 or dsp48_actpack), e.g. "
       "lut_sp2+lut_sp2+dsp48 (got 'lut_sp2+dsp48')"},
      {"--engines lut_sp2+dsp48+dsp48", "(got 'lut_sp2+dsp48+dsp48')"},
      {"--shapes lut_huge=8x8",
       "--shapes: expected ENGINE=ROWSxCOLS,... with ENGINE one of the config's engines "
       "(lut_big, lut_small, dsp_core) (got 'lut_huge=8x8')"},
      {"--shapes lut_big", "(got 'lut_big')"},
      {"--shapes lut_big=8x8 --shapes lut_big=4x4",
       "--shapes: lut_big is given twice (one --shapes per engine)"},
      {"--shapes lut_big=8y8", "--shapes lut_big: expected a comma-separated list of ROWSxCOLS"},
      // The default shapes of three engines and two mixes: 1,486,622 combinations are priced;
      // four mixes would be 2,973,244, above what it prices.
      {"--engines lut_sp2+lut_sp2+dsp48,lut_sp2+lut_sp2+dsp48_actpack,"
       "lut_sp2_bitserial+lut_sp2+dsp48,lut_sp2+lut_sp2_bitserial+dsp48",
       "optimize: the search space has 2,973,244 engine/array combinations (4 engine mixes x 97 "
       "lut_big x 97 lut_small x 79 dsp_core shapes), more than the 2,000,000 it prices one by "
       "one: give shorter shape lists"},
  };
  expect_refused(cases);
}

TEST_F(Optimize, MaxShareKeepsADesignAboveItOut) {
  write("c.yaml", kConfig);
  // A 24x16 LUT core uses about 96% of the XC7Z020's LUTs, a 16x16 one about 72%; at SP2
  // fraction 0.9 the LUT core bounds the layer, so the larger one is faster.
  const std::string space =
      "optimize c.yaml --jobs 2 --engines lut_sp2+dsp48 --lut-shapes 16x16,24x16 --dsp-shapes "
      "4x4 --buffer-splits 32/48/32 --sp2-fractions 0.9 --csv opt.csv --out best.yaml";
  const auto all = msqsim(space + " --max-share 1");
  ASSERT_EQ(all.code, 0) << all.err;
  EXPECT_NE(all.out.find("lut_sp2+dsp48, LUT 24x16, DSP 4x4"), std::string::npos) << all.out;
  const auto capped = msqsim(space + " --max-share 0.85");
  ASSERT_EQ(capped.code, 0) << capped.err;
  EXPECT_NE(capped.out.find("1 of 2 engine/array combinations exceed 85% of a resource (1 by LUT)"),
            std::string::npos)
      << capped.out;
  EXPECT_NE(capped.out.find("Best design on xc7z020 (most frames/s): lut_sp2+dsp48, LUT 16x16"),
            std::string::npos)
      << capped.out;
  msq::SweepTable t = msq::read_sweep_csv(path("opt.csv"), false);
  const int lut = msq::column(t.header, "lut_array"), pct = msq::column(t.header, "lut_percent");
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(t.rows[0][size_t(lut)], "16x16");
  EXPECT_LE(std::stod(t.rows[0][size_t(pct)]), 85.0);
  // The best design, written as a config, loads and runs as the design optimize chose.
  const std::string best = read(path("best.yaml"));
  EXPECT_NE(best.find("rows: 16"), std::string::npos) << best;
  const auto v = msqsim("validate best.yaml");
  EXPECT_EQ(v.code, 0) << v.err;
  // Written as a self-contained engine list, named as the old spelling's engines.
  EXPECT_NE(v.out.find("lut_core 16x16 (lut_sp2), dsp_core 4x4 (dsp48)"), std::string::npos)
      << v.out;
}

TEST_F(Optimize, BadOptionsExit2WithOneClearLine) {
  write("c.yaml", kConfig);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--max-share 0",
       "--max-share expects a share of each resource in (0, 1], e.g. 0.85, got '0'"},
      {"--max-share 1.5", "got '1.5'"},
      {"--max-share most", "got 'most'"},
      {"--budget 0", "--budget expects a number of simulations >= 1, got 0"},
      {"--lut-shapes 8by8", "--lut-shapes: expected a comma-separated list of ROWSxCOLS"},
      {"--dsp-shapes 4x0", "--dsp-shapes: expected a comma-separated list of ROWSxCOLS"},
      {"--engines lut_sp2+dsp49",
       "--engines: expected a comma-separated list of LUT_KIND+DSP_KIND"},
      {"--buffer-splits 32/64", "--buffer-splits: expected a comma-separated list of WEIGHT/INPUT"},
      {"--sp2-fractions 0.5,2",
       "--sp2-fractions: expected a comma-separated list of SP2 fractions"},
      {"--out best.csv", "--out: expected a config file name ending in .yaml or .yml"},
      // Empty values and empty list items were dropped: the default axis, or fewer points.
      {"--engines ''", "--engines expects a value (got '')"},
      {"--csv ''", "--csv expects a value (got '')"},
      {"--lut-shapes 16x16,", "--lut-shapes: expected a comma-separated list of ROWSxCOLS"},
      {"--sp2-fractions 0.5,,0.25", "--sp2-fractions: expected a comma-separated list"},
      // The message quoted the number that failed ('') instead of the item.
      {"--lut-shapes 16x16,8x",
       "expected a comma-separated list of ROWSxCOLS, each 1..4096, e.g. "
       "16x16,8x32 (got '8x')"},
      // A value given twice was simulated twice and listed twice among the runners-up.
      {"--lut-shapes 8x8,8x8", "--lut-shapes: 8x8 is listed twice (each value once)"},
      {"--sp2-fractions 0.5,0.50", "--sp2-fractions: 0.50 is listed twice"},
      {"--engines lut_sp2+dsp48,lut_sp2+dsp48", "--engines: lut_sp2+dsp48 is listed twice"},
      {"--buffer-splits 8/8/8,8/8/8", "--buffer-splits: 8/8/8 is listed twice"},
      {"--vector-lanes 0",
       "--vector-lanes: expected a comma-separated list of vector engine lane counts, each "
       "1..4096, e.g. 4,8,16 (got '0')"},
      {"--vector-lanes 4,8x", "(got '8x')"},
      {"--vector-lanes 4,", "--vector-lanes: expected a comma-separated list"},
      {"--vector-lanes 5000", "(got '5000')"},
      {"--vector-lanes ''", "--vector-lanes expects a value (got '')"},
      {"--vector-lanes 8,08", "--vector-lanes: 8 is listed twice (each value once)"},
      // No searched engine mix runs the workload: refused as `run` refuses the config, not
      // "no design fits the device".
      {"--engines lut_sp2_bitserial+dsp48 --set workload.weight_bits=8 --sp2-fractions 0.5",
       "optimize: no engine mix of the search space can run this workload "
       "(lut_sp2_bitserial+dsp48): "},
  };
  expect_refused(cases);
}

// Valid options on a device too small for them: exit 1 ("ran, but no design fits", as `run`'s
// design that does not fit), one line, no --out written. A share leaving too few BRAM36 to split
// was exit 2, as if the options were malformed.
TEST_F(Optimize, NothingFitsTheShareExits1) {
  write("c.yaml", kConfig);
  for (const std::string opts : {"--max-share 0.02", "--lut-shapes 256x256 --dsp-shapes 64x64"}) {
    const auto r = msqsim("optimize c.yaml --jobs 1 --out best.yaml " + opts);
    EXPECT_EQ(r.code, 1) << opts << ": " << r.err;
    EXPECT_EQ(r.err.rfind("msqsim: optimize: no design in the search space fits ", 0), 0u)
        << opts << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << opts << ": " << r.err;
    EXPECT_FALSE(std::filesystem::exists(path("best.yaml"))) << opts;
  }
}

// --shapes names an engine of the two-engine design too, and replaces its family's list for it:
// the same space and output as --lut-shapes and --dsp-shapes.
TEST_F(Optimize, ShapesByEngineNameOnTheTwoEngineDesign) {
  write("c.yaml", kConfig);
  const std::string rest =
      " --engines lut_sp2+dsp48 --buffer-splits 32/48/32 --sp2-fractions 0.5 --jobs 1";
  const auto by_family = msqsim("optimize c.yaml --lut-shapes 8x8,8x16 --dsp-shapes 4x4" + rest);
  const auto by_name =
      msqsim("optimize c.yaml --shapes lut_core=8x8,8x16 --shapes dsp_core=4x4" + rest);
  ASSERT_EQ(by_family.code, 0) << by_family.err;
  ASSERT_EQ(by_name.code, 0) << by_name.err;
  EXPECT_NE(by_name.out.find("  LUT array        2 values: 8x8 8x16\n"), std::string::npos)
      << by_name.out;
  const auto cut = [](const std::string& s) {  // the timing line differs
    const size_t a = s.find("simulated "), b = s.find('\n', a);
    return s.substr(0, a) + s.substr(b);
  };
  EXPECT_EQ(cut(by_name.out), cut(by_family.out));
}

// A fraction finer than the default axis's two decimals runs as given (0.333 ran as 0.33).
TEST_F(Optimize, AFinerFractionRunsAsGiven) {
  write("c.yaml", kConfig);
  const auto r = msqsim(
      "optimize c.yaml --jobs 1 --engines lut_sp2+dsp48 --lut-shapes 8x8 --dsp-shapes 4x4 "
      "--buffer-splits 32/48/32 --sp2-fractions 0.333 --csv opt.csv");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("SP2 0.333"), std::string::npos) << r.out;
  msq::SweepTable t = msq::read_sweep_csv(path("opt.csv"), false);
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(t.rows[0][size_t(msq::column(t.header, "workload.sp2_fraction"))], "0.333");
}

// Every simulated point failed (the bit-serial engine runs no 8-bit SP2 row; the mix passes the
// check at fraction 0 but stage 1 runs the balanced fractions): exit 1, and the one line says why
// (without --csv it gave no reason at all).
TEST_F(Optimize, NoPointRanSaysWhy) {
  write("c.yaml", kConfig);
  const auto r = msqsim(
      "optimize c.yaml --jobs 1 --engines lut_sp2_bitserial+dsp48 --lut-shapes 8x8 "
      "--dsp-shapes 4x4 --buffer-splits 32/48/32 --set workload.weight_bits=8 --sp2-fractions "
      "0,0.5,1 --budget 2");
  EXPECT_EQ(r.code, 1) << r.err;
  const std::string line = r.err.substr(r.err.rfind("msqsim: "));
  EXPECT_EQ(line.rfind("msqsim: optimize: no design point ran: the first point's error: c.yaml: "
                       "workload.weight_bits: a lut_sp2_bitserial engine takes SP2 rows of 3..7 "
                       "bits",
                       0),
            0u)
      << r.err;
}

}  // namespace
