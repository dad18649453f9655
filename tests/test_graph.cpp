// Graphs: validation, network files with ops, the functional model and the vector engine on the
// non-GEMM ops, and graph runs of the cycle model verified tensor by tensor.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "models/error.h"
#include "models/graph/graph_check.h"
#include "models/hw/engines/vector/vector.h"
#include "models/plan/tensor_memory.h"
#include "models/reference/graph_reference.h"
#include "sim/config_loader.h"
#include "sim/session.h"
#include "tests/support/run_cli.h"

using namespace msq;
using msq::testing::CmdResult;
using msq::testing::msqsim;
using msq::testing::TempDir;

namespace {

TensorDesc tensor(const std::string& name, int c, int h, int w, int32_t zero = 0) {
  TensorDesc t;
  t.name = name;
  t.c = c, t.h = h, t.w = w;
  t.zero_point = zero;
  return t;
}

Op op(const std::string& name, OpKind k, std::vector<int> in, int out) {
  Op o;
  o.name = name;
  o.kind = k;
  o.inputs = std::move(in);
  o.output = out;
  return o;
}

// input [2, 4, 4] -> maxpool 2x2/2 -> [2, 2, 2]; add(maxpool, avgpool) ; concat; gap; flatten
Graph small_graph() {
  Graph g;
  g.name = "small";
  g.tensors = {tensor("input", 2, 4, 4, 3), tensor("mp", 2, 2, 2, 3),  tensor("ap", 2, 2, 2, 5),
               tensor("sum", 2, 2, 2, 7),   tensor("cat", 4, 2, 2, 3), tensor("gap", 4, 1, 1, 2),
               tensor("flat", 4, 1, 1, 2)};
  g.input = 0;
  Op mp = op("mp", OpKind::MaxPool, {0}, 1);
  mp.kh = mp.kw = 2, mp.sh = mp.sw = 2;
  Op ap = op("ap", OpKind::AvgPool, {0}, 2);
  ap.kh = ap.kw = 3, ap.sh = ap.sw = 2, ap.ph = ap.pw = 1;
  ap.mult_a = 7282, ap.shift = 16;  // about 1/9
  Op add = op("sum", OpKind::Add, {1, 2}, 3);
  add.mult_a = 3, add.mult_b = 5, add.shift = 3, add.lo = 7, add.hi = 250;
  Op cat = op("cat", OpKind::Concat, {1, 1}, 4);
  Op gap = op("gap", OpKind::GlobalAvgPool, {4}, 5);
  gap.mult_a = 1, gap.shift = 2;
  Op fl = op("flat", OpKind::Flatten, {5}, 6);
  g.ops = {mp, ap, add, cat, gap, fl};
  g.outputs = {3, 6};
  return g;
}

ActTensor ramp_input() {
  ActTensor a;
  a.b = 1, a.c = 2, a.h = 4, a.w = 4;
  for (int i = 0; i < 32; ++i) a.data.push_back(uint16_t((i * 37) % 251));
  return a;
}

std::string check_message(const Graph& g) {
  try {
    check_graph(g);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(GraphCheck, AcceptsAWellFormedGraph) {
  EXPECT_EQ(check_message(small_graph()), "");
}

TEST(GraphCheck, RefusesBadGraphsNamingTheOp) {
  Graph g = small_graph();
  g.tensors[2].h = 3;  // the avgpool's output shape is wrong
  EXPECT_NE(check_message(g).find("op ap (avgpool): output ap is [1, 2, 3, 2]"), std::string::npos)
      << check_message(g);
  g = small_graph();
  g.ops[2].inputs = {1, 4};  // add of [2,2,2] and [4,2,2]: mismatched shapes (and out of order)
  EXPECT_NE(check_message(g).find("op sum (add)"), std::string::npos) << check_message(g);
  g = small_graph();
  g.ops[1].inputs = {3};  // reads the add's output, which depends on it: a cycle
  EXPECT_NE(check_message(g).find("op ap (avgpool): reads tensor sum of op sum, which runs after"),
            std::string::npos)
      << check_message(g);
  g = small_graph();
  g.tensors.push_back(tensor("ghost", 2, 2, 2));
  g.ops[2].inputs = {1, 7};  // a tensor nobody writes
  EXPECT_NE(check_message(g).find("op sum (add): reads tensor ghost, which no op produces"),
            std::string::npos)
      << check_message(g);
  g = small_graph();
  g.ops[2].shift = 0;
  EXPECT_NE(check_message(g).find("op sum (add): expected shift in 1..62"), std::string::npos);
  g = small_graph();
  g.ops[2].lo = 300;
  EXPECT_NE(check_message(g).find("op sum (add): expected 0 <= lo <= hi"), std::string::npos);
  g = small_graph();
  g.ops[0].ph = 2;  // padding as large as the window: a window of padding only
  EXPECT_NE(check_message(g).find("op mp (maxpool): expected padding in 0..kernel-1"),
            std::string::npos);
  g = small_graph();
  g.tensors[4].zero_point = 4;  // a concat passes its inputs' zero point through
  EXPECT_NE(check_message(g).find("op cat (concat): output cat has zero point 4"),
            std::string::npos);
}

// Hand-worked values of every non-GEMM op, independent of both implementations.
TEST(GraphReference, HandWorkedOps) {
  const Graph g = small_graph();
  const ActTensor in = ramp_input();
  const GraphValues v = run_graph_functional(g, {}, in);
  const auto x = [&](int c, int h, int w) { return int64_t(in.data[size_t((c * 4 + h) * 4 + w)]); };
  // maxpool channel 1, output (1, 0): the window rows 2..3, columns 0..1
  EXPECT_EQ(v.tensors[1].data[4 + 2], std::max({x(1, 2, 0), x(1, 2, 1), x(1, 3, 0), x(1, 3, 1)}));
  // avgpool channel 0, output (0, 0): window rows -1..1, columns -1..1, 4 taps in bounds, each
  // minus the zero point 3; padding adds 0; then (T * 7282 + 2^15) >> 16, plus the zero point 5
  const int64_t T = x(0, 0, 0) + x(0, 0, 1) + x(0, 1, 0) + x(0, 1, 1) - 4 * 3;
  const int64_t ap = ((T * 7282 + 32768) >> 16) + 5;
  EXPECT_EQ(v.tensors[2].data[0], ap);
  // add: (3 * (mp - 3) + 5 * (ap - 5) + 4) >> 3, plus 7, clamped to [7, 250]
  const int64_t mp = v.tensors[1].data[0];
  EXPECT_EQ(v.tensors[3].data[0],
            std::clamp<int64_t>(((3 * (mp - 3) + 5 * (ap - 5) + 4) >> 3) + 7, 7, 250));
  // concat of mp with itself: channels 2..3 repeat channels 0..1
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(v.tensors[4].data[size_t(8 + i)], v.tensors[1].data[size_t(i)]);
  // global average pool over the 4 values of channel 0 of cat, divided by 4 through M=1, S=2
  int64_t s = 0;
  for (int i = 0; i < 4; ++i) s += v.tensors[4].data[size_t(i)] - 3;
  EXPECT_EQ(v.tensors[5].data[0], ((s + 2) >> 2) + 2);
  EXPECT_EQ(v.tensors[6].data, v.tensors[5].data);  // flatten: a view
}

// The vector engine's loops against the plain reference, on random tensors with zero points.
TEST(VectorEngine, ValuesMatchTheReferenceOnRandomOps) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 40; ++trial) {
    Graph g = small_graph();
    Op& ap = g.ops[1];
    ap.kh = 1 + int(rng() % 3), ap.kw = 1 + int(rng() % 3);
    ap.sh = 1 + int(rng() % 2), ap.sw = 1 + int(rng() % 2);
    ap.ph = int(rng() % ap.kh), ap.pw = int(rng() % ap.kw);
    ap.mult_a = int32_t(rng() % 100000), ap.shift = 10 + int(rng() % 10);
    g.tensors[2].h = (4 + 2 * ap.ph - ap.kh) / ap.sh + 1;
    g.tensors[2].w = (4 + 2 * ap.pw - ap.kw) / ap.sw + 1;
    g.ops[0] = ap, g.ops[0].kind = OpKind::MaxPool, g.ops[0].name = "mp", g.ops[0].output = 1;
    g.tensors[1].h = g.tensors[2].h, g.tensors[1].w = g.tensors[2].w;
    g.tensors[3].h = g.tensors[4].h = g.tensors[2].h;
    g.tensors[3].w = g.tensors[4].w = g.tensors[2].w;
    ASSERT_EQ(check_message(g), "");
    ActTensor in = ramp_input();
    for (auto& v : in.data) v = uint16_t(rng() % 256);
    const GraphValues ref = run_graph_functional(g, {}, in);
    for (const Op& op : g.ops) {
      std::vector<const OutTensor*> xs;
      for (int t : op.inputs) xs.push_back(&ref.tensors[size_t(t)]);
      EXPECT_EQ(vector_op_values(g, op, xs).data, ref.tensors[size_t(op.output)].data)
          << op.name << " trial " << trial;
    }
  }
}

TEST(TensorMemory, ResidualInputStaysAliveUntilItsAdd) {
  const Graph g = small_graph();
  const TensorMemoryPlan p =
      plan_tensor_memory(g, std::vector<int>(g.tensors.size(), 1), 4096, 4096);
  // mp (tensor 1) is read by the add (op 2) and the concat (op 3): alive to op 3.
  EXPECT_EQ(p.first[1], 0);
  EXPECT_EQ(p.last[1], 3);
  EXPECT_EQ(p.last[3], int(g.ops.size()));  // a network output: to the end
  EXPECT_EQ(p.bytes[6], 0);                 // flatten: a view of gap's region
  EXPECT_EQ(p.addr[6], p.addr[5]);
  // Tensors alive at the same time never share bytes.
  for (size_t a = 0; a < g.tensors.size(); ++a)
    for (size_t b = a + 1; b < g.tensors.size(); ++b) {
      if (!p.bytes[a] || !p.bytes[b]) continue;
      const bool overlap_time = !(p.last[a] < p.first[b] || p.last[b] < p.first[a]);
      const bool overlap_space = p.addr[a] < p.addr[b] + uint64_t(p.bytes[b]) &&
                                 p.addr[b] < p.addr[a] + uint64_t(p.bytes[a]);
      EXPECT_FALSE(overlap_time && overlap_space) << a << " " << b;
    }
  EXPECT_GT(p.peak_live_bytes, 0);
}

namespace {
std::string write_net(const TempDir& d, const std::string& layers) {
  const std::string path = d / "net.yaml";
  std::ofstream(path) << "name: net\ninput: [8, 8, 8]\nlayers:\n" << layers;
  return path;
}
CmdResult validate_net(const std::string& net) {
  return msqsim("validate '" MSQ_SOURCE_DIR
                "/configs/examples/default.yaml' --set workload.network='" +
                net + "'");
}
// Records the trace of conv -> maxpool -> conv (default design) in d/t and reads its manifest.
void record_pool_trace(const TempDir& d, std::string* dir, std::string* manifest) {
  const std::string net = write_net(d,
                                    "  - {name: c1, type: conv, out_channels: 8, kernel: 1}\n"
                                    "  - {name: pool, type: maxpool, kernel: 2, stride: 2}\n"
                                    "  - {name: c2, type: conv, out_channels: 4, kernel: 1}\n");
  *dir = d / "t";
  const CmdResult r =
      msqsim("trace record '" MSQ_SOURCE_DIR "/configs/examples/default.yaml' --out '" + *dir +
             "' --set workload.network='" + net + "'");
  ASSERT_EQ(r.code, 0) << r.out;
  std::ifstream m(*dir + "/trace.yaml");
  manifest->assign(std::istreambuf_iterator<char>(m), std::istreambuf_iterator<char>());
}
}  // namespace

TEST(GraphYaml, BadGraphsExitTwoNamingTheOp) {
  TempDir d;
  const std::string ok =
      "  - {name: c1, type: conv, out_channels: 8, kernel: 3, padding: 1}\n"
      "  - {name: c2, type: conv, out_channels: 8, kernel: 3, padding: 1}\n"
      "  - {name: sum, type: add, inputs: [c2, c1]}\n"
      "  - {name: pool, type: maxpool, kernel: 2, stride: 2}\n"
      "  - {name: gap, type: global_avgpool}\n"
      "  - {name: fc, type: fc, out_channels: 10}\n";
  CmdResult r = validate_net(write_net(d, ok));
  EXPECT_EQ(r.code, 0) << r.out;
  struct Bad {
    std::string layers, want;
  };
  const Bad bad[] = {
      {"  - {name: c1, type: conv, out_channels: 8, kernel: 3, stride: 2, padding: 1}\n"
       "  - {name: sum, type: add, inputs: [c1, input]}\n",
       "layers[1] (sum): inputs c1 [1, 8, 4, 4] and input [1, 8, 8, 8] differ in shape"},
      {"  - {name: c1, type: conv, out_channels: 8, kernel: 3, padding: 1}\n"
       "  - {name: sum, type: add, inputs: [c1, c9]}\n",
       "layers[1] (sum).inputs: reads c9, which no layer of the network produces"},
      {"  - {name: a, type: add, inputs: [input, b]}\n"
       "  - {name: b, type: add, inputs: [input, a]}\n",
       "the inputs form a cycle (a -> b -> a)"},
      {"  - {name: c1, type: conv, input: [8, 8, 4], out_channels: 8, kernel: 3, padding: 1}\n",
       "layers[0] (c1).input: expected [8, 8, 8]"},
      {"  - {name: p, type: maxpool, kernel: 2, stride: 2, groups: 2}\n",
       "layers[0].groups: unexpected for a maxpool"},
  };
  for (const Bad& b : bad) {
    r = validate_net(write_net(d, b.layers));
    EXPECT_EQ(r.code, 2) << b.layers << r.out;
    EXPECT_NE(r.out.find(b.want), std::string::npos) << b.layers << r.out;
    EXPECT_NE(r.out.find("net.yaml:"), std::string::npos) << r.out;  // names the file and line
  }
}

// A graph whose last conv feeds a pool or an add (a feature extractor, a residual tail) is valid:
// the last conv of the file used to keep raw accumulators and the graph check refused its reader.
TEST(GraphYaml, LastConvMayFeedAPoolOrAnAdd) {
  TempDir d;
  const char* tails[] = {
      "  - {name: c1, type: conv, out_channels: 8, kernel: 3, padding: 1}\n"
      "  - {name: p, type: maxpool, kernel: 2, stride: 2}\n",
      "  - {name: c1, type: conv, out_channels: 8, kernel: 3, padding: 1}\n"
      "  - {name: sum, type: add, inputs: [c1, c1]}\n",
  };
  for (const char* t : tails) {
    const std::string net = write_net(d, t);
    const CmdResult r =
        msqsim("run '" MSQ_SOURCE_DIR "/configs/examples/default.yaml' --set workload.network='" +
               net + "'");
    EXPECT_EQ(r.code, 0) << t << r.out;
    EXPECT_NE(r.out.find(" 0 mismatches"), std::string::npos) << t << r.out;
  }
}

TEST(GraphYaml, ShippedResnet18HasItsAddsAndPools) {
  WorkloadConfig w;
  w.network_path = MSQ_SOURCE_DIR "/configs/workloads/resnet18.yaml";
  const NetworkSpec s = load_network_spec(w);
  ASSERT_TRUE(s.graph);
  int adds = 0, maxpools = 0, gaps = 0, convs = 0;
  for (const Op& op : s.skeleton.ops) {
    adds += op.kind == OpKind::Add;
    maxpools += op.kind == OpKind::MaxPool;
    gaps += op.kind == OpKind::GlobalAvgPool;
    convs += op.kind == OpKind::Conv || op.kind == OpKind::Fc;
  }
  EXPECT_EQ(adds, 8);
  EXPECT_EQ(maxpools, 1);
  EXPECT_EQ(gaps, 1);
  EXPECT_EQ(convs, 21);
  // layer2.0.downsample reads the block input, not the conv before it.
  for (const Op& op : s.skeleton.ops) {
    if (op.name == "layer2.0.downsample") {
      EXPECT_EQ(s.skeleton.tensors[size_t(op.inputs[0])].name, "layer1.1.add");
    }
  }
}

// The default run: the graph verifies tensor by tensor and the report lists the ops.
TEST(GraphRun, DefaultResnet18VerifiesEveryTensorAndReportsTheOps) {
  TempDir d;
  const CmdResult r = msqsim("run '" MSQ_SOURCE_DIR "/configs/examples/default.yaml' --json '" +
                             d / "r.json" + "'");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("layer1.0.add"), std::string::npos);
  EXPECT_NE(r.out.find("vector engine"), std::string::npos);
  std::ifstream f(d / "r.json");
  const nlohmann::json j = nlohmann::json::parse(f);
  EXPECT_EQ(j["verify"]["mismatches"].get<int64_t>(), 0);
  int vec = 0;
  for (const auto& o : j["ops"]) {
    if (o["engine"] == "vector" && o["type"] != "flatten") {
      ++vec;
      EXPECT_GT(o["busy_cycles"].get<int64_t>(), 0) << o["name"];
      EXPECT_GT(o["dram_bytes"].get<int64_t>(), 0) << o["name"];
      EXPECT_GT(o["verify"]["checked"].get<int64_t>(), 0) << o["name"];
    }
  }
  EXPECT_EQ(vec, 10);  // 8 adds, max pool, global average pool
  EXPECT_EQ(j["layers"].size(), 21u);
  EXPECT_GT(j["graph"]["dram_tensor_peak_bytes"].get<int64_t>(), 0);
}

