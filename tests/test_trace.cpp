#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "models/arith/fixed_point.h"
#include "models/arith/sp2.h"
#include "models/error.h"
#include "models/functional_model.h"
#include "sim/npy.h"
#include "sim/trace.h"
#include "tests/support/in_child.h"

namespace {

namespace fs = std::filesystem;
using msq::TraceLayer;

TraceLayer make_layer(const std::string& name, bool fc, int in_c, int hw, int out_c, int k,
                      int groups, int act_bits, msq::OutputKind out, bool big_sp2, uint64_t seed) {
  std::mt19937_64 rng(seed);
  TraceLayer t;
  t.name = name;
  msq::QuantLayer& l = t.layer;
  auto& s = l.shape;
  s.name = name;
  s.type = fc ? msq::LayerType::Fc : msq::LayerType::Conv;
  s.batch = 2;
  s.in_c = in_c;
  s.in_h = s.in_w = fc ? 1 : hw;
  s.out_c = out_c;
  s.kh = s.kw = k;
  s.ph = s.pw = k / 2;
  s.sh = s.sw = fc ? 1 : 2;
  s.groups = groups;
  l.act_bits = act_bits;
  l.acc_bits = fc ? 20 : 32;
  l.overflow = fc ? msq::Overflow::Saturate : msq::Overflow::Wrap;
  l.output = out;
  for (int m = 0; m < out_c; ++m) {
    const bool sp2 = m % 2 == 1;
    const int bits = sp2 ? (big_sp2 && m == 1 ? 8 : 4) : (m % 4 == 0 ? 4 : 8);
    l.scheme.push_back(uint8_t(sp2));
    l.bits.push_back(uint8_t(bits));
    const auto levels = msq::sp2_levels(msq::Sp2Format(sp2 ? bits : 3));
    for (int64_t i = 0; i < s.k(); ++i) {
      const int64_t top = msq::fixed_max(bits);
      l.weights.push_back(sp2 ? levels[rng() % levels.size()]
                              : int32_t(int64_t(rng() % uint64_t(2 * top + 1)) - top));
    }
    if (big_sp2 && m == 1) l.weights[size_t(s.k())] = 1 << 15;  // needs int32 in weights.npy
    l.bias.push_back(int32_t(rng() % 2001) - 1000);
    l.rq_mult.push_back(int32_t(rng() % 256));
    l.rq_shift.push_back(int8_t(10 + rng() % 8));
  }
  t.input.b = s.batch;
  t.input.c = s.in_c;
  t.input.h = s.in_h;
  t.input.w = s.in_w;
  for (size_t i = 0; i < t.input.size(); ++i)
    t.input.data.push_back(uint16_t(rng() % (uint64_t(1) << act_bits)));
  t.expected = msq::run_functional(l, t.input).out;
  return t;
}

std::vector<TraceLayer> sample_layers() {
  std::vector<TraceLayer> v;
  v.push_back(make_layer("conv", false, 4, 7, 6, 3, 2, 8, msq::OutputKind::Activations, false, 1));
  v.push_back(
      make_layer("conv12", false, 3, 5, 4, 1, 1, 12, msq::OutputKind::Activations, true, 2));
  v.push_back(make_layer("fc", true, 24, 1, 5, 1, 1, 8, msq::OutputKind::Accumulators, false, 3));
  v[0].expected_cycles = 1234;
  v[2].dir = "classifier";
  return v;
}

class Trace : public testing::Test {
 protected:
  void SetUp() override {
    std::string t = (fs::temp_directory_path() / "msq_trace_XXXXXX").string();
    ASSERT_NE(mkdtemp(t.data()), nullptr);
    root_ = t;
    dir_ = root_ + "/t";
    config_ = YAML::Load("{device: xc7z020, clock_mhz: 100}");
    msq::write_trace(dir_, config_, sample_layers());
  }
  void TearDown() override { fs::remove_all(root_); }

  std::string file(const std::string& layer_dir, const std::string& name) const {
    return dir_ + "/" + layer_dir + "/" + name;
  }

