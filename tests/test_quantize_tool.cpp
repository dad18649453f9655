// tools/quantize_to_trace.py against the C++ policy: the same float weights must give the same
// integer weights, schemes and widths, and its numpy outputs must match the cycle model.
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

// A real network is quantized by msqsim itself (biases, calibrated zero points, adds and pools),
// so the tool refuses a model and says how to get its trace.
TEST(QuantizeTool, OnnxModelIsReferredToTraceRecord) {
  TempDir tmp;
  std::ofstream(tmp / "model.onnx") << "not read";
  const auto r =
      testing::run_cmd("/usr/bin/python3 " + quoted(kSrc + "/tools/quantize_to_trace.py") + " " +
                       quoted(tmp / "model.onnx") + " --out " + quoted(tmp / "q"));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("msqsim trace record CONFIG --out DIR"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(tmp / "q"));
}

}  // namespace
}  // namespace msq