// A fault in an early layer flows on: the report names that op first, later tensors differ too.
TEST(GraphRun, EarlyFaultIsReportedAtItsOpFirst) {
  TempDir d;
  const CmdResult r =
      msq::testing::run_cmd("MSQSIM_FAULT=layer1.0.conv1:5:70 '" MSQSIM_EXE "' run '" MSQ_SOURCE_DIR
                            "/configs/examples/default.yaml' --json '" +
                            d / "r.json" + "'");
  EXPECT_EQ(r.code, 1) << r.out;
  // column 70 of a 56x56 output: y 1, x 14
  EXPECT_NE(r.out.find("first difference: op layer1.0.conv1 (conv) tensor layer1.0.conv1 at (b 0, "
                       "c 5, h 1, w 14)"),
            std::string::npos)
      << r.out;
  std::ifstream f(d / "r.json");
  const nlohmann::json j = nlohmann::json::parse(f);
  EXPECT_EQ(j["graph"]["first_mismatch_op"], "layer1.0.conv1");
  // The wrong value reached the next conv's outputs.
  for (const auto& o : j["ops"]) {
    if (o["name"] == "layer1.0.conv2") {
      EXPECT_GT(o["verify"]["mismatches"].get<int64_t>(), 0);
    }
  }
}

// The synthetic constants keep the chained activations alive through the whole network: the
// deepest tensors are neither all zero nor saturated (else a verified run would check little).
TEST(GraphRun, ChainedActivationsStaySpreadToTheLastLayer) {
  const RunConfig cfg = load_run_config(MSQ_SOURCE_DIR "/configs/examples/default.yaml", {});
  SessionOptions o;
  const Session s = run_session(cfg, o);
  ASSERT_TRUE(s.graph_run);
  EXPECT_EQ(s.mismatches, 0);
  for (const char* name : {"layer4.1.conv2", "layer4.1.add"}) {
    const OutTensor* t = nullptr;
    for (size_t i = 0; i < s.graph.ops.size(); ++i)
      if (s.graph.ops[i].name == name) {
        const Op& op = s.graph.ops[i];
        t = op.layer >= 0 ? &s.sim.layers[size_t(op.layer)].out : &s.sim.tensors[size_t(op.output)];
      }
    ASSERT_NE(t, nullptr) << name;
    size_t zeros = 0, top = 0;
    for (int64_t v : t->data) zeros += v == 0, top += v == 255;
    const double n = double(t->data.size());
    EXPECT_LT(double(zeros) / n, 0.8) << name;
    EXPECT_LT(double(top) / n, 0.3) << name;
    EXPECT_GT(double(zeros + top) / n, 0.0) << name;
    std::printf("%s: %.3f zeros, %.3f at the top code\n", name, double(zeros) / n, double(top) / n);
  }
}

