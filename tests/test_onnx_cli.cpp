// `msqsim run` on ONNX networks: calibration, scheme mix options, --eval, and bad models.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <random>

#include "sim/config_loader.h"
#include "sim/npy.h"
#include "tests/support/cli_fixture.h"
#include "tests/support/onnx_builder.h"

namespace msq {
namespace {

// A float32 .npy written by hand (the project's writer is for integer traces).
void write_f32_npy(const std::string& path, const std::vector<int64_t>& shape,
                   const std::vector<float>& v) {
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  for (int64_t d : shape) dict += std::to_string(d) + ", ";
  dict += "), }";
  while ((10 + dict.size() + 1) % 64) dict += ' ';
  dict += '\n';
  std::ofstream f(path, std::ios::binary);
  f.write("\x93NUMPY\x01\x00", 8);
  const uint16_t len = uint16_t(dict.size());
  f.put(char(len & 0xff)).put(char(len >> 8));
  f << dict;
  f.write(reinterpret_cast<const char*>(v.data()), std::streamsize(v.size() * 4));
}

std::vector<float> images(int n, int c, int hw, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.f, 1.f);
  std::vector<float> v(size_t(n) * c * hw * hw);
  for (float& x : v) x = nd(rng);
  return v;
}

class OnnxRun : public testing::CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    testing::small_resnet().save(path("m.onnx"));
    write_f32_npy(path("cal.npy"), {4, 3, 16, 16}, images(4, 3, 16, 1));
    write_f32_npy(path("eval.npy"), {6, 3, 16, 16}, images(6, 3, 16, 2));
  }
  std::string config(const std::string& workload_extra) {
    return write("c.yaml", "workload:\n  network: m.onnx\n  sp2_fraction: 0.5\n" + workload_extra);
  }
};

TEST_F(OnnxRun, CalibratedRunReportsLayersQuantizationErrorAndAccuracy) {
  config("  calibration: cal.npy\n");
  const auto r = run("run c.yaml --eval eval.npy --json r.json");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("calibration: 4 images from"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("verify: "), std::string::npos);
  EXPECT_NE(r.out.find(", 0 mismatches"), std::string::npos);
  EXPECT_EQ(r.err.find("synthetic"), std::string::npos) << r.err;
  const auto j = read_json("r.json");
  // The model's own layers, in graph order.
  std::vector<std::string> names;
  for (const auto& l : j["layers"]) names.push_back(l["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"conv1", "l1.conv1", "l1.conv2", "l2.conv1",
                                             "l2.conv2", "l2.down", "fc"}));
  EXPECT_EQ(j["calibration"]["images"], 4);
  EXPECT_FALSE(j["calibration"]["synthetic"].get<bool>());
  ASSERT_EQ(j["quantization"]["layers"].size(), 7u);
  for (const auto& l : j["quantization"]["layers"]) {
    EXPECT_GT(l["rel_err_fixed"].get<double>(), 0);
    EXPECT_GE(l["rel_err_mix"].get<double>(), 0);
  }
  const auto& acc = j["accuracy"];
  EXPECT_EQ(acc["images"], 6);
  EXPECT_GT(acc["cosine_mean"].get<double>(), 0.95);
  EXPECT_TRUE(acc["top1_agreement"].is_number());
  // The run's mix and the two extremes.
  ASSERT_EQ(acc["mixes"].size(), 3u);
  EXPECT_EQ(acc["mixes"][1]["sp2_fraction"], 0.0);
  EXPECT_EQ(acc["mixes"][2]["sp2_fraction"], 1.0);
}