  // read_trace must throw an InputError whose message holds every one of `words`.
  void expect_error(const std::vector<std::string>& words) const {
    try {
      msq::read_trace(dir_);
      ADD_FAILURE() << "read_trace accepted the trace; expected: " << words[0];
    } catch (const msq::InputError& e) {
      const std::string msg = e.what();
      for (const auto& w : words)
        EXPECT_NE(msg.find(w), std::string::npos) << msg << "\nlacks: " << w;
    }
  }

  template <class T>
  void write(const std::string& path, const std::string& descr, const std::vector<int64_t>& shape,
             const std::vector<int64_t>& values) const {
    std::vector<T> v(values.begin(), values.end());
    msq::write_npy(path, descr, shape, v.data(), v.size() * sizeof(T));
  }

  void replace_manifest(const std::string& from, const std::string& to) const {
    std::ifstream in(dir_ + "/trace.yaml");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << text;
    text.replace(at, from.size(), to);
    std::ofstream(dir_ + "/trace.yaml") << text;
  }

  std::string root_, dir_;
  YAML::Node config_;
};

TEST_F(Trace, WrittenTraceReadsBackIdentical) {
  const auto want = sample_layers();
  const msq::Trace t = msq::read_trace(dir_);
  EXPECT_EQ(t.dir, dir_);
  EXPECT_EQ(YAML::Dump(t.config), YAML::Dump(config_));
  ASSERT_EQ(t.layers.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const TraceLayer &a = t.layers[i], &b = want[i];
    SCOPED_TRACE(b.name);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.dir, b.dir.empty() ? b.name : b.dir);
    EXPECT_EQ(a.expected_cycles, b.expected_cycles);
    const auto &x = a.layer.shape, &y = b.layer.shape;
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.type, y.type);
    EXPECT_EQ(std::vector<int>({x.batch, x.in_c, x.in_h, x.in_w, x.out_c, x.kh, x.kw, x.sh, x.sw,
                                x.ph, x.pw, x.groups}),
              std::vector<int>({y.batch, y.in_c, y.in_h, y.in_w, y.out_c, y.kh, y.kw, y.sh, y.sw,
                                y.ph, y.pw, y.groups}));
    EXPECT_EQ(a.layer.act_bits, b.layer.act_bits);
    EXPECT_EQ(a.layer.acc_bits, b.layer.acc_bits);
    EXPECT_EQ(a.layer.overflow, b.layer.overflow);
    EXPECT_EQ(a.layer.output, b.layer.output);
    EXPECT_EQ(a.layer.weights, b.layer.weights);
    EXPECT_EQ(a.layer.scheme, b.layer.scheme);
    EXPECT_EQ(a.layer.bits, b.layer.bits);
    EXPECT_EQ(a.layer.bias, b.layer.bias);
    EXPECT_EQ(a.layer.rq_mult, b.layer.rq_mult);
    EXPECT_EQ(a.layer.rq_shift, b.layer.rq_shift);
    EXPECT_EQ(std::vector<int>({a.input.b, a.input.c, a.input.h, a.input.w}),
              std::vector<int>({b.input.b, b.input.c, b.input.h, b.input.w}));
    EXPECT_EQ(a.input.data, b.input.data);
    EXPECT_EQ(std::vector<int>({a.expected.b, a.expected.c, a.expected.h, a.expected.w}),
              std::vector<int>({b.expected.b, b.expected.c, b.expected.h, b.expected.w}));
    EXPECT_EQ(a.expected.data, b.expected.data);
    // The reference model agrees with the recorded outputs.
    EXPECT_EQ(msq::run_functional(a.layer, a.input).out.data, a.expected.data);
  }
  // The narrowest dtypes: small weights int8, a 2^15 SP2 level int32, 12-bit activations uint16.
  EXPECT_EQ(msq::read_npy(file("conv", "weights.npy")).descr, "|i1");
  EXPECT_EQ(msq::read_npy(file("conv12", "weights.npy")).descr, "<i4");
  EXPECT_EQ(msq::read_npy(file("conv12", "input.npy")).descr, "<u2");
  EXPECT_EQ(msq::read_npy(file("conv12", "output.npy")).descr, "<u2");
  EXPECT_EQ(msq::read_npy(file("classifier", "output.npy")).descr, "<i4");
  EXPECT_FALSE(fs::exists(dir_ + "/fc"));
}

