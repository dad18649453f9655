// tools/quantize_to_trace.py against the C++ policy: the same float weights must give the same
// integer weights, schemes and widths, and its numpy outputs must match the cycle model. The
// same for ONNX input (Conv/Gemm initializers).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "models/quantizer.h"
#include "sim/trace.h"
#include "support/run_cli.h"

namespace msq {
namespace {

using testing::quoted;
using testing::TempDir;

const std::string kSrc = MSQ_SOURCE_DIR;

// write_npy writes integers only; the tool reads float32 weights.
void write_f32(const std::string& path, const std::vector<int64_t>& shape,
               const std::vector<float>& v) {
  std::string dims;
  for (int64_t d : shape) dims += std::to_string(d) + ", ";
  std::string h = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  h.append(63 - (10 + h.size()) % 64, ' ');
  h += '\n';
  std::ofstream f(path, std::ios::binary);
  f << "\x93NUMPY" << char(1) << char(0) << char(h.size() & 0xFF) << char(h.size() >> 8) << h;
  f.write(reinterpret_cast<const char*>(v.data()), std::streamsize(v.size() * sizeof(float)));
}

// Rows of different kinds: heavy-tailed (SP2 wins), uniform (fixed wins), an all-zero row,
// duplicated rows (exact score ties), rows with values on rounding ties.
std::vector<float> weights(int64_t M, int64_t K, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> n(0, 1);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<float> w(size_t(M * K));
  for (int64_t m = 0; m < M; ++m) {
    const double scale = 0.01 + 0.05 * (m % 7);
    for (int64_t k = 0; k < K; ++k) {
      double v;
      switch (m % 4) {
        case 0:
          v = std::pow(n(rng), 3);
          break;
        case 1:
          v = u(rng);
          break;
        case 2:
          v = n(rng);
          break;
        default:
          v = double(int(u(rng) * 14)) / 14.0;
          break;  // on the 4-bit fixed grid and its midpoints
      }
      w[size_t(m * K + k)] = float(scale * v);
    }
  }
  for (int64_t k = 0; k < K; ++k) {
    w[size_t(5 * K + k)] = 0.0f;
    w[size_t(9 * K + k)] = w[size_t(8 * K + k)];
  }
  return w;
}

void check_same_codes(int bits, double sp2, double f8) {
  const auto py = testing::run_cmd("/usr/bin/python3 -c 'import numpy'");
  ASSERT_EQ(py.code, 0) << "/usr/bin/python3 with numpy is required (Debian python3-numpy; "
                           "tools/setup.sh installs it): "
                        << py.out;
  TempDir tmp;
  // A conv layer (K = 8 * 9 * 9 = 648: more than one 512-weight chunk, not a multiple of 8) and
  // an fc layer.
  const int64_t M1 = 24, K1 = 648, M2 = 16, K2 = 1000;
  const auto w1 = weights(M1, K1, 11), w2 = weights(M2, K2, 12);
  write_f32(tmp / "conv.npy", {M1, 8, 9, 9}, w1);
  write_f32(tmp / "fc.npy", {M2, K2}, w2);
  std::ofstream(tmp / "layers.json")
      << R"({"layers": [{"name": "conv", "type": "conv", "weights": "conv.npy", "input": [8, 10, 10],)"
      << R"( "padding": 0}, {"name": "fc", "type": "fc", "weights": "fc.npy", "input": 1000,)"
      << R"( "output": "accumulators"}]})";
  // msqsim builds with -ffp-contract=off: the scores are plain IEEE arithmetic, as numpy's.
  const std::string fma;
  const std::string dir = tmp / "q";
  const auto r =
      testing::run_cmd("/usr/bin/python3 " + quoted(kSrc + "/tools/quantize_to_trace.py") + " " +
                       quoted(tmp / "layers.json") + " --out " + quoted(dir) + " --weight-bits " +
                       std::to_string(bits) + " --sp2-fraction " + std::to_string(sp2) +
                       " --fixed8-fraction " + std::to_string(f8) + fma);
  ASSERT_EQ(r.code, 0) << r.out;
  const Trace t = read_trace(dir);
  ASSERT_EQ(t.layers.size(), 2u);
  const std::vector<float>* ws[2] = {&w1, &w2};
  const int64_t Ms[2] = {M1, M2}, Ks[2] = {K1, K2};
  for (int l = 0; l < 2; ++l) {
    const QuantizedMatrix q = quantize_matrix(ws[l]->data(), Ms[l], Ks[l], sp2, f8, bits);
    const QuantLayer& L = t.layers[l].layer;
    EXPECT_EQ(L.scheme, q.scheme) << t.layers[l].name;
    EXPECT_EQ(L.bits, q.bits) << t.layers[l].name;
    ASSERT_EQ(L.weights.size(), q.weights.size());
    int64_t diff = 0;
    for (size_t i = 0; i < q.weights.size(); ++i) diff += L.weights[i] != q.weights[i];
    EXPECT_EQ(diff, 0) << t.layers[l].name;
    int sp2_rows = 0, wide = 0;
    for (size_t m = 0; m < L.scheme.size(); ++m) sp2_rows += L.scheme[m], wide += L.bits[m] == 8;
    EXPECT_GT(sp2_rows, 0);
    EXPECT_EQ(wide > 0, f8 > 0);
  }
  // numpy's outputs (requantized activations, raw accumulators) against the cycle model.
  const auto g = testing::msqsim("regress " + quoted(dir) + " --update");
  EXPECT_EQ(g.code, 0) << g.out;
}

TEST(QuantizeTool, SameCodesAsCxxAt4BitsWith8BitRows) {
  check_same_codes(4, 0.5, 0.25);
}

TEST(QuantizeTool, SameCodesAsCxxAt6Bits) {
  check_same_codes(6, 0.4, 0.1);
}

TEST(QuantizeTool, SameCodesAsCxxAt3Bits) {
  check_same_codes(3, 0.7, 0.0);
}

// ONNX input (python3-onnx). The Python snippet builds a model from float32 .npy files that the
// test writes, so that the C++ quantizer sees the same floats: argv 1 the directory, argv 2 the
// first conv's dilation. Conv 3x3 s1 p1 (with a bias, which the tool ignores) on [1, 8, 10, 10],
// Relu, Conv 1x1, Flatten, Gemm with transB=0 (weight [K, N]), Relu, Gemm with transB=1.
const char* kMakeOnnx = R"(import sys, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto
d, dil = sys.argv[1], int(sys.argv[2])
ld = lambda n: numpy_helper.from_array(np.load(d + '/' + n + '.npy'), n)
inits = [ld('w1'), ld('w2'), ld('w3t'), ld('w4'),
         numpy_helper.from_array(np.linspace(-1, 1, 16).astype(np.float32), 'b1')]
nodes = [helper.make_node('Conv', ['x', 'w1', 'b1'], ['c1'], name='/features/conv1/Conv',
                          kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1],
                          dilations=[dil, dil]),
         helper.make_node('Relu', ['c1'], ['r1'], name='relu1'),
         helper.make_node('Conv', ['r1', 'w2'], ['c2'], name='conv2', kernel_shape=[1, 1]),
         helper.make_node('Flatten', ['c2'], ['f'], name='flatten', axis=1),
         helper.make_node('Gemm', ['f', 'w3t'], ['g1'], name='fc1', transB=0),
         helper.make_node('Relu', ['g1'], ['r2'], name='relu2'),
         helper.make_node('Gemm', ['r2', 'w4'], ['y'], name='fc2', transB=1)]
g = helper.make_graph(nodes, 'msq', [helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, 8, 10, 10])],
                      [helper.make_tensor_value_info('y', TensorProto.FLOAT, [1, 10])], inits)
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)]), d + '/model.onnx')
)";

