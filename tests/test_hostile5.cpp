// Bad input, fifth round: each case was accepted silently, named no line or no key, or blamed the
// wrong thing. Each is now exit 2 with one message naming the file, the line where there is one,
// the key and what was expected.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "tests/support/bad_input_fixture.h"

using msq::testing::BadInputTest;
using msq::testing::Result;

namespace fs = std::filesystem;

namespace {

const std::string kOnnx = MSQ_SOURCE_DIR "/configs/models/digits_resnet.onnx";
const std::string kCalibration = MSQ_SOURCE_DIR "/configs/models/digits_calibration.npy";
const std::string kTool = "/usr/bin/python3 '" MSQ_SOURCE_DIR "/tools/msd_compare.py'";

class Hostile5 : public BadInputTest {
 protected:
  // The trained digits network: a whole ONNX run in well under a second.
  std::string onnx_config() {
    return write("d.yaml", "device: xc7z045\nclock_mhz: 200\nworkload:\n  network: " + kOnnx +
                               "\n  calibration: " + kCalibration + "\n");
  }
  // A .npy file: `descr` (e.g. "<f4"), the shape, the raw data.
  std::string npy(const std::string& name, const std::string& descr,
                  const std::vector<int64_t>& shape, const std::string& data) {
    std::string dims;  // as numpy writes it: (5,) and (5, 1, 8, 8)
    for (size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
    if (shape.size() == 1) dims += ",";
    std::string h = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
    h += std::string(63 - (10 + h.size()) % 64, ' ') + "\n";
    std::string file = std::string("\x93NUMPY\x01\x00", 8);
    file += char(h.size() & 0xff);
    file += char(h.size() >> 8);
    return write(name, file + h + data);
  }
  template <class T>
  static std::string bytes(const std::vector<T>& v) {
    std::string s(v.size() * sizeof(T), '\0');
    std::memcpy(s.data(), v.data(), s.size());
    return s;
  }
  // Exit 2 and one line on stderr that holds `part`, and not an internal error.
  void expect_line_with(const Result& r, const std::string& part, const std::string& what) {
    BadInputTest::expect_line_with(r, part, what);
    EXPECT_EQ(r.err.find("internal error"), std::string::npos) << what << ": " << r.err;
  }
};

// tile_cols on a fully connected layer (one output pixel; tile_rows counts batch elements there)
// was accepted and ignored.
TEST_F(Hostile5, TileColsOnAFullyConnectedLayerIsRefusedAtItsLine) {
  small_config();
  write("m.csv", "layer,tile_m,k_channels,tile_rows,tile_cols\nfc,100,,1,4\n");
  for (const char* cmd : {"validate c.yaml", "run c.yaml --no-verify"})
    expect_line_with(run(cmd + given("m.csv")),
                     "m.csv:2: tile_cols: layer fc: the layer has one output pixel (a fully "
                     "connected layer: tile_rows counts batch elements); expected an empty "
                     "tile_cols (got 4)",
                     cmd);
  // Empty, as the format allows: the plan runs.
  write("m.csv", "layer,tile_m,k_channels,tile_rows,tile_cols\nfc,100,,1,\n");
  const Result ok = run("validate c.yaml" + given("m.csv"));
  EXPECT_EQ(ok.code, 0) << ok.err;
}

// The keys of an imported network given with a network of synthetic weights: calibration and
// sp2_auto named the config but no line (the check ran when the network was built); sp2_auto_min
// and sp2_auto_max were accepted and ignored.
TEST_F(Hostile5, OnnxOnlyKeysOnAnotherNetworkNameTheirLine) {
  write("cal.npy", "not read: the key is refused first");
  for (const std::string& kv :
       {std::string("calibration: cal.npy"), std::string("sp2_auto: true"),
        std::string("sp2_auto_min: 0.25"), std::string("sp2_auto_max: 0.5")}) {
    write("y.yaml", "device: xc7z045\nworkload:\n  network: resnet18\n  batch: 1\n  " + kv + "\n");
    const std::string key = "workload." + kv.substr(0, kv.find(':'));
    expect_line_with(
        run("validate y.yaml"),
        "y.yaml:5: " + key + ": applies to ONNX networks only (workload.network: " + "MODEL.onnx)",
        kv);
  }
  // A config msqsim wrote holds every key at its default: not refused.
  write("y.yaml",
        "device: xc7z045\nworkload:\n  network: resnet18\n  calibration: ''\n  sp2_auto: false\n"
        "  sp2_auto_min: 0\n  sp2_auto_max: 1\n");
  const Result ok = run("validate y.yaml");
  EXPECT_EQ(ok.code, 0) << ok.err;
}

// A broken eval or calibration .npy named the file but not the key that named it; a float64
// value beyond float32's range entered the network as infinity; a directory was "no file".
TEST_F(Hostile5, EvalAndCalibrationFileProblemsNameTheirKey) {
  onnx_config();
  const std::vector<float> ok(5 * 64, 0.5f);
  npy("img.npy", "<f4", {5, 1, 8, 8}, bytes(ok));
  std::vector<float> nan = ok;
  nan[3] = std::numeric_limits<float>::quiet_NaN();
  npy("nan.npy", "<f4", {5, 1, 8, 8}, bytes(nan));
  npy("short.npy", "<f4", {5, 1, 8, 8}, bytes(std::vector<float>(10, 0.5f)));
  std::vector<double> wide(5 * 64, 0.5);
  wide[7] = 1e300;
  npy("wide.npy", "<f8", {5, 1, 8, 8}, bytes(wide));
  npy("labf.npy", "<f4", {5}, bytes(std::vector<float>{1, 2, 3, 4, 5}));
  npy("labshort.npy", "<i8", {5}, bytes(std::vector<int64_t>{1, 2}));
  fs::create_directory(path("dir.npy"));
  struct Case {
    std::string sets, want;
  };
  for (const Case& c : std::vector<Case>{
           {"workload.eval_images=nan.npy",
            "nan.npy: workload.eval_images: value at flat index 3 is not finite"},
           {"workload.eval_images=short.npy",
            "short.npy: workload.eval_images: truncated data: shape [5, 1, 8, 8] of <f4 needs "
            "1280 bytes, the file has 40"},
           {"workload.eval_images=wide.npy",
            "wide.npy: workload.eval_images: value 1e+300 at flat index 7 is beyond the float32 "
            "range"},
           {"workload.calibration=nan.npy",
            "nan.npy: workload.calibration: value at flat index 3 is not finite"},
           {"workload.eval_images=img.npy --set workload.eval_labels=labf.npy",
            "labf.npy: workload.eval_labels: dtype '<f4' is not supported; expected an integer "
            "type"},
           {"workload.eval_images=img.npy --set workload.eval_labels=labshort.npy",
            "labshort.npy: workload.eval_labels: truncated data"},
       })
    expect_line_with(run("run d.yaml --no-verify --set " + c.sets), c.want, c.sets);
  expect_line_with(run("validate d.yaml --set workload.eval_images=dir.npy"),
                   "workload.eval_images: expected an existing .npy file of float32 images [N, "
                   "C, H, W] (got ",
                   "a directory");
  EXPECT_NE(
      run("validate d.yaml --set workload.eval_images=dir.npy").err.find("dir.npy, a directory)"),
      std::string::npos);
}

// `{conv1:0.5}` (no space after the colon) is one YAML key with no value: the message said only
// "got nothing", at a key that looked right.
TEST_F(Hostile5, PerLayerFractionWithoutASpaceAfterTheColonSaysWhy) {
  write("y.yaml",
        "device: xc7z045\nworkload:\n  network: resnet18\n"
        "  fixed8_fraction_per_layer: {conv1:0.5, fc: 0.2}\n");
  expect_line_with(run("validate y.yaml"),
                   "y.yaml:4: workload.fixed8_fraction_per_layer.conv1:0.5: expected a number in "
                   "0..1 (got nothing: YAML reads 'conv1:0.5' as one key; write 'conv1: 0.5', a "
                   "space after the colon)",
                   "fixed8");
  write("z.yaml", "device: xc7z045\nworkload:\n  network: resnet18\n");
  expect_line_with(run("validate z.yaml --set 'workload.sp2_fraction_per_layer={fc:1}'"),
                   "write 'fc: 1', a space after the colon", "sp2");
}

// With workload.sp2_auto the SP2 fraction is each layer's own: optimize's fraction axis and a
// sweep's sp2_fraction axis ran one design under several labels ("SP2 0.20", "SP2 0.80", the same
// frames/s).
TEST_F(Hostile5, AnSp2FractionSearchUnderSp2AutoIsRefused) {
  onnx_config();
  expect_line_with(run("optimize d.yaml --set workload.sp2_auto=true --budget 3"),
                   "d.yaml: workload.sp2_auto: optimize searches the SP2 fraction, which sp2_auto "
                   "replaces by each layer's own; expected sp2_auto: false",
                   "optimize");
  write("s.yaml",
        "base: d.yaml\nset: {verify: false, workload.sp2_auto: true}\naxes:\n"
        "  workload.sp2_fraction: [0.2, 0.8]\n");
  expect_line_with(run("sweep s.yaml --out o.csv"),
                   "s.yaml:4: axes.workload.sp2_fraction: the base config sets workload.sp2_auto",
                   "sweep");
  EXPECT_FALSE(fs::exists(path("o.csv")));
  // An axis over sp2_auto itself is a comparison: it runs.
  write("s.yaml",
        "base: d.yaml\nset: {verify: false}\naxes:\n  workload.sp2_auto: [false, true]\n"
        "  workload.sp2_fraction: [0.5]\n");
  const Result ok = run("sweep s.yaml --out o.csv");
  EXPECT_EQ(ok.code, 0) << ok.err;
}

// A sweep's eval block naming a directory said "no such file".
TEST_F(Hostile5, SweepEvalDirectoryIsCalledADirectory) {
  onnx_config();
  fs::create_directory(path("imgs"));
  write("s.yaml",
        "base: d.yaml\nset: {verify: false}\neval: {images: imgs}\naxes:\n"
        "  workload.sp2_fraction: [0.5]\n");
  expect_line_with(run("sweep s.yaml --out o.csv"),
                   "s.yaml:3: eval.images: expected a .npy file (got a directory: ", "sweep");
  EXPECT_FALSE(fs::exists(path("o.csv")));
}

// `--lut-shapes L` with every LUT engine given its own `--shapes NAME=L`: the list was dropped
// without a word.
TEST_F(Hostile5, OptimizeRefusesAFamilyListThatEveryEngineOverrides) {
  small_config();
  expect_line_with(run("optimize c.yaml --shapes lut_core=8x8 --lut-shapes 16x16 --budget 1"),
                   "optimize: --lut-shapes: every engine it applies to (lut_core) has its own "
                   "--shapes; expected either --lut-shapes or --shapes ENGINE=L for each engine",
                   "--lut-shapes");
  expect_line_with(run("optimize c.yaml --shapes dsp_core=4x8 --dsp-shapes 8x8 --budget 1"),
                   "optimize: --dsp-shapes: every engine it applies to (dsp_core) has its own "
                   "--shapes",
                   "--dsp-shapes");
}

// msd_compare: a point given twice ran twice (minutes each); a --set of a key --as-run sets
// replaced MSD's schedule without a word (or failed inside msqsim naming a temporary file).
TEST_F(Hostile5, MsdCompareRefusesRepeatedPointsAndSetsThatContradictAsRun) {
  const std::string msq = " --msqsim '" MSQSIM_EXE "'";
  expect_line_with(shell(kTool + msq + " --point pynq-z2/vgg16 --point pynq-z2/vgg16"),
                   "msd_compare: --point pynq-z2/vgg16: the point is given twice", "twice");
  expect_line_with(shell(kTool + msq + " --point ultra96/vgg16 --extra"),
                   "msd_compare: --point ultra96/vgg16: the point is given twice", "--extra");
  for (const char* key :
       {"accelerator.scheduler.mapping=search", "workload.sp2_fraction_per_layer={conv1: 0}",
        "workload.fixed8_fraction_per_layer={}", "accelerator.scheduler.mapping_file=m.csv"})
    expect_line_with(shell(kTool + msq + " --as-run --point pynq-z2/resnet18 --set '" + key + "'"),
                     "--as-run gives " + std::string(key).substr(0, std::string(key).find('=')) +
                         " from MSD's schedule",
                     key);
}

// A reference row with a tile of 0 was a ZeroDivisionError traceback under --as-run (exit 1); a
// ratio of 7 or negative cycles were compared as if they were MSD's.
TEST_F(Hostile5, MsdCompareRefusesReferenceValuesOutOfRange) {
  const std::string ref = read(MSQ_SOURCE_DIR "/tools/msd_reference.csv");
  const std::string row = "pynq-z2,resnet18,Conv1,137348,64,1,3,1,22,5,7,2,0.53125,2,compute";
  ASSERT_NE(ref.find(row), std::string::npos);
  const std::string msq = " --msqsim '" MSQSIM_EXE "' --as-run --point pynq-z2/resnet18";
  struct Case {
    std::string bad, want;
  };
  for (const Case& c :
       std::vector<Case>{{"pynq-z2,resnet18,Conv1,137348,0,1,3,1,22,5,7,2,0.53125,2,compute",
                          "ref.csv: data row 2: k_tile: expected an integer >= 1 (got '0')"},
                         {"pynq-z2,resnet18,Conv1,137348,64,1,3,1,22,5,7,2,7,2,compute",
                          "ref.csv: data row 2: ratio: expected a number in 0..1 (got '7')"},
                         {"pynq-z2,resnet18,Conv1,-5,64,1,3,1,22,5,7,2,0.53125,2,compute",
                          "ref.csv: data row 2: cycles: expected an integer >= 1 (got -5)"}}) {
    std::string text = ref;
    text.replace(text.find(row), row.size(), c.bad);
    write("ref.csv", text);
    expect_line_with(shell(kTool + msq + " --reference ref.csv"), "msd_compare: " + c.want, c.bad);
  }
}

// A graph trace without its input.npy was reported as "DIR/./input.npy: layer 'input'", an
// op's missing output as a layer's.
TEST_F(Hostile5, RegressNamesTheNetworkInputAndOpsOfAGraphTrace) {
  const std::string src = MSQ_SOURCE_DIR "/tests/bad_inputs/trace_graph_input_above_act_bits";
  fs::copy(src, path("t1"), fs::copy_options::recursive);
  fs::remove(path("t1/input.npy"));
  const Result a = run("regress t1");
  expect_line_with(a, "t1/input.npy: the network input: missing file", "input.npy");
  EXPECT_EQ(a.err.find("/./"), std::string::npos) << a.err;
  fs::copy(src, path("t2"), fs::copy_options::recursive);
  fs::remove_all(path("t2/pool"));
  expect_line_with(run("regress t2"), "t2/pool/output.npy: op 'pool': missing file", "pool");
}

// `regress DIR/trace.yaml` (the manifest instead of its directory) said
// "DIR/trace.yaml/trace.yaml: missing file".
TEST_F(Hostile5, RegressOnAFileSaysItIsNotADirectory) {
  fs::copy(MSQ_SOURCE_DIR "/tests/traces/fc", path("t"), fs::copy_options::recursive);
  const Result r = run("regress t/trace.yaml");
  expect_line_with(r, "t/trace.yaml: is a file, not a trace directory", "file");
  EXPECT_EQ(r.err.find("trace.yaml/trace.yaml"), std::string::npos) << r.err;
  expect_line_with(run("regress nope"), "nope: does not exist (not a trace directory", "nope");
}

}  // namespace
