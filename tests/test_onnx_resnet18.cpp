// A torchvision-layout ResNet-18 in ONNX (tools/make_resnet18_onnx.py, built at test time with
// Debian's python3-onnx) imports to the graph of the shipped configs/workloads/resnet18.yaml: the
// same conv and fc layers op for op, with the max pool, the eight residual adds and the global
// average pool between them.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <tuple>

#include "models/config.h"
#include "models/graph/graph_check.h"
#include "models/workload/onnx_import.h"
#include "sim/config_loader.h"
#include "tests/support/run_cli.h"

namespace msq {
namespace {

const std::string kSrc = MSQ_SOURCE_DIR;

FloatGraph make_resnet18(const testing::TempDir& dir) {
  const std::string out = dir / "resnet18.onnx";
  const auto r = testing::run_cmd("/usr/bin/python3 " +
                                  testing::quoted(kSrc + "/tools/make_resnet18_onnx.py") +
                                  " --out " + testing::quoted(out));
  if (r.code != 0)
    ADD_FAILURE() << "tools/make_resnet18_onnx.py failed (needs Debian python3-onnx and "
                     "python3-numpy; tools/setup.sh installs them):\n"
                  << r.out;
  return import_onnx(out);
}

TEST(OnnxResnet18, LayersEqualTheShippedWorkloadOpForOp) {
  testing::TempDir dir;
  const FloatGraph g = make_resnet18(dir);
  WorkloadConfig w;
  w.network = "resnet18";
  const std::vector<LayerShape> want = load_network(w);
  const std::vector<LayerShape> got = onnx_layer_shapes(g);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const LayerShape &a = got[i], &b = want[i];
    SCOPED_TRACE(b.name);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.type, b.type);
    EXPECT_EQ(std::vector<int>(
                  {a.in_c, a.in_h, a.in_w, a.out_c, a.kh, a.kw, a.sh, a.sw, a.ph, a.pw, a.groups}),
              std::vector<int>(
                  {b.in_c, b.in_h, b.in_w, b.out_c, b.kh, b.kw, b.sh, b.sw, b.ph, b.pw, b.groups}));
    EXPECT_EQ(a.macs(), b.macs());
  }
}

TEST(OnnxResnet18, GraphHasThePoolsAndResidualAddsInPlace) {
  testing::TempDir dir;
  const FloatGraph g = make_resnet18(dir);
  // The ops in order, with each Add's operands named by their producers.
  const auto producer = [&](int t) -> std::string {
    for (const FloatOp& op : g.ops)
      if (op.output == t) return op.name;
    return "input";
  };
  std::vector<std::string> seq;
  for (const FloatOp& op : g.ops) {
    std::string s = op.name;
    if (op.kind == OpKind::Add)
      s += "(" + producer(op.inputs[0]) + "+" + producer(op.inputs[1]) + ")";
    if (op.kind == OpKind::MaxPool)
      s += "[" + std::to_string(op.kh) + "x" + std::to_string(op.kw) + "/" + std::to_string(op.sh) +
           " p" + std::to_string(op.ph) + "]";
    seq.push_back(s);
  }
  std::vector<std::string> want{"conv1", "maxpool[3x3/2 p1]"};
  std::string prev = "maxpool";
  for (int stage = 1; stage <= 4; ++stage)
    for (int block = 0; block < 2; ++block) {
      const std::string p = "layer" + std::to_string(stage) + "." + std::to_string(block);
      want.push_back(p + ".conv1");
      want.push_back(p + ".conv2");
      const bool down = stage > 1 && block == 0;
      if (down) want.push_back(p + ".downsample");
      want.push_back(p + ".add(" + p + ".conv2+" + (down ? p + ".downsample" : prev) + ")");
      prev = p + ".add";
    }
  want.push_back("avgpool");
  want.push_back("fc");
  EXPECT_EQ(seq, want);
  // Relu after every add and after conv1 of each block; none on conv2 or the downsample (their
  // sums feed the add unclamped).
  for (const FloatOp& op : g.ops) {
    const bool relu =
        op.kind == OpKind::Add || op.name == "conv1" || op.name.find(".conv1") != std::string::npos;
    EXPECT_EQ(op.relu, relu) << op.name;
  }
  EXPECT_EQ(g.ops.back().kind, OpKind::Fc);
  EXPECT_EQ(g.ops[g.ops.size() - 2].kind, OpKind::GlobalAvgPool);
}