TEST_F(Trace, OverwritesOnlyTraces) {
  auto layers = sample_layers();
  layers.resize(1);
  msq::write_trace(dir_, YAML::Node(), layers);  // replaces the earlier trace
  const msq::Trace t = msq::read_trace(dir_);
  EXPECT_EQ(t.layers.size(), 1u);
  EXPECT_TRUE(t.config.IsNull());
  EXPECT_FALSE(fs::exists(dir_ + "/conv12"));
  for (const auto& e : fs::directory_iterator(root_))  // no temporary left behind
    EXPECT_EQ(e.path().filename(), "t");

  const std::string other = root_ + "/notes";
  fs::create_directory(other);
  std::ofstream(other + "/keep.txt") << "mine";
  try {
    msq::write_trace(other, YAML::Node(), layers);
    ADD_FAILURE() << "overwrote a directory that is not a trace";
  } catch (const msq::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("not a trace directory"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::exists(other + "/keep.txt"));
}

// A trace that cannot be written says why (the reason from the OS), whichever step fails.
TEST_F(Trace, WriteFailuresCarryTheReason) {
  std::ofstream(root_ + "/plain") << "a file, not a directory";
  try {
    msq::write_trace(root_ + "/plain/t", config_, sample_layers());
    ADD_FAILURE() << "wrote a trace under a regular file";
  } catch (const msq::InputError& e) {
    EXPECT_EQ(e.file(), root_ + "/plain/t");
    EXPECT_NE(e.detail().find(": Not a directory"), std::string::npos) << e.what();
  }
  // The manifest rewrite under a file size limit below its size (SIGXFSZ ignored, as msqsim
  // does): in a child, so that the limit stays there.
  const std::string dir = dir_;
  const int verdict = msq::testing::in_child<int>([&] {
    signal(SIGXFSZ, SIG_IGN);
    const rlimit lim{64, 64};
    setrlimit(RLIMIT_FSIZE, &lim);
    try {
      msq::set_expected_cycles(dir, {10, 20, 30});
    } catch (const msq::InputError& e) {
      return std::string(e.detail()) == "cannot write: File too large" ? 1 : 2;
    }
    return 3;
  });
  EXPECT_EQ(verdict, 1) << "2: another message, 3: no error";
  EXPECT_EQ(msq::read_trace(dir_).layers[0].expected_cycles, 1234);  // the manifest as it was
}

TEST_F(Trace, SetExpectedCycles) {
  msq::set_expected_cycles(dir_, {10, 20, 30});
  msq::Trace t = msq::read_trace(dir_);
  EXPECT_EQ(t.layers[0].expected_cycles, 10);
  EXPECT_EQ(t.layers[2].expected_cycles, 30);
  msq::set_expected_cycles(dir_, {-1, 5, 6});
  t = msq::read_trace(dir_);
  EXPECT_EQ(t.layers[0].expected_cycles, -1);
  EXPECT_EQ(t.layers[1].expected_cycles, 5);
  EXPECT_EQ(YAML::Dump(t.config), YAML::Dump(config_));  // the rest of the manifest is kept
  EXPECT_THROW(msq::set_expected_cycles(dir_, {1}), msq::InputError);
}

TEST_F(Trace, MissingFile) {
  fs::remove(file("conv", "bias.npy"));
  expect_error({"conv/bias.npy", "layer 'conv'", "missing file"});
}

TEST_F(Trace, LayerDirectoryNameTheSystemRefuses) {
  // A name longer than the file system allows (a fuzzer's finding): reported as the layer's
  // missing directory, not a filesystem_error without the manifest's name.
  replace_manifest("dir: classifier", "dir: " + std::string(300, 'a'));
  expect_error({"missing layer directory", "layer 'fc'"});
}

TEST_F(Trace, MissingManifest) {
  fs::remove(dir_ + "/trace.yaml");
  expect_error({"trace.yaml", "missing file"});
}

TEST_F(Trace, WrongDtype) {
  write<int64_t>(file("conv", "bias.npy"), "<i8", {6}, {1, 2, 3, 4, 5, 6});
  expect_error({"bias.npy", "layer 'conv'", "dtype <i8 where <i4 is expected"});
}

TEST_F(Trace, WrongShape) {
  // conv: M = 6, K = (4 / 2) * 3 * 3 = 18.
  write<int8_t>(file("conv", "weights.npy"), "|i1", {6, 17}, std::vector<int64_t>(6 * 17, 0));
  expect_error({"weights.npy", "layer 'conv'", "shape [6, 17] where [6, 18] is expected"});
}

TEST_F(Trace, WrongOutputShape) {
  write<uint8_t>(file("conv", "output.npy"), "|u1", {2, 6, 3, 3}, std::vector<int64_t>(108, 0));
  expect_error({"output.npy", "shape [2, 6, 3, 3] where [2, 6, 4, 4] is expected"});
}

TEST_F(Trace, TruncatedNpy) {
  const std::string p = file("conv12", "input.npy");
  fs::resize_file(p, fs::file_size(p) - 3);
  expect_error({"conv12/input.npy", "layer 'conv12'", "truncated data"});
}

TEST_F(Trace, BigEndianArray) {
  const std::string p = file("conv", "bias.npy");
  std::ifstream in(p, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  const size_t at = bytes.find("'<i4'");
  ASSERT_NE(at, std::string::npos);
  bytes[at + 1] = '>';
  std::ofstream(p, std::ios::binary) << bytes;
  expect_error({"bias.npy", "layer 'conv'", "big-endian"});
}

TEST_F(Trace, Sp2RowWithANonLevel) {
  // Row 3 of layer conv is a 4-bit SP2 row: levels 0, 1, 2, 4, 5, 6, 8 (and negatives), not 3.
  auto l = sample_layers()[0].layer;
  ASSERT_EQ(l.scheme[3], 1);
  ASSERT_EQ(l.bits[3], 4);
  std::vector<int64_t> w(l.weights.begin(), l.weights.end());
  w[3 * 18 + 7] = 3;
  write<int8_t>(file("conv", "weights.npy"), "|i1", {6, 18}, w);
  expect_error({"weights.npy", "layer 'conv'", "row 3, column 7", "3 is not a 4-bit SP2 level"});
}

TEST_F(Trace, FixedRowOutOfRange) {
  auto l = sample_layers()[0].layer;
  ASSERT_EQ(l.scheme[0], 0);
  ASSERT_EQ(l.bits[0], 4);
  std::vector<int64_t> w(l.weights.begin(), l.weights.end());
  w[5] = -8;  // the symmetric 4-bit range is [-7, 7]
  write<int8_t>(file("conv", "weights.npy"), "|i1", {6, 18}, w);
  expect_error({"row 0, column 5", "-8 is outside the 4-bit fixed range [-7, 7]"});
}

TEST_F(Trace, BadPerRowValues) {
  write<uint8_t>(file("conv", "scheme.npy"), "|u1", {6}, {0, 1, 2, 1, 0, 1});
  expect_error({"scheme.npy", "row 2: scheme 2"});
  write<uint8_t>(file("conv", "scheme.npy"), "|u1", {6}, {0, 1, 0, 1, 0, 1});
  write<uint8_t>(file("conv", "bits.npy"), "|u1", {6}, {4, 9, 8, 4, 4, 4});
  expect_error({"bits.npy", "row 1: 9 bits is outside 3..8 for a sp2 row"});
  msq::write_trace(dir_, config_, sample_layers());
  write<int8_t>(file("conv", "requant_shift.npy"), "|i1", {6}, {10, 10, 0, 10, 10, 10});
  expect_error({"requant_shift.npy", "row 2: 0 is outside [1, 62]"});
  write<int8_t>(file("conv", "requant_shift.npy"), "|i1", {6}, {10, 10, 10, 10, 10, 10});
  write<int32_t>(file("conv", "requant_mult.npy"), "<i4", {6}, {1, -1, 1, 1, 1, 1});
  expect_error({"requant_mult.npy", "row 1: -1 is negative"});
}

TEST_F(Trace, ValuesOutOfRange) {
  auto t = sample_layers()[0];
  std::vector<int64_t> in(t.input.data.begin(), t.input.data.end());
  in[1 * 4 * 49 + 2 * 49 + 3 * 7 + 4] = 256;  // [1, 2, 3, 4]
  write<uint16_t>(file("conv", "input.npy"), "<u2", {2, 4, 7, 7}, in);
  expect_error({"input.npy", "value 256 at [1, 2, 3, 4] is above 2^act_bits - 1 = 255"});
  msq::write_trace(dir_, config_, sample_layers());
  std::vector<int64_t> out(t.expected.data);
  out[0] = 300;
  write<uint16_t>(file("conv", "output.npy"), "<u2", {2, 6, 4, 4}, out);
  expect_error({"output.npy", "value 300 at [0, 0, 0, 0] is outside the activation range"});
  msq::write_trace(dir_, config_, sample_layers());
  // fc emits 20-bit accumulators.
  std::vector<int64_t> acc(sample_layers()[2].expected.data);
  acc[3] = 1 << 19;
  write<int32_t>(file("classifier", "output.npy"), "<i4", {2, 5, 1, 1}, acc);
  expect_error({"output.npy", "layer 'fc'", "outside the accumulator range"});
}

// The layer keys come from one table: a conv needs its kernel, an fc layer takes only the
// trivial kernel, stride, padding and groups (and reads as a 1x1 conv with them).
TEST_F(Trace, LayerKeysDependOnTheLayerType) {
  replace_manifest("    type: fc\n", "    type: fc\n    kernel: 3\n");
  expect_error({"trace.yaml:", "layers[2] (fc).kernel: an fc layer takes kernel 1"});
  msq::write_trace(dir_, config_, sample_layers());
  replace_manifest("    type: fc\n", "    type: fc\n    groups: 2\n");
  expect_error({"trace.yaml:", "layers[2] (fc).groups: an fc layer takes groups 1"});
  msq::write_trace(dir_, config_, sample_layers());
  replace_manifest("    type: fc\n", "    type: fc\n    padding: [0, 0]\n    stride: 1\n");
  const msq::Trace t = msq::read_trace(dir_);
  EXPECT_EQ(t.layers[2].layer.shape.type, msq::LayerType::Fc);
  EXPECT_EQ(t.layers[2].layer.shape.kh, 1);
  EXPECT_EQ(t.layers[2].layer.shape.sh, 1);
  msq::write_trace(dir_, config_, sample_layers());
  {
    std::ifstream in(dir_ + "/trace.yaml");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t at = text.find("    kernel: ");
    ASSERT_NE(at, std::string::npos) << text;
    replace_manifest(text.substr(at, text.find('\n', at) + 1 - at), "");
  }
  expect_error({"trace.yaml:", "layers[0] (conv).kernel: missing"});
}

TEST_F(Trace, ManifestErrorsHaveLines) {
  replace_manifest("    stride: [2, 2]\n", "    strid: [2, 2]\n");
  expect_error({"trace.yaml:", "layers[0] (conv).strid: unknown key, expected one of name, dir",
                "(did you mean 'stride'?)"});
  msq::write_trace(dir_, config_, sample_layers());
  replace_manifest("    out_channels: 6\n", "");
  expect_error({"trace.yaml:", "layers[0] (conv).out_channels: missing"});
  msq::write_trace(dir_, config_, sample_layers());
  replace_manifest("msqsim-trace/1", "msqsim-trace/9");
  expect_error({"trace.yaml:1:", "not a supported trace format"});
  msq::write_trace(dir_, config_, sample_layers());
  replace_manifest("overflow: wrap", "overflow: wrapp");
  expect_error(
      {"trace.yaml:", "layers[0] (conv).overflow: expected one of wrap, saturate (got wrapp)"});
  msq::write_trace(dir_, config_, sample_layers());
  replace_manifest("act_bits: 8", "act_bits: [8");
  expect_error({"trace.yaml:"});
}

// Hostile manifests and arrays (issue: found by fuzzing): one InputError each, never "internal
// error" from a yaml-cpp conversion or a stream exception.
TEST_F(Trace, NonScalarKeysAreInputErrors) {
  replace_manifest("  - name: conv\n", "  - ? [a]\n    : 1\n    name: conv\n");
  expect_error({"trace.yaml:", "layers[0] (conv)", "expected plain key names (got a list)"});
  msq::write_trace(dir_, config_, sample_layers());
  replace_manifest("format:", "? [x]\n: 1\nformat:");
  expect_error({"trace.yaml:1:", "expected plain key names (got a list)"});
}

TEST_F(Trace, DirectoryWhereAnArrayShouldBe) {
  fs::remove(file("conv", "bias.npy"));
  fs::create_directory(file("conv", "bias.npy"));
  expect_error({"conv/bias.npy", "layer 'conv'", "expected a .npy file (got a directory"});
}

// The layer's sizes are ints: an input dimension beyond the manifest's limits must not wrap.
TEST_F(Trace, InputDimensionTooLarge) {
  const int64_t w = (int64_t(1) << 24) + 1;
  write<uint8_t>(file("conv", "input.npy"), "|u1", {1, 1, 1, w}, std::vector<int64_t>(size_t(w)));
  expect_error({"conv/input.npy", "layer 'conv'", "has a dimension above 2^24"});
}

TEST_F(Trace, AliasCycleInTheManifest) {
  replace_manifest("config: {", "config: &c {x: *c, ");
  expect_error({"trace.yaml:", "config.x: an alias refers to a node that contains it (a cycle)"});
}

// The config's nodes keep their marks, so that an error inside `config:` names its real line.
TEST_F(Trace, ConfigKeepsItsLines) {
  const msq::Trace t = msq::read_trace(dir_);
  std::ifstream in(dir_ + "/trace.yaml");
  std::string line;
  int clock_line = 0;
  for (int n = 1; std::getline(in, line); ++n)
    if (line.find("clock_mhz:") != std::string::npos) clock_line = n;
  ASSERT_GT(clock_line, 1);
  EXPECT_EQ(t.config["clock_mhz"].Mark().line + 1, clock_line);
}

// tools/make_test_trace.py shows how to write a trace with numpy alone; what it writes must read
// back and its expected outputs (computed in numpy) must equal the reference model's.
TEST_F(Trace, PythonToolWritesAValidTrace) {
  const std::string out = root_ + "/py";
  const std::string cmd =
      "/usr/bin/python3 " MSQ_SOURCE_DIR "/tools/make_test_trace.py " + out + " 2>&1";
  FILE* f = popen(cmd.c_str(), "r");
  ASSERT_NE(f, nullptr);
  char buf[4096] = {};
  const size_t n = fread(buf, 1, sizeof buf - 1, f);
  const int rc = pclose(f);
  ASSERT_EQ(rc, 0) << "tools/make_test_trace.py failed; it needs /usr/bin/python3 with numpy "
                      "(Debian package python3-numpy, installed by tools/setup.sh):\n"
                   << std::string(buf, n);
  const msq::Trace t = msq::read_trace(out);
  ASSERT_EQ(t.layers.size(), 2u);
  EXPECT_EQ(t.layers[0].layer.shape.groups, 2);
  EXPECT_EQ(t.layers[1].layer.shape.type, msq::LayerType::Fc);
  uint64_t overflows = 0;
  for (const auto& l : t.layers) {
    const auto r = msq::run_functional(l.layer, l.input);
    EXPECT_EQ(r.out.data, l.expected.data) << l.name;
    overflows += r.overflows;
  }
  EXPECT_GT(overflows, 0u);  // the fc layer's 16-bit accumulators saturate
}

}  // namespace