// Graph traces (format 2): record, replay bit-exact, and a changed expected value of a non-GEMM op
// is reported at that op with its coordinates.
TEST(GraphTrace, RecordReplayAndCatchAChangedTensor) {
  TempDir d;
  const std::string dir = d / "t";
  CmdResult r =
      msqsim("trace record '" MSQ_SOURCE_DIR "/configs/examples/default.yaml' --out '" + dir + "'");
  ASSERT_EQ(r.code, 0) << r.out;
  std::ifstream m(dir + "/trace.yaml");
  const std::string manifest((std::istreambuf_iterator<char>(m)), std::istreambuf_iterator<char>());
  EXPECT_NE(manifest.find("format: msqsim-trace/2"), std::string::npos);
  EXPECT_NE(manifest.find("{name: layer1.0.add, type: add, inputs: [layer1.0.conv2, maxpool]"),
            std::string::npos);
  r = msqsim("regress '" + dir + "'");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("32 layers: 32 passed"), std::string::npos) << r.out;
  // The last value of layer1.0.add's expected output, [1, 64, 56, 56]: (b 0, c 63, h 55, w 55).
  {
    std::fstream f(dir + "/layer1.0.add/output.npy",
                   std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(-1, std::ios::end);
    char c = 0;
    f.get(c);
    f.seekp(-1, std::ios::end);
    f.put(char(c ^ 1));
  }
  r = msqsim("regress '" + dir + "'");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("FAIL layer1.0.add"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("op layer1.0.add at (b 0, c 63, h 55, w 55)"), std::string::npos) << r.out;
}

