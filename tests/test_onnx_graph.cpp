// ONNX networks run as graphs: the imported integer graph goes through the same graph run as a
// network file's (chained in both models, Add and pools on the vector engine, every tensor
// verified), and its calibrated zero points reach padding and bias in both models.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "models/accelerator.h"
#include "models/reference/graph_reference.h"
#include "sim/config_loader.h"
#include "sim/energy_report.h"
#include "sim/session.h"
#include "sim/sweep.h"
#include "tests/support/in_child.h"
#include "tests/support/run_cli.h"

using namespace msq;
using msq::testing::CmdResult;
using msq::testing::msqsim;
using msq::testing::TempDir;

namespace {

const std::string kDigits = MSQ_SOURCE_DIR "/configs/examples/digits_resnet.yaml";

nlohmann::json read_json(const std::string& path) {
  std::ifstream f(path);
  return nlohmann::json::parse(f);
}

TEST(OnnxGraphRun, DigitsRunsChainedWithItsPoolsAndAddOnTheVectorEngine) {
  TempDir d;
  const CmdResult r = msqsim("run '" + kDigits + "' --json '" + d / "r.json" + "'");
  ASSERT_EQ(r.code, 0) << r.out;
  const nlohmann::json j = read_json(d / "r.json");
  EXPECT_EQ(j["verify"]["mismatches"].get<int64_t>(), 0);
  std::vector<std::string> vec;
  int64_t checked = 0;
  for (const auto& o : j["ops"]) {
    checked += o["verify"]["checked"].get<int64_t>();
    if (o["engine"] == "vector" && o["type"] != "flatten") {
      vec.push_back(o["name"]);
      EXPECT_GT(o["busy_cycles"].get<int64_t>(), 0) << o["name"];
      EXPECT_GT(o["verify"]["checked"].get<int64_t>(), 0) << o["name"];
    }
  }
  EXPECT_EQ(vec, (std::vector<std::string>{"maxpool", "block.add", "avgpool"}));
  // Every tensor is checked: the four layers' outputs and the three vector ops' (and the
  // flatten view of the pooled tensor).
  EXPECT_EQ(j["verify"]["outputs_checked"].get<int64_t>(), checked);
  EXPECT_EQ(j["layers"].size(), 4u);
}

// A wrong value in the first residual conv flows on through the add: the report names that conv
// first.
TEST(OnnxGraphRun, FaultIsReportedAtTheFirstOp) {
  TempDir d;
  const CmdResult r = msq::testing::run_cmd("MSQSIM_FAULT=block.conv1:3:5 '" MSQSIM_EXE "' run '" +
                                            kDigits + "' --json '" + d / "r.json" + "'");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("first difference: op block.conv1 (conv) tensor block.conv1 at (b 0, c 3, "
                       "h 1, w 1)"),
            std::string::npos)
      << r.out;
  const nlohmann::json j = read_json(d / "r.json");
  EXPECT_EQ(j["graph"]["first_mismatch_op"], "block.conv1");
  for (const auto& o : j["ops"])
    if (o["name"] == "block.conv2" || o["name"] == "block.add") {
      EXPECT_GT(o["verify"]["mismatches"].get<int64_t>(), 0) << o["name"];
    }
}

struct Outcome {
  uint64_t hash = 0;   // of the op's output values
  bool agree = false;  // the cycle model's equal the functional model's
};

uint64_t fnv(const std::vector<int64_t>& v) {
  uint64_t h = 1469598103934665603ull;
  for (int64_t x : v) h = (h ^ uint64_t(x)) * 1099511628211ull;
  return h;
}

// Both models run the design's graph with `layers` on its input (the cycle model in a child: one
// SystemC elaboration per process); the op's output values as a hash, and whether they agree.
Outcome both_models(const Design& d, const std::vector<QuantLayer>& layers, size_t op_index) {
  const Graph& g = d.graph;
  const Op& op = g.ops[op_index];
  const GraphValues ref = run_graph_functional(g, layers, d.graph_input);
  const uint64_t want = fnv(ref.tensors[size_t(op.output)].data);
  return msq::testing::in_child<Outcome>([&] {
    Workload wl = d.wl;
    wl.layers = layers;
    SimOptions so;
    so.graph = &g;
    so.graph_input = &d.graph_input;
    so.values = true;
    const SimResult r = simulate(d.cfg, wl, so);
    Outcome o;
    o.hash = fnv(r.layers[size_t(op.layer)].out.data);
    o.agree = o.hash == want;
    return o;
  });
}

std::vector<int64_t> functional(const Design& d, const std::vector<QuantLayer>& layers,
                                size_t op_index) {
  return run_graph_functional(d.graph, layers, d.graph_input)
      .tensors[size_t(d.graph.ops[op_index].output)]
      .data;
}

