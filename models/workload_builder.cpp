#include "models/workload_builder.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include "models/error.h"
#include "models/kernels/isa.h"
#include "models/kernels/loops.h"
#include "models/quantizer.h"

namespace msq {

namespace {

inline uint64_t splitmix64(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// xoshiro256+: cheap sequential draws for per-row parameters and the input activations.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (auto& v : s_) v = splitmix64(seed);
  }
  uint64_t next() {
    const uint64_t r = s_[0] + s_[3];
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = (s_[3] << 45) | (s_[3] >> 19);
    return r;
  }
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }  // [0, 1)
 private:
  std::array<uint64_t, 4> s_;
};

uint64_t layer_seed(uint64_t seed, size_t index) {
  uint64_t s = seed;
  const uint64_t a = splitmix64(s);
  uint64_t t = a ^ (uint64_t(index) * 0xD1B54A32D192ED03ull);
  return splitmix64(t);
}

// a * b, or UINT64_MAX when the product does not fit.
uint64_t mul_sat(uint64_t a, uint64_t b) {
  return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

uint64_t product(std::initializer_list<int64_t> v) {
  uint64_t p = 1;
  for (int64_t x : v) p = mul_sat(p, uint64_t(std::max<int64_t>(x, 0)));
  return p;
}

void check_shape(const LayerShape& s) {
  auto bad = [&](const std::string& what) {
    throw InputError("", 0, "layer '" + clip_text(s.name) + "'", what);
  };
  if (s.in_c < 1 || s.in_h < 1 || s.in_w < 1 || s.out_c < 1) bad("sizes must be positive");
  if (s.kh < 1 || s.kw < 1 || s.sh < 1 || s.sw < 1) bad("kernel and stride must be positive");
  if (s.ph < 0 || s.pw < 0) bad("padding must not be negative");
  if (s.groups < 1 || s.in_c % s.groups != 0 || s.out_c % s.groups != 0)
    bad("groups must divide the input and output channels");
  if (s.in_h + 2 * s.ph < s.kh || s.in_w + 2 * s.pw < s.kw) bad("kernel larger than the input");
  const std::string big = layer_size_problem(s);
  if (!big.empty()) bad(big);
}

// Input activations: a ReLU-like distribution, half zeros and an exponential tail, drawn through
// a 4096-entry quantile table so that its mean and variance are known exactly for calibration.
struct ActDist {
  std::array<uint16_t, 4096> table;
  double mean = 0, var = 0;
  explicit ActDist(int act_bits) {
    const double top = double((1 << act_bits) - 1);
    const double tail_mean = std::max(1.0, top / 6.0);
    double s1 = 0, s2 = 0;
    for (int i = 0; i < 4096; ++i) {
      double v = 0;
      if (i >= 2048) {
        const double u = (i - 2048 + 0.5) / 2048.0;
        v = std::min(top, std::round(1.0 - tail_mean * std::log1p(-u)));
      }
      table[i] = uint16_t(v);
      s1 += v;
      s2 += v * v;
    }
    mean = s1 / 4096;
    var = s2 / 4096 - mean * mean;
  }
};

void fill_inputs(Rng& rng, const ActDist& d, std::vector<uint16_t>& out) {
  size_t i = 0;
  const size_t n = out.size();
  while (i < n) {
    uint64_t r = rng.next();
    for (int j = 0; j < 5 && i < n; ++j, r >>= 12) out[i++] = d.table[r & 0xFFF];
  }
}

// A counter-based stream: the value for index i is a hash of (key, i), so a fill loop has no
// carried state and vectorizes (64-bit multiplies), and any element can be regenerated alone.
inline uint64_t hash64(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// The row generators, once per instruction-set variant (models/kernels/isa.h).
#define MSQ_KERNEL_FILE "models/kernels/workload_fill.inc"
#include "models/kernels/variants.inc"

// Rows are a per-layer mix of heavy-tailed bell rows (SP2's levels crowd near zero, where these
// weights are) and uniform rows (fixed point's even grid fits them), each with its own scale.
void fill_weights(Rng& rng, int64_t M, int64_t K, float* w) {
  const double p_bell = 0.25 + 0.5 * rng.uniform();
  [[maybe_unused]] const kernels::Isa isa = kernels::active_isa();
  for (int64_t m = 0; m < M; ++m) {
    const bool bell = rng.uniform() < p_bell;
    const double sd = 0.01 + 0.04 * rng.uniform();
    const uint64_t key = rng.next();
    void (*fill)(uint64_t, int64_t, double, float*) = bell ? scalar::fill_bell : scalar::fill_flat;
#if MSQ_ISA_X86
    if (isa >= kernels::Isa::Avx512)
      fill = bell ? avx512::fill_bell : avx512::fill_flat;
    else if (isa == kernels::Isa::Avx2)
      fill = bell ? avx2::fill_bell : avx2::fill_flat;
#endif
    fill(key, K, sd, w + m * K);
  }
}

// Requantization constants for one row: acc = bias + sum_k w_k x_k with x iid from `d` has mean
// bias + mu * S1 and standard deviation sigma * sqrt(S2). The bias puts the mean at a quarter
// sigma above zero, so about 40% of outputs fall to the ReLU; mean + 3 sigma maps to the top code.
void calibrate_row(const int32_t* w, int64_t K, const ActDist& d, int act_bits, int32_t& bias,
                   int32_t& mult, int8_t& shift) {
  int64_t s1 = 0, s2 = 0;  // exact: |w| <= 2^15 and K < 2^20 keep s2 below 2^50
  kernels::sum_and_squares(w, K, s1, s2);
  const double sd = std::sqrt(d.var * double(s2));
  if (sd == 0.0) {
    bias = 0;
    mult = 0;
    shift = 1;
    return;
  }
  constexpr double kMeanSd = 0.25, kTopSd = 3.0;
  const double b = std::round(kMeanSd * sd - d.mean * double(s1));
  bias = int32_t(std::clamp(b, double(INT32_MIN), double(INT32_MAX)));
  const double scale = double((1 << act_bits) - 1) / ((kMeanSd + kTopSd) * sd);
  // 23 bits of multiplier are plenty; the shift stays low enough that acc * M, about
  // y * 2^S, keeps 4 bits of headroom in int64 for outliers.
  int e = 0;
  std::frexp(scale, &e);  // scale = f * 2^e, f in [0.5, 1)
  const int s_max = std::min(62, 62 - act_bits - 4);
  const int s = std::clamp(23 - e, 1, s_max);
  const double m = std::round(std::ldexp(scale, s));
  mult = int32_t(std::min(m, double(INT32_MAX)));
  shift = int8_t(s);
}

}  // namespace

std::string layer_size_problem(const LayerShape& s) {
  const uint64_t b = uint64_t(std::max(s.batch, 1));
  const uint64_t in = mul_sat(b, product({s.in_c, s.in_h, s.in_w}));
  const uint64_t out = mul_sat(b, product({s.out_c, s.out_h(), s.out_w()}));
  const uint64_t k = product({s.groups > 0 ? s.in_c / s.groups : s.in_c, s.kh, s.kw});
  const uint64_t w = mul_sat(uint64_t(std::max(s.out_c, 0)), k);
  const uint64_t macs = mul_sat(w, mul_sat(b, product({s.out_h(), s.out_w()})));
  const auto text = [](uint64_t v) {
    return v == UINT64_MAX ? std::string("more than 2^64") : std::to_string(v);
  };
  const uint64_t emax = uint64_t(kMaxLayerElements);
  if (in > emax)
    return "expected at most 2^40 input values (got " + text(in) + " at batch " +
           std::to_string(b) + ")";
  if (out > emax)
    return "expected at most 2^40 output values (got " + text(out) + " at batch " +
           std::to_string(b) + ")";
  if (w > emax) return "expected at most 2^40 weights (got " + text(w) + ")";
  if (macs > uint64_t(kMaxLayerMacs))
    return "expected at most 2^50 multiply-accumulates (got " + text(macs) + " at batch " +
           std::to_string(b) + ")";
  return "";
}

ActTensor synthetic_input(uint64_t seed, int b, int c, int h, int w, int act_bits) {
  ActTensor in;
  in.b = b, in.c = c, in.h = h, in.w = w;
  in.data.resize(in.size());
  // An index no layer has, so that the input is not any layer's own input.
  Rng rng(layer_seed(seed, size_t(1) << 40));
  fill_inputs(rng, ActDist(act_bits), in.data);
  return in;
}

Workload build_workload(const std::string& name, const std::vector<LayerShape>& shapes,
                        const WorkloadConfig& w, const AccumulatorConfig& acc, bool with_values) {
  if (w.act_bits < 1 || w.act_bits > 16)
    throw std::invalid_argument("act_bits must be 1..16, got " + std::to_string(w.act_bits));
  if (acc.bits < 8 || acc.bits > 64)
    throw std::invalid_argument("accumulator bits must be 8..64, got " + std::to_string(acc.bits));
  if (w.batch < 1) throw std::invalid_argument("batch must be at least 1");
  // Fail on the fractions before any work, whatever the layers.
  scheme_counts(1, w.sp2_fraction, w.fixed8_fraction);

  std::vector<char> selected(shapes.size(), w.layers.empty() ? 1 : 0);
  if (!w.layers.empty()) {
    std::unordered_map<std::string, size_t> index;
    for (size_t i = 0; i < shapes.size(); ++i) index.emplace(shapes[i].name, i);
    for (const std::string& n : w.layers) {
      const auto it = index.find(n);
      if (it == index.end())
        throw InputError("", 0, "workload.layers", "no layer named '" + clip_text(n) + "'");
      selected[it->second] = 1;
    }
  }
  for (const auto* per : {&w.sp2_fraction_per_layer, &w.fixed8_fraction_per_layer})
    for (const auto& kv : *per)
      if (std::none_of(shapes.begin(), shapes.end(),
                       [&](const LayerShape& s) { return s.name == kv.first; }))
        throw InputError(
            "", 0,
            std::string(per == &w.sp2_fraction_per_layer ? "workload.sp2_fraction_per_layer."
                                                         : "workload.fixed8_fraction_per_layer.") +
                clip_text(kv.first),
            "no layer named '" + clip_text(kv.first) + "' in the network");
  for (size_t i = 0; i < shapes.size(); ++i)
    if (selected[i]) {
      LayerShape sh = shapes[i];
      sh.batch = w.batch;
      check_shape(sh);
    }

  Workload wl;
  wl.name = name;
  const ActDist dist(w.act_bits);
  std::vector<float> fw;
  for (size_t i = 0; i < shapes.size(); ++i) {
    if (!selected[i]) continue;
    QuantLayer L;
    L.shape = shapes[i];
    L.shape.batch = w.batch;
    L.act_bits = w.act_bits;
    L.acc_bits = acc.bits;
    L.overflow = acc.overflow;
    L.output = (w.last_layer_accumulators && i + 1 == shapes.size()) ? OutputKind::Accumulators
                                                                     : OutputKind::Activations;
    const int64_t M = L.shape.m(), K = L.shape.k();
    const auto own_sp2 = w.sp2_fraction_per_layer.find(L.shape.name);
    const auto own_f8 = w.fixed8_fraction_per_layer.find(L.shape.name);
    const double sp2 = own_sp2 != w.sp2_fraction_per_layer.end() ? own_sp2->second : w.sp2_fraction;
    const double f8 =
        own_f8 != w.fixed8_fraction_per_layer.end() ? own_f8->second : w.fixed8_fraction;
    ActTensor in;
    in.b = L.shape.batch;
    in.c = L.shape.in_c;
    in.h = L.shape.in_h;
    in.w = L.shape.in_w;
    if (!with_values) {
      assign_schemes_by_count(M, sp2, f8, w.weight_bits, L.scheme, L.bits);
    } else {
      Rng rng(layer_seed(w.seed, i));
      fw.resize(size_t(M) * K);
      fill_weights(rng, M, K, fw.data());
      QuantizedMatrix q = quantize_matrix(fw.data(), M, K, sp2, f8, w.weight_bits);
      L.weights = std::move(q.weights);
      L.scheme = std::move(q.scheme);
      L.bits = std::move(q.bits);
      L.rel_err_sp2 = q.rel_err_sp2;
      L.rel_err_fixed = q.rel_err_fixed;
      L.bias.resize(M);
      L.rq_mult.resize(M);
      L.rq_shift.resize(M);
      for (int64_t m = 0; m < M; ++m)
        calibrate_row(L.row(m), K, dist, w.act_bits, L.bias[m], L.rq_mult[m], L.rq_shift[m]);
      in.data.resize(in.size());
      fill_inputs(rng, dist, in.data);
    }
    wl.layers.push_back(std::move(L));
    wl.inputs.push_back(std::move(in));
  }
  return wl;
}

}  // namespace msq