TEST_F(OnnxRun, WithoutCalibrationTheRangesAreSaidToBeSynthetic) {
  config("");
  const auto r = run("run c.yaml --json r.json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("no workload.calibration: the activation ranges are synthetic"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find("activation ranges are synthetic"), std::string::npos);
  EXPECT_TRUE(read_json("r.json")["calibration"]["synthetic"].get<bool>());
}

TEST_F(OnnxRun, PerLayerFractionsAndAutoMode) {
  config("  sp2_fraction_per_layer: {conv1: 0.0, fc: 1.0}\n");
  auto r = run("run c.yaml --no-verify --json r.json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = read_json("r.json");
  EXPECT_EQ(j["layers"][0]["sp2_rows"], 0);
  EXPECT_EQ(j["layers"][6]["fixed_rows"], 0);
  EXPECT_EQ(j["layers"][1]["sp2_rows"], 4);  // 8 rows at the global 0.5
  config("  sp2_auto: true\n  sp2_auto_min: 0.25\n  sp2_auto_max: 0.5\n");
  r = run("run c.yaml --no-verify --json r.json");
  ASSERT_EQ(r.code, 0) << r.err;
  j = read_json("r.json");
  for (const auto& l : j["quantization"]["layers"]) {
    EXPECT_GE(l["sp2_fraction"].get<double>(), 0.25);
    EXPECT_LE(l["sp2_fraction"].get<double>(), 0.5);
  }
  config("  sp2_fraction_per_layer: {conv9: 0.0}\n");
  expect_input_error("validate c.yaml", "msqsim: ");
  EXPECT_NE(run("validate c.yaml")
                .err.find("workload.sp2_fraction_per_layer.conv9: expected a "
                          "Conv or Gemm layer"),
            std::string::npos);
}

TEST_F(OnnxRun, BadModelsAndBadImagesExitTwoNamingTheCulprit) {
  config("");
  const std::string good = read(path("m.onnx"));
  std::ofstream(path("m.onnx"), std::ios::binary) << good.substr(0, good.size() / 3);
  expect_input_error("run c.yaml", "msqsim: ");
  EXPECT_NE(run("run c.yaml").err.find("m.onnx: not an ONNX model"), std::string::npos);

  testing::OnnxBuilder b(3, 16, 16);
  b.conv("c1", "x", "a", 3, 4, 3, 1, 1);
  b.node("Sigmoid", {"a"}, {"y"}, "gate");
  b.output("y");
  b.save(path("m.onnx"));
  expect_input_error("validate c.yaml", "msqsim: ");
  EXPECT_NE(run("validate c.yaml")
                .err.find("node 'gate' (Sigmoid): operator Sigmoid is not "
                          "supported"),
            std::string::npos);

  testing::small_resnet().save(path("m.onnx"));
  write_f32_npy(path("bad.npy"), {2, 3, 8, 8}, images(2, 3, 8, 3));
  config("  calibration: bad.npy\n");
  expect_input_error("run c.yaml", "msqsim: ");
  EXPECT_NE(
      run("run c.yaml").err.find("workload.calibration: expected float images [N, 3, 16, 16]"),
      std::string::npos);
  config("");
  EXPECT_NE(run("run c.yaml --eval bad.npy").err.find("--eval: expected float images"),
            std::string::npos);
  config("  calibration: nothere.npy\n");
  expect_input_error("validate c.yaml", "msqsim: ");
}

// The operators' meaning depends on the model's opset: one outside the range the importer
// follows (or none declared) is refused naming the opset, not imported under other rules. A model
// of opset 30, or with no opset_import at all, ran.
TEST_F(OnnxRun, AnOpsetOutsideTheSupportedRangeIsRefused) {
  config("");
  const auto one_conv = [&](int opset) {
    testing::OnnxBuilder b(3, 16, 16, opset);
    b.conv("c1", "x", "y", 3, 4, 3, 1, 1);
    b.output("y");
    return b;
  };
  for (int opset : {6, 23, 30}) {
    one_conv(opset).save(path("m.onnx"));
    expect_input_error("validate c.yaml",
                       "msqsim: " + path("m.onnx") + ": opset_import: opset " +
                           std::to_string(opset) +
                           " of the default domain is not supported; expected 7..22");
  }
  testing::OnnxBuilder none = one_conv(13);
  none.model().clear_opset_import();
  none.save(path("m.onnx"));
  expect_input_error("validate c.yaml", "msqsim: " + path("m.onnx") +
                                            ": opset_import declares no opset of the default "
                                            "domain ('' or 'ai.onnx'); expected one of 7..22");
  // The ends of the range import.
  for (int opset : {7, 22}) {
    one_conv(opset).save(path("m.onnx"));
    const testing::Result r = run("validate c.yaml");
    EXPECT_EQ(r.code, 0) << opset << ": " << r.err;
  }
  // Opsets 7 and 8: a BatchNormalization with spatial = 0 normalizes per element.
  testing::OnnxBuilder b(3, 16, 16, 8);
  b.conv("c1", "x", "a", 3, 4, 3, 1, 1);
  testing::OnnxBuilder::i(b.bn("bn", "a", "y", 4), "spatial", 0);
  b.output("y");
  b.save(path("m.onnx"));
  expect_input_error("validate c.yaml", "msqsim: " + path("m.onnx") +
                                            ": node 'bn' (BatchNormalization): attribute spatial "
                                            "= 0 is not supported");
}

// Finite images whose values overflow float32 inside the network: the accuracy lines said
// "cosine nan" and exited 0. Now exit 2 naming the file and the image, and no report.
TEST_F(OnnxRun, EvalImagesThatOverflowTheFloatNetworkAreRefused) {
  config("  calibration: cal.npy\n");
  write_f32_npy(path("huge.npy"), {2, 3, 16, 16}, std::vector<float>(2 * 3 * 16 * 16, 3e38f));
  expect_input_error("run c.yaml --no-verify --eval huge.npy --json r.json",
                     "msqsim: huge.npy: --eval: image 0: the float network's output is not "
                     "finite");
  EXPECT_FALSE(std::filesystem::exists(path("r.json")));
}

TEST_F(OnnxRun, ConfigWithOnnxKeysSurvivesTheYamlRoundTrip) {
  // Sweep workers and traces carry the resolved config as YAML.
  config(
      "  calibration: cal.npy\n  sp2_fraction_per_layer: {conv1: 0.25}\n  sp2_auto: true\n"
      "  sp2_auto_max: 0.75\n");
  const RunConfig a = load_run_config(path("c.yaml"), {});
  const RunConfig b = load_run_config_node(config_to_yaml(a), "copy", "/", {});
  EXPECT_EQ(b.workload.calibration_path, a.workload.calibration_path);
  EXPECT_EQ(b.workload.sp2_fraction_per_layer, (std::map<std::string, double>{{"conv1", 0.25}}));
  EXPECT_TRUE(b.workload.sp2_auto);
  EXPECT_EQ(b.workload.sp2_auto_max, 0.75);
  // Relative paths come back absolute; everything else as it was.
  auto ja = config_to_json(a)["workload"], jb = config_to_json(b)["workload"];
  for (const char* k : {"network", "calibration"}) {
    ja.erase(k);
    jb.erase(k);
  }
  EXPECT_EQ(ja, jb);
}

TEST_F(OnnxRun, EvalLabelsGiveEachNetworksAccuracy) {
  config("  calibration: cal.npy\n");
  const std::vector<int64_t> labels{0, 1, 2, 3, 4, 9};
  write_npy(path("labels.npy"), "<i8", {6}, labels.data(), labels.size() * 8);
  auto r = run("run c.yaml --no-verify --eval eval.npy --eval-labels labels.npy --json r.json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto a = read_json("r.json")["accuracy"];
  EXPECT_TRUE(a["top1_float"].is_number());
  EXPECT_TRUE(a["top1_int"].is_number());
  EXPECT_NE(r.out.find("against the labels: float"), std::string::npos);
  // Labels for 5 images, a label outside the 10 classes, labels without images.
  write_npy(path("five.npy"), "<i8", {5}, labels.data(), 5 * 8);
  expect_input_error("run c.yaml --eval eval.npy --eval-labels five.npy", "msqsim: ");
  const std::vector<int64_t> bad{0, 1, 2, 3, 4, 10};
  write_npy(path("bad.npy"), "<i8", {6}, bad.data(), bad.size() * 8);
  EXPECT_NE(run("run c.yaml --eval eval.npy --eval-labels bad.npy")
                .err.find("--eval-labels: label 10 of image 5 is not a class"),
            std::string::npos);
  EXPECT_EQ(run("run c.yaml --eval-labels labels.npy").code, 2);
  // The right count in the wrong shape: the message said "shape [6] (got 6 values)".
  write_npy(path("col.npy"), "<i8", {6, 1}, labels.data(), labels.size() * 8);
  EXPECT_NE(run("run c.yaml --eval eval.npy --eval-labels col.npy")
                .err.find("--eval-labels: expected one integer label per image: shape [6] (got "
                          "shape [6, 1])"),
            std::string::npos);
}

// The config can name the images and labels to compare on, so that the plain `run` of an
// example reports the float agreement; --eval on the command line wins over them.
TEST_F(OnnxRun, EvalImagesFromTheConfig) {
  config("  calibration: cal.npy\n  eval_images: eval.npy\n  eval_labels: labels.npy\n");
  const std::vector<int64_t> labels{0, 1, 2, 3, 4, 9};
  write_npy(path("labels.npy"), "<i8", {6}, labels.data(), labels.size() * 8);
  auto r = run("run c.yaml --no-verify --json r.json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("accuracy (sp2_fraction 0.5): 6 images"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("against the labels: float"), std::string::npos) << r.out;
  EXPECT_TRUE(read_json("r.json")["accuracy"]["top1_float"].is_number());
  // --eval wins, and its images go without the config's labels.
  write_f32_npy(path("three.npy"), {3, 3, 16, 16}, images(3, 3, 16, 3));
  r = run("run c.yaml --no-verify --eval three.npy");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("accuracy (sp2_fraction 0.5): 3 images"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("against the labels"), std::string::npos) << r.out;
  // A missing file, labels without images: one line naming the config's line and key.
  config("  eval_images: nothere.npy\n");
  r = run("validate c.yaml");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(
      r.err.rfind("msqsim: c.yaml:4: workload.eval_images: expected an existing .npy file", 0), 0u)
      << r.err;
  config("  eval_labels: labels.npy\n");
  r = run("validate c.yaml");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("c.yaml:4: workload.eval_labels: expected workload.eval_images too"),
            std::string::npos)
      << r.err;
  write("y.yaml", "workload:\n  network: resnet18\n  eval_images: eval.npy\n");
  r = run("validate y.yaml");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("y.yaml:3: workload.eval_images: applies to ONNX networks only"),
            std::string::npos)
      << r.err;
}

TEST_F(OnnxRun, OnnxOnlyOptionsAreRefusedForOtherNetworks) {
  write("y.yaml", "workload:\n  network: resnet18\n  sp2_auto: true\n");
  expect_input_error("validate y.yaml", "msqsim: ");
  EXPECT_NE(run("validate y.yaml").err.find("workload.sp2_auto: applies to ONNX networks only"),
            std::string::npos);
  // The config is named once ("y.yaml: y.yaml: workload.sp2_auto" named it twice), with the line.
  EXPECT_EQ(run("validate y.yaml").err.rfind("msqsim: y.yaml:3: workload.sp2_auto: applies", 0), 0u)
      << run("validate y.yaml").err;
  write("z.yaml", "workload:\n  network: resnet18\n  layers: [fc]\n");
  expect_input_error("run z.yaml --eval eval.npy", "msqsim: ");
}

}  // namespace
// A trace of independent layers (a selection of layers) has no zero points or clamps: the digits
// network's first conv (input zero point 128) was recorded anyway, and regress then failed on the
// trace just written. The whole network records as a graph, which holds them, and replays.
TEST_F(OnnxRun, TraceRecordRefusesLayersFormatOneCannotHold) {
  const std::string cfg = "'" MSQ_SOURCE_DIR "/configs/examples/digits_resnet.yaml'";
  testing::Result r = run("trace record " + cfg + " --out t --set 'workload.layers=[conv1]'");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("workload.network: layer 'conv1' has input zero point 128"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(path("t")));
  r = run("trace record " + cfg + " --out g");
  ASSERT_EQ(r.code, 0) << r.err;
  r = run("regress g");
  EXPECT_EQ(r.code, 0) << r.out << r.err;
}

}  // namespace msq