// regress --update on a graph trace moved each conv op's cycles into its layer by assigning the
// layer's YAML node to the op's, which made them one node: the manifest came out with the ops as
// aliases of the layers (`- *1`), and the next regress refused it (unknown key out_channels).
TEST(GraphTrace, UpdateKeepsTheManifestReadable) {
  TempDir d;
  std::string dir, manifest;
  ASSERT_NO_FATAL_FAILURE(record_pool_trace(d, &dir, &manifest));
  CmdResult r;
  for (size_t at = 0; (at = manifest.find("expected_cycles: ", at)) != std::string::npos;) {
    at += 17;
    manifest.replace(at, manifest.find_first_not_of("0123456789", at) - at, "1");
  }
  std::ofstream(dir + "/trace.yaml") << manifest;
  r = msqsim("regress '" + dir + "' --update");
  ASSERT_EQ(r.code, 0) << r.out;
  r = msqsim("regress '" + dir + "'");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("3 layers: 3 passed"), std::string::npos) << r.out;
  std::ifstream m(dir + "/trace.yaml");
  const std::string after((std::istreambuf_iterator<char>(m)), std::istreambuf_iterator<char>());
  EXPECT_EQ(after.find("*1"), std::string::npos) << after;
}

// The trace format lets an op leave out `inputs:`; it then reads the previous op (the first op, the
// network input). Such a manifest was refused with "expected a list of op names" (exit 2).
TEST(GraphTrace, OpWithoutInputsReadsThePreviousOp) {
  TempDir d;
  std::string dir, manifest;
  ASSERT_NO_FATAL_FAILURE(record_pool_trace(d, &dir, &manifest));
  CmdResult r;
  int removed = 0;
  for (size_t at = 0; (at = manifest.find("inputs: [", at)) != std::string::npos; ++removed)
    manifest.erase(at, manifest.find("], ", at) + 3 - at);
  ASSERT_EQ(removed, 3) << manifest;
  std::ofstream(dir + "/trace.yaml") << manifest;
  r = msqsim("regress '" + dir + "'");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("3 layers: 3 passed"), std::string::npos) << r.out;
  // An empty list is still a mistake, not the default.
  const size_t at = manifest.find("type: maxpool, ");
  ASSERT_NE(at, std::string::npos);
  manifest.insert(at + 15, "inputs: [], ");
  std::ofstream(dir + "/trace.yaml") << manifest;
  r = msqsim("regress '" + dir + "'");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("(pool).inputs: expected a list of op names"), std::string::npos) << r.out;
}

// A maxpool, concat or flatten moves codes without requantizing; a clamp given to one in a trace
// was silently ignored, so its author's expected outputs came back as mismatches (exit 1) rather
// than the manifest as wrong (exit 2). The full range, which trace record writes, stays valid.
TEST(GraphTrace, ClampOnAPassThroughOpIsRefused) {
  TempDir d;
  std::string dir, manifest;
  ASSERT_NO_FATAL_FAILURE(record_pool_trace(d, &dir, &manifest));
  CmdResult r;
  const size_t at = manifest.find("hi: 255", manifest.find("type: maxpool"));
  ASSERT_NE(at, std::string::npos) << manifest;
  r = msqsim("regress '" + dir + "'");
  ASSERT_EQ(r.code, 0) << r.out;
  manifest.replace(at, 7, "hi: 100");
  std::ofstream(dir + "/trace.yaml") << manifest;
  r = msqsim("regress '" + dir + "'");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("ops[1] (pool).hi: a maxpool passes its input codes through and takes no "
                       "clamp: expected 255"),
            std::string::npos)
      << r.out;
}