struct OnnxModel {
  std::vector<float> w1, w2, w3, w4;  // w3 as [N, K], the tool's fc layout
};

// Writes the weights and the model; fails the test when python3-onnx is missing.
void make_onnx(const TempDir& tmp, int dilation, OnnxModel& m) {
  const auto py = testing::run_cmd("/usr/bin/python3 -c 'import numpy, onnx'");
  ASSERT_EQ(py.code, 0) << "reading ONNX needs /usr/bin/python3 with the Debian package "
                           "python3-onnx (and python3-numpy); tools/setup.sh installs them: "
                        << py.out;
  m.w1 = weights(16, 72, 21);
  m.w2 = weights(12, 16, 22);
  m.w3 = weights(32, 1200, 23);
  m.w4 = weights(10, 32, 24);
  std::vector<float> w3t(m.w3.size());  // [K, N] for transB=0
  for (size_t n = 0; n < 32; ++n)
    for (size_t k = 0; k < 1200; ++k) w3t[k * 32 + n] = m.w3[n * 1200 + k];
  write_f32(tmp / "w1.npy", {16, 8, 3, 3}, m.w1);
  write_f32(tmp / "w2.npy", {12, 16, 1, 1}, m.w2);
  write_f32(tmp / "w3t.npy", {1200, 32}, w3t);
  write_f32(tmp / "w4.npy", {10, 32}, m.w4);
  std::ofstream(tmp / "make_onnx.py") << kMakeOnnx;
  const auto r = testing::run_cmd("/usr/bin/python3 " + quoted(tmp / "make_onnx.py") + " " +
                                  quoted(tmp.path()) + " " + std::to_string(dilation));
  ASSERT_EQ(r.code, 0) << r.out;
}