// The digits network's input is normalized around 0, so calibration gives it a nonzero zero
// point. conv1 pads with it (3x3, pad 1) and its bias has -z * sum(w) folded in: changing either
// changes conv1's output in both models alike.
TEST(OnnxGraphRun, NonzeroInputZeroPointReachesPaddingAndBiasInBothModels) {
  const RunConfig cfg = load_run_config(kDigits, {});
  const Design d = prepare_design(cfg, true, shipped_resource_costs());
  ASSERT_TRUE(d.graph_run);
  const Graph& g = d.graph;
  size_t conv1 = g.ops.size();
  for (size_t i = 0; i < g.ops.size(); ++i)
    if (g.ops[i].name == "conv1") conv1 = i;
  ASSERT_LT(conv1, g.ops.size());
  const int l = g.ops[conv1].layer;
  const QuantLayer& L = d.wl.layers[size_t(l)];
  const int32_t z = g.tensors[size_t(g.input)].zero_point;
  ASSERT_NE(z, 0) << "the calibrated input should have a nonzero zero point";
  ASSERT_EQ(L.in_zero, z);
  ASSERT_GT(L.shape.ph, 0);

  const Outcome real = both_models(d, d.wl.layers, conv1);
  EXPECT_TRUE(real.agree);
  // Padding with 0 instead of z: only border outputs change, in both models.
  std::vector<QuantLayer> pad0 = d.wl.layers;
  pad0[size_t(l)].in_zero = 0;
  const Outcome p = both_models(d, pad0, conv1);
  EXPECT_TRUE(p.agree);
  EXPECT_NE(p.hash, real.hash);
  const std::vector<int64_t> a = functional(d, d.wl.layers, conv1), b = functional(d, pad0, conv1);
  const int OH = L.shape.out_h(), OW = L.shape.out_w();
  int64_t border = 0, inner = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const int y = int(i / size_t(OW) % size_t(OH)), x = int(i % size_t(OW));
    const bool edge = y == 0 || x == 0 || y == OH - 1 || x == OW - 1;
    (edge ? border : inner) += a[i] != b[i];
  }
  EXPECT_GT(border, 0);
  EXPECT_EQ(inner, 0);
  // The bias without the zero point's term: the outputs move, in both models alike.
  std::vector<QuantLayer> nofold = d.wl.layers;
  QuantLayer& n = nofold[size_t(l)];
  const int64_t K = n.shape.k();
  for (int64_t m = 0; m < n.shape.m(); ++m) {
    int64_t sum = 0;
    for (int64_t k = 0; k < K; ++k) sum += n.row(m)[k];
    n.bias[size_t(m)] = int32_t(n.bias[size_t(m)] + int64_t(z) * sum);
  }
  const Outcome f = both_models(d, nofold, conv1);
  EXPECT_TRUE(f.agree);
  EXPECT_NE(f.hash, real.hash);
}

// `trace record` on an ONNX config writes a graph trace (format 2) with the calibrated zero
// points, biases and every tensor's expected codes; `regress` replays it chained, 0 differences.
TEST(OnnxGraphTrace, RecordAndReplayTheDigitsNetwork) {
  TempDir d;
  const std::string dir = d / "t";
  CmdResult r = msqsim("trace record '" + kDigits + "' --out '" + dir + "'");
  ASSERT_EQ(r.code, 0) << r.out;
  std::ifstream m(dir + "/trace.yaml");
  const std::string manifest((std::istreambuf_iterator<char>(m)), std::istreambuf_iterator<char>());
  EXPECT_NE(manifest.find("format: msqsim-trace/2"), std::string::npos);
  EXPECT_NE(manifest.find("input: {zero_point: 128,"), std::string::npos) << manifest;
  EXPECT_NE(manifest.find("{name: conv1, type: conv, inputs: [input], in_zero: 128,"),
            std::string::npos);
  EXPECT_NE(manifest.find("{name: block.add, type: add, inputs: [block.conv2, maxpool]"),
            std::string::npos);
  r = msqsim("regress '" + dir + "'");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("8 layers: 8 passed, 0 failed"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("FAIL"), std::string::npos) << r.out;
}

// The shipped sweep over the SP2 fraction of the digits model: accuracy proxy and frames/s side by
// side. At 4 bits the fixed-point codes fit these weights better than SP2 levels (the per-layer
// errors of `run`), so the all-fixed point agrees better with the float network than the all-SP2
// one, and every point stays a working classifier.
TEST(OnnxSweep, DigitsSp2FractionHasAccuracyBesideFramesPerSecond) {
  TempDir d;
  const CmdResult r =
      msqsim("sweep '" MSQ_SOURCE_DIR "/configs/sweeps/digits_sp2_fraction.yaml' --out '" +
             d / "s.csv" + "'");
  ASSERT_EQ(r.code, 0) << r.out;
  const SweepTable t = read_sweep_csv(d / "s.csv", false);
  ASSERT_EQ(t.rows.size(), 11u);
  const int frac = column(t.header, "workload.sp2_fraction"),
            fps = column(t.header, "frames_per_s"), cos = column(t.header, "cosine"),
            agree = column(t.header, "top1_agreement"), acc = column(t.header, "top1_accuracy");
  ASSERT_GE(std::min({frac, fps, cos, agree, acc}), 0);
  std::vector<double> cosine;
  for (const auto& row : t.rows) {
    SCOPED_TRACE(row[size_t(frac)]);
    EXPECT_EQ(row[1], "ok");
    EXPECT_GT(std::stod(row[size_t(fps)]), 0);
    cosine.push_back(std::stod(row[size_t(cos)]));
    EXPECT_GT(cosine.back(), 0.95);
    EXPECT_GE(std::stod(row[size_t(agree)]), 0.9);
    EXPECT_GE(std::stod(row[size_t(acc)]), 0.9);
  }
  EXPECT_GT(cosine.front(), cosine.back() + 0.01);
}

TEST(OnnxSweep, EvalNeedsAnOnnxBase) {
  TempDir d;
  std::ofstream(d / "s.yaml")
      << "base: '" MSQ_SOURCE_DIR
         "/configs/examples/default.yaml'\neval:\n  images: '" MSQ_SOURCE_DIR
         "/configs/models/digits_test_images.npy'\n";
  const CmdResult r = msqsim("sweep '" + d / "s.yaml" + "' --out '" + d / "s.csv" + "'");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("eval: compares an imported network with its float original"),
            std::string::npos)
      << r.out;
}

}  // namespace