// The imported graph equals the shipped configs/workloads/resnet18.yaml graph op for op: the same
// op kinds in the same order, each reading the same producers, with the same windows and shapes.
// The YAML's flatten before fc is a view that an ONNX import folds into the Fc, so it is skipped.
TEST(OnnxResnet18, GraphEqualsTheShippedWorkloadGraph) {
  testing::TempDir dir;
  const FloatGraph g = make_resnet18(dir);
  WorkloadConfig w;
  w.network = "resnet18";
  const NetworkSpec spec = load_network_spec(w);
  ASSERT_TRUE(spec.graph);
  const Graph& y = spec.skeleton;
  const auto onnx_producer = [&](int t) -> std::string {
    for (const FloatOp& op : g.ops)
      if (op.output == t) return op.name;
    return "input";
  };
  const auto yaml_producer = [&](int t) -> std::string {
    for (const Op& op : y.ops)
      if (op.output == t) return op.kind == OpKind::Flatten ? "" : op.name;
    return "input";
  };
  struct Row {
    std::string name, kind, inputs, window;
    int c = 0, h = 0, w = 0;
    bool operator==(const Row& o) const {
      return std::tie(name, kind, inputs, window, c, h, w) ==
             std::tie(o.name, o.kind, o.inputs, o.window, o.c, o.h, o.w);
    }
  };
  const auto window = [](OpKind k, int kh, int kw, int sh, int sw, int ph, int pw) {
    if (k != OpKind::MaxPool && k != OpKind::AvgPool) return std::string();
    return std::to_string(kh) + "x" + std::to_string(kw) + "/" + std::to_string(sh) + "x" +
           std::to_string(sw) + " p" + std::to_string(ph) + "x" + std::to_string(pw);
  };
  std::vector<Row> from_onnx, from_yaml;
  for (const FloatOp& op : g.ops) {
    Row r{op.name, op_kind_name(op.kind), "",
          window(op.kind, op.kh, op.kw, op.sh, op.sw, op.ph, op.pw)};
    for (int t : op.inputs) r.inputs += onnx_producer(t) + ";";
    const auto& t = g.tensors[op.output];
    r.c = t.c, r.h = t.h, r.w = t.w;
    from_onnx.push_back(r);
  }
  // A producer that is a flatten view stands for the op it flattens.
  const auto through_views = [&](int t) {
    for (const Op& op : y.ops)
      if (op.output == t && op.kind == OpKind::Flatten) return yaml_producer(op.inputs[0]);
    return yaml_producer(t);
  };
  for (const Op& op : y.ops) {
    if (op.kind == OpKind::Flatten) continue;
    Row r{op.name, op_kind_name(op.kind), "",
          window(op.kind, op.kh, op.kw, op.sh, op.sw, op.ph, op.pw)};
    for (int t : op.inputs) r.inputs += through_views(t) + ";";
    const TensorDesc& t = y.tensors[op.output];
    r.c = t.c, r.h = t.h, r.w = t.w;
    from_yaml.push_back(r);
  }
  ASSERT_EQ(from_onnx.size(), from_yaml.size());
  for (size_t i = 0; i < from_yaml.size(); ++i) {
    const Row &a = from_onnx[i], &b = from_yaml[i];
    EXPECT_TRUE(a == b) << "op " << i << ": ONNX " << a.name << " " << a.kind << " reads "
                        << a.inputs << " " << a.window << " -> [" << a.c << ", " << a.h << ", "
                        << a.w << "]; YAML " << b.name << " " << b.kind << " reads " << b.inputs
                        << " " << b.window << " -> [" << b.c << ", " << b.h << ", " << b.w << "]";
  }
}

// The imported ResNet-18 runs as a graph like the shipped workload: chained, its max pool, eight
// adds and global average pool on the vector engine, every tensor verified.
TEST(OnnxResnet18, GraphRunVerifiesEveryTensor) {
  testing::TempDir dir;
  make_resnet18(dir);
  std::ofstream(dir / "c.yaml") << "device: xc7z045\nworkload:\n  network: resnet18.onnx\n"
                                   "  sp2_fraction: 0.5\n";
  const auto r = testing::msqsim("run " + testing::quoted(dir / "c.yaml") + " --json " +
                                 testing::quoted(dir / "r.json"));
  ASSERT_EQ(r.code, 0) << r.out;
  std::ifstream f(dir / "r.json");
  const nlohmann::json j = nlohmann::json::parse(f);
  EXPECT_EQ(j["verify"]["mismatches"].get<int64_t>(), 0);
  int vec = 0;
  int64_t checked = 0;
  for (const auto& o : j["ops"]) {
    checked += o["verify"]["checked"].get<int64_t>();
    if (o["engine"] == "vector" && o["type"] != "flatten") {
      ++vec;
      EXPECT_GT(o["verify"]["checked"].get<int64_t>(), 0) << o["name"];
    }
  }
  EXPECT_EQ(vec, 10);  // 8 adds, max pool, global average pool
  EXPECT_EQ(j["layers"].size(), 21u);
  EXPECT_EQ(j["verify"]["outputs_checked"].get<int64_t>(), checked);
}

}  // namespace
}  // namespace msq
