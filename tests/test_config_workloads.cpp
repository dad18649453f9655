// Network files: the shipped ImageNet networks, SCALE-Sim CSV topologies, their errors, and the
// docs/config.md key tables that the schema generates.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "models/error.h"
#include "sim/config_loader.h"

namespace fs = std::filesystem;

namespace {

std::string temp_dir() {
  std::string tmpl = (fs::temp_directory_path() / "msq_net_XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

std::vector<msq::LayerShape> shipped(const std::string& name, int batch = 1) {
  msq::WorkloadConfig w;
  w.network = name;
  w.batch = batch;
  return msq::load_network(w);
}

int64_t total_macs(const std::vector<msq::LayerShape>& layers) {
  int64_t m = 0;
  for (const auto& l : layers) m += l.macs();
  return m;
}

const msq::LayerShape& layer(const std::vector<msq::LayerShape>& ls, const std::string& name) {
  for (const auto& l : ls)
    if (l.name == name) return l;
  throw std::runtime_error("no layer " + name);
}

// The InputError message of loading network file `text` (named `name`), "" when it loads.
std::string network_error(const std::string& name, const std::string& text) {
  const std::string dir = temp_dir();
  const std::string p = dir + "/" + name;
  std::ofstream(p) << text;
  msq::WorkloadConfig w;
  w.network_path = p;
  std::string e;
  try {
    msq::load_network(w);
  } catch (const msq::InputError& x) {
    e = x.what();
    e.replace(0, dir.size() + 1, "");  // keep only the file name, so cases can spell it
  }
  fs::remove_all(dir);
  return e;
}

}  // namespace

TEST(Workloads, ImageNetNetworksHaveTheirPublishedSize) {
  struct Net {
    const char* name;
    size_t layers;
    double gmac;
  };
  // Published per-image MACs at 224x224: ResNet-18 1.8 G, ResNet-50 4.1 G, MobileNet-v2 0.3 G,
  // VGG-16 15.5 G. Layer counts: every conv (downsample convs included) and fc.
  const Net nets[] = {
      {"resnet18", 21, 1.8}, {"resnet50", 54, 4.1}, {"mobilenet_v2", 53, 0.3}, {"vgg16", 16, 15.5}};
  for (const auto& n : nets) {
    const auto ls = shipped(n.name);
    EXPECT_EQ(ls.size(), n.layers) << n.name;
    EXPECT_NEAR(total_macs(ls) / 1e9, n.gmac, 0.05 * n.gmac) << n.name;
  }
}

TEST(Workloads, LayerShapesFollowTheNetworks) {
  const auto r18 = shipped("resnet18");
  const auto& conv1 = layer(r18, "conv1");
  EXPECT_EQ(conv1.out_h(), 112);
  EXPECT_EQ(conv1.k(), 3 * 7 * 7);
  const auto& ds = layer(r18, "layer4.0.downsample");
  EXPECT_EQ(ds.in_c, 256);
  EXPECT_EQ(ds.out_c, 512);
  EXPECT_EQ(ds.out_h(), 7);
  const auto& fc = layer(r18, "fc");
  EXPECT_EQ(fc.type, msq::LayerType::Fc);
  EXPECT_EQ(fc.k(), 512);
  EXPECT_EQ(fc.n(), 1);
  const auto mb = shipped("mobilenet_v2");
  const auto& dw = layer(mb, "features.2.dw");
  EXPECT_EQ(dw.groups, 96);
  EXPECT_EQ(dw.k(), 9);
  EXPECT_EQ(dw.out_h(), 56);
  EXPECT_EQ(layer(shipped("vgg16"), "fc6").k(), 512 * 7 * 7);
  // A layer's output feeds the next in the plain chain of VGG-16 (pooling halves between blocks).
  const auto vgg = shipped("vgg16");
  for (size_t i = 0; i + 1 < vgg.size() && vgg[i + 1].type == msq::LayerType::Conv; ++i) {
    EXPECT_EQ(vgg[i].out_c, vgg[i + 1].in_c) << vgg[i].name;
    const int h = vgg[i].out_h();
    EXPECT_TRUE(vgg[i + 1].in_h == h || vgg[i + 1].in_h == h / 2) << vgg[i].name;
  }
}

TEST(Workloads, BatchAndLayerSelection) {
  const auto one = shipped("resnet18", 1);
  const auto four = shipped("resnet18", 4);
  EXPECT_EQ(total_macs(four), 4 * total_macs(one));
  EXPECT_EQ(four[0].n(), 4 * 112 * 112);
  msq::WorkloadConfig w;
  w.network = "resnet18";
  w.layers = {"fc", "conv1"};
  const auto sel = msq::load_network(w);
  ASSERT_EQ(sel.size(), 2u);
  EXPECT_EQ(sel[0].name, "conv1");  // network order, not list order
  EXPECT_EQ(sel[1].name, "fc");
}

TEST(Workloads, ScaleSimExampleReadsAsIs) {
  const auto ls = shipped(msq::configs_dir() + "/workloads/scalesim_example.csv");
  ASSERT_EQ(ls.size(), 4u);
  const auto& c1 = ls[0];
  EXPECT_EQ(c1.name, "Conv1");
  EXPECT_EQ(c1.in_h, 224);
  EXPECT_EQ(c1.kh, 11);
  EXPECT_EQ(c1.in_c, 3);
  EXPECT_EQ(c1.out_c, 96);
  EXPECT_EQ(c1.sh, 4);
  EXPECT_EQ(c1.ph, 0);        // SCALE-Sim has no padding
  EXPECT_EQ(c1.out_h(), 54);  // (224 - 11) / 4 + 1
  EXPECT_EQ(c1.macs(), int64_t(96) * 3 * 11 * 11 * 54 * 54);
  EXPECT_EQ(ls[3].k(), 4096);
  EXPECT_EQ(ls[3].n(), 1);
}

TEST(Workloads, ScaleSimErrorsNameTheLine) {
  const std::string head =
      "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num "
      "Filter, Strides,\n";
  EXPECT_EQ(network_error("n.csv", head + "c1, 8, 8, 3, 3, 4, 16, 1\n"), "");  // no trailing comma
  EXPECT_EQ(network_error("n.csv", head + "c1, 8, 8, 3, x, 4, 16, 1,\n"),
            "n.csv:2: c1.Filter Width: expected an integer in 1..1048576 (got x)");
  EXPECT_EQ(network_error("n.csv", head + "\nc1, 8, 8, 3, 3, 4, 16,\n"),
            "n.csv:3: expected 8 comma-separated columns (Layer name, IFMAP Height, IFMAP Width, "
            "Filter Height, Filter Width, Channels, Num Filter, Strides) (got 7)");
  EXPECT_EQ(network_error("n.csv", head + "c1, 2, 2, 3, 3, 4, 16, 1,\n"),
            "n.csv:2: c1: expected the kernel to fit the padded input (got kernel 3x3 on 2x2 "
            "with padding 0x0)");
  EXPECT_EQ(network_error("n.csv", "name,h,w\n").rfind("n.csv:1: expected a SCALE-Sim header", 0),
            0u);
}

// SCALE-Sim's GEMM topology (`Layer, M, N, K`): an M x K input times a K x N weight matrix, run
// as SCALE-Sim runs it, N filters over M output positions.
TEST(Workloads, ScaleSimGemmTopologyReads) {
  const std::string dir = temp_dir();
  std::ofstream(dir + "/g.csv") << "Layer, M, N, K,\nQKT, 1024, 1024, 64,\n\nFF1,512,2048,768\n";
  msq::WorkloadConfig w;
  w.network_path = dir + "/g.csv";
  w.batch = 2;
  const auto ls = msq::load_network(w);
  fs::remove_all(dir);
  ASSERT_EQ(ls.size(), 2u);
  EXPECT_EQ(ls[0].name, "QKT");
  EXPECT_EQ(ls[1].name, "FF1");
  EXPECT_EQ(ls[1].m(), 2048);     // SCALE-Sim's N: the weight rows
  EXPECT_EQ(ls[1].k(), 768);      // K: the reduction
  EXPECT_EQ(ls[1].n(), 2 * 512);  // SCALE-Sim's M, per image
  EXPECT_EQ(ls[1].macs(), int64_t(2) * 512 * 2048 * 768);
  EXPECT_EQ(ls[1].out_h() * ls[1].out_w(), 512);
}

TEST(Workloads, ScaleSimGemmErrorsNameTheLine) {
  const std::string head = "Layer, M, N, K\n";
  EXPECT_EQ(network_error("g.csv", head + "a, 4, 4, 0\n"),
            "g.csv:2: a.K: expected an integer in 1..1048576 (got 0)");
  EXPECT_EQ(network_error("g.csv", head + "a, 4, 4\n"),
            "g.csv:2: expected 4 comma-separated columns (Layer, M, N, K) (got 3)");
  EXPECT_EQ(network_error("g.csv", head + "a, 4, 4, 4\na, 1, 1, 1\n"),
            "g.csv:3: Layer: expected a unique layer name (got a again)");
  EXPECT_EQ(network_error("g.csv", head), "g.csv: expected at least one layer (got none)");
}

// A layer the simulator's 64-bit counts cannot hold is refused where it is read, with its name,
// before `validate` can sum its MACs into a wrapped total.
TEST(Workloads, LayersTooLargeToCountAreRefused) {
  const std::string head = "name: n\nlayers:\n";
  EXPECT_EQ(network_error("n.yaml", head + "  - {name: a, type: fc, input: 8, out_channels: 2}\n"
                                           "  - {name: big, type: conv, input: [1048576, 1048576, "
                                           "1048576], out_channels: 1048576, kernel: 1}\n"),
            "n.yaml:4: layers[1] (big): expected at most 2^40 input values (got "
            "1152921504606846976 at batch 1); the simulator cannot count that high");
  // Every tensor just fits (2^40 values each), the MACs (2^60) do not.
  EXPECT_EQ(network_error("g.csv", "Layer, M, N, K\nx, 1048576, 1048576, 1048576\n"),
            "g.csv:2: x: expected at most 2^50 multiply-accumulates (got 1152921504606846976 at "
            "batch 1); the simulator cannot count that high");
}

TEST(Workloads, NetworkYamlErrorsNameTheLayerKey) {
  const std::string head = "name: n\nlayers:\n";
  EXPECT_EQ(network_error("n.yaml", head + "  - {name: a, type: fc, input: 8, out_channels: 2}\n"),
            "");
  EXPECT_EQ(network_error("n.yaml", head + "  - {name: a, type: conv, input: [8, 4, 4], "
                                           "out_channels: 2}\n"),
            "n.yaml:3: layers[0].kernel: missing");
  EXPECT_EQ(network_error("n.yaml", head + "  - {name: a, type: conv, input: [8, 4, 4], "
                                           "out_channels: 2, kernal: 3}\n"),
            "n.yaml:3: layers[0].kernal: unknown key, expected one of name, type, input, inputs, "
            "out_channels, kernel, stride, padding, groups (did you mean 'kernel'?)");
  EXPECT_EQ(network_error("n.yaml", head + "  - {name: a, type: fc, input: 8, out_channels: 2}\n"
                                           "  - {name: b, type: conv, input: [6, 4, 4], "
                                           "out_channels: 4, kernel: 3, groups: 4}\n"),
            "n.yaml:4: layers[1]: expected groups to divide the input and output channels (got "
            "groups 4 for 6 -> 4 channels)");
  EXPECT_EQ(
      network_error("n.yaml", head + "  - {name: a, type: pool, input: 8, out_channels: 2}\n"),
      "n.yaml:3: layers[0].type: expected one of conv, fc, add, maxpool, avgpool, "
      "global_avgpool, concat, flatten (got pool)");
  EXPECT_EQ(network_error("n.yaml", head + "  - {name: a, type: fc, input: 8, out_channels: 2, "
                                           "kernel: 1}\n"),
            "n.yaml:3: layers[0].kernel: unexpected for an fc layer (fc has input and "
            "out_channels)");
  EXPECT_EQ(
      network_error("n.yaml", "name: n\nlayer: []\n"),
      "n.yaml:2: layer: unknown key, expected one of name, source, input, layers (did you mean "
      "'layers'?)");
}

// docs/config.md holds the key tables generated from the schema between two markers. Rewrite
// them with: MSQ_UPDATE_DOCS=1 build/msqsim_tests --gtest_filter=ConfigDocs.*
TEST(ConfigDocs, KeyTablesMatchTheSchema) {
  const std::string path = std::string(MSQ_SOURCE_DIR) + "/docs/config.md";
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  std::string doc = ss.str();
  const std::string begin = "<!-- BEGIN GENERATED KEY TABLES -->\n";
  const std::string end = "<!-- END GENERATED KEY TABLES -->";
  const size_t b = doc.find(begin), e = doc.find(end);
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(e, std::string::npos);
  const std::string want = msq::config_reference_markdown();
  if (std::getenv("MSQ_UPDATE_DOCS")) {
    doc.replace(b + begin.size(), e - b - begin.size(), want);
    std::ofstream(path) << doc;
    return;
  }
  EXPECT_EQ(doc.substr(b + begin.size(), e - b - begin.size()), want)
      << "docs/config.md is stale: MSQ_UPDATE_DOCS=1 build/msqsim_tests "
         "--gtest_filter=ConfigDocs.*";
}