std::string quantize_cmd(const std::string& in, const std::string& out) {
  return "/usr/bin/python3 " + quoted(kSrc + "/tools/quantize_to_trace.py") + " " + quoted(in) +
         " --out " + quoted(out) + " --weight-bits 4 --sp2-fraction 0.5 --fixed8-fraction 0.125";
}

TEST(QuantizeOnnx, ConvGemmInitializersGiveSameCodesAsCxx) {
  TempDir tmp;
  OnnxModel model;
  make_onnx(tmp, 1, model);
  if (HasFatalFailure()) return;
  const std::string dir = tmp / "q";
  const auto r = testing::run_cmd(quantize_cmd(tmp / "model.onnx", dir));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("skipped 3 nodes: Relu relu1, Flatten flatten, Relu relu2"),
            std::string::npos)
      << r.out;
  const Trace t = read_trace(dir);
  ASSERT_EQ(t.layers.size(), 4u);
  struct Want {
    const char* name;
    LayerType type;
    int in_c, in_h, out_c, k, pad;
    const std::vector<float>* w;
  };
  const Want want[4] = {{"features_conv1_Conv", LayerType::Conv, 8, 10, 16, 3, 1, &model.w1},
                        {"conv2", LayerType::Conv, 16, 10, 12, 1, 0, &model.w2},
                        {"fc1", LayerType::Fc, 1200, 1, 32, 1, 0, &model.w3},
                        {"fc2", LayerType::Fc, 32, 1, 10, 1, 0, &model.w4}};
  for (int l = 0; l < 4; ++l) {
    const Want& w = want[l];
    const LayerShape& s = t.layers[l].layer.shape;
    SCOPED_TRACE(w.name);
    EXPECT_EQ(t.layers[l].name, w.name);
    EXPECT_EQ(s.type, w.type);
    EXPECT_EQ(s.in_c, w.in_c);
    EXPECT_EQ(s.in_h, w.in_h);
    EXPECT_EQ(s.in_w, w.in_h);
    EXPECT_EQ(s.out_c, w.out_c);
    EXPECT_EQ(s.kh, w.k);
    EXPECT_EQ(s.kw, w.k);
    EXPECT_EQ(s.sh, 1);
    EXPECT_EQ(s.ph, w.pad);
    EXPECT_EQ(s.pw, w.pad);
    EXPECT_EQ(s.groups, 1);
    EXPECT_EQ(s.out_h(), w.in_h);
    const QuantizedMatrix q = quantize_matrix(w.w->data(), s.m(), s.k(), 0.5, 0.125, 4);
    const QuantLayer& L = t.layers[l].layer;
    EXPECT_EQ(L.scheme, q.scheme);
    EXPECT_EQ(L.bits, q.bits);
    EXPECT_EQ(L.weights, q.weights);
    // The tool's bias policy: ONNX biases are ignored, every row's bias is 0.
    EXPECT_EQ(L.bias, std::vector<int32_t>(size_t(s.m()), 0));
  }
  const auto g = testing::msqsim("regress " + quoted(dir) + " --update");
  EXPECT_EQ(g.code, 0) << g.out;
}

TEST(QuantizeOnnx, DilatedConvIsAClearErrorWithExitCode2) {
  TempDir tmp;
  OnnxModel model;
  make_onnx(tmp, 2, model);
  if (HasFatalFailure()) return;
  const auto r = testing::run_cmd(quantize_cmd(tmp / "model.onnx", tmp / "q"));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("node '/features/conv1/Conv' (Conv): dilations [2, 2] are not supported"),
            std::string::npos)
      << r.out;
  EXPECT_FALSE(std::filesystem::exists(tmp / "q"));
}

}  // namespace
}  // namespace msq
