// Random quantized layers and a naive direct-convolution reference, for tests of the cycle model.
#pragma once

#include <random>
#include <string>

#include "models/arith/fixed_point.h"
#include "models/arith/sp2.h"
#include "models/layer.h"

namespace msq::testing {

struct RandomLayerSpec {
  LayerShape shape;
  double sp2_fraction = 0.5;
  double fixed8_fraction = 0.0;
  int bits = 4;
  int act_bits = 8;
  int acc_bits = 32;
  Overflow overflow = Overflow::Wrap;
  OutputKind output = OutputKind::Activations;
  int32_t bias_range = 2000;
};

inline QuantLayer random_layer(const RandomLayerSpec& sp, uint64_t seed) {
  std::mt19937_64 rng(seed);
  QuantLayer L;
  L.shape = sp.shape;
  L.act_bits = sp.act_bits;
  L.acc_bits = sp.acc_bits;
  L.overflow = sp.overflow;
  L.output = sp.output;
  const int64_t M = L.shape.m(), K = L.shape.k();
  const std::vector<int32_t> levels = sp2_levels(Sp2Format(sp.bits));
  L.weights.resize(size_t(M * K));
  for (int64_t m = 0; m < M; ++m) {
    const double u = double(m) / double(M);
    const bool sp2 = u < sp.sp2_fraction;
    const bool wide = !sp2 && u >= 1.0 - sp.fixed8_fraction;
    const int bits = wide ? 8 : sp.bits;
    L.scheme.push_back(uint8_t(sp2 ? Scheme::Sp2 : Scheme::Fixed));
    L.bits.push_back(uint8_t(bits));
    for (int64_t k = 0; k < K; ++k) {
      int32_t w;
      if (sp2) {
        w = levels[std::uniform_int_distribution<size_t>(0, levels.size() - 1)(rng)];
      } else {
        const int32_t mx = fixed_max(bits);
        w = std::uniform_int_distribution<int32_t>(-mx, mx)(rng);
      }
      L.weights[size_t(m * K + k)] = w;
    }
    L.bias.push_back(std::uniform_int_distribution<int32_t>(-sp.bias_range, sp.bias_range)(rng));
    L.rq_mult.push_back(std::uniform_int_distribution<int32_t>(1 << 14, 1 << 16)(rng));
    L.rq_shift.push_back(int8_t(std::uniform_int_distribution<int>(18, 24)(rng)));
  }
  return L;
}

inline ActTensor random_input(const LayerShape& s, int act_bits, uint64_t seed) {
  std::mt19937_64 rng(seed);
  ActTensor t;
  t.b = s.batch, t.c = s.in_c, t.h = s.in_h, t.w = s.in_w;
  t.data.resize(t.size());
  std::uniform_int_distribution<int> d(0, (1 << act_bits) - 1);
  for (auto& v : t.data) v = uint16_t(d(rng));
  return t;
}

// Direct convolution, one addition at a time into an exact wide sum that is then wrapped or
// saturated like the contract's accumulator; the test's own oracle.
inline OutTensor naive_conv(const QuantLayer& L, const ActTensor& in, uint64_t* overflows) {
  const LayerShape& s = L.shape;
  OutTensor o;
  o.b = s.batch, o.c = s.out_c, o.h = s.out_h(), o.w = s.out_w();
  o.data.resize(o.size());
  const __int128 lo = -(__int128(1) << (L.acc_bits - 1)),
                 hi = (__int128(1) << (L.acc_bits - 1)) - 1;
  auto step = [&](__int128 v) -> __int128 {
    if (v >= lo && v <= hi) return v;
    ++*overflows;
    if (L.overflow == Overflow::Saturate) return v < lo ? lo : hi;
    const __int128 mod = __int128(1) << L.acc_bits;
    __int128 r = ((v - lo) % mod + mod) % mod + lo;
    return r;
  };
  const int cg = s.in_c / s.groups, rpg = s.out_c / s.groups;
  for (int b = 0; b < s.batch; ++b)
    for (int m = 0; m < s.out_c; ++m)
      for (int oh = 0; oh < o.h; ++oh)
        for (int ow = 0; ow < o.w; ++ow) {
          __int128 acc = step(L.bias[m]);
          const int g = m / rpg;
          for (int c = 0; c < cg; ++c)
            for (int i = 0; i < s.kh; ++i)
              for (int j = 0; j < s.kw; ++j) {
                const int ih = oh * s.sh - s.ph + i, iw = ow * s.sw - s.pw + j;
                const int64_t x = (ih < 0 || ih >= s.in_h || iw < 0 || iw >= s.in_w)
                                      ? L.in_zero
                                      : in.at(b, g * cg + c, ih, iw);
                const int64_t w = L.weights[size_t(m) * s.k() + (size_t(c) * s.kh + i) * s.kw + j];
                acc = step(acc + __int128(w) * x);
              }
          int64_t y = int64_t(acc);
          if (L.output == OutputKind::Activations) {
            const uint64_t prod = uint64_t(y) * uint64_t(int64_t(L.rq_mult[m]));
            int64_t q = int64_t(prod + (uint64_t(1) << (L.rq_shift[m] - 1))) >> L.rq_shift[m];
            const int64_t hi = L.hi < 0 ? (int64_t(1) << L.act_bits) - 1 : L.hi;
            y = std::min<int64_t>(std::max<int64_t>(q + L.out_zero, L.lo), hi);
          }
          o.data[((size_t(b) * s.out_c + m) * o.h + oh) * o.w + ow] = y;
        }
  return o;
}

inline LayerShape conv(std::string name, int cin, int hw, int cout, int k, int stride, int pad,
                       int groups = 1, int batch = 1) {
  LayerShape s;
  s.name = std::move(name);
  s.in_c = cin, s.in_h = hw, s.in_w = hw, s.out_c = cout;
  s.kh = s.kw = k, s.sh = s.sw = stride, s.ph = s.pw = pad, s.groups = groups, s.batch = batch;
  return s;
}

}  // namespace msq::testing
