#include "models/functional_model.h"

#if defined(__AVX512VNNI__) && defined(__AVX512BW__)
#include <immintrin.h>
#define MSQ_FUNCTIONAL_VNNI 1
#endif

#include <fmt/format.h>

#include <algorithm>
#include <type_traits>
#include <vector>

#include "models/error.h"

namespace msq {
namespace {

// The accumulator's range and what it does at the edges. Values outside [lo, hi] are the exact
// results of additions, which need more than 64 bits when acc_bits is 64: hence int128.
struct AccRange {
  int bits;
  int64_t lo, hi;
  Overflow mode;

  explicit AccRange(int b, Overflow m)
      : bits(b),
        lo(b == 64 ? INT64_MIN : -(int64_t(1) << (b - 1))),
        hi(b == 64 ? INT64_MAX : (int64_t(1) << (b - 1)) - 1),
        mode(m) {}

  int64_t fit(__int128 v, uint64_t& overflows) const {
    if (v >= lo && v <= hi) return int64_t(v);
    ++overflows;
    if (mode == Overflow::Saturate) return v < lo ? lo : hi;
    // Keep the low `bits` bits and sign-extend from the top one: two's complement wrap.
    const int sh = 64 - bits;
    return int64_t(uint64_t(v) << sh) >> sh;
  }
};

// The int64 product wraps like the hardware's 64-bit multiplier would: compute it unsigned.
inline int64_t requantize(int64_t acc, int32_t mult, int shift, int64_t ymax) {
  const uint64_t p = uint64_t(acc) * uint64_t(uint32_t(mult)) + (uint64_t(1) << (shift - 1));
  const int64_t y = int64_t(p) >> shift;
  return y < 0 ? 0 : (y > ymax ? ymax : y);
}

// Output columns per block: the accumulators of a block stay in L1 and the block's slice of the
// im2col buffer (K x kBlockN) in L2, so every row of a group re-reads it from L2, not DRAM.
constexpr int64_t kBlockN = 512;
// Rows that share one pass over a slice of X.
constexpr int kRowsPerPass = 4;
// Distance between the accumulator arrays of a pass; not a multiple of 4 KiB, so that loads from
// one array do not falsely wait on stores to another (4K aliasing).
constexpr int64_t kAccStride = kBlockN + 16;

struct Geometry {
  int64_t B, C, H, W, M, G, cg, mg, kh, kw, sh, sw, ph, pw, OH, OW, OHW, K, N;
};

class Runner {
 public:
  Runner(const QuantLayer& l, const ActTensor& in, const Geometry& g)
      : l_(l), in_(in), g_(g), range_(l.acc_bits, l.overflow) {
    ymax_ = (int64_t(1) << l.act_bits) - 1;
  }

  FunctionalResult run() {
    FunctionalResult r;
    r.out.b = int(g_.B);
    r.out.c = int(g_.M);
    r.out.h = int(g_.OH);
    r.out.w = int(g_.OW);
    r.out.data.assign(r.out.size(), 0);
    out_ = r.out.data.data();
    max_x_ = 0;
    for (uint16_t v : in_.data) max_x_ = std::max<int64_t>(max_x_, v);
    // X holds codes below 2^act_bits (checked by the caller): the narrowest type halves the
    // bytes streamed per MAC when activations are 8-bit.
    if (l_.act_bits <= 8)
      run_typed<uint8_t>();
    else
      run_typed<uint16_t>();
    r.overflows = overflows_;
    return r;
  }

 private:
  template <class T>
  void run_typed() {
    max_abs_w_.assign(size_t(g_.M), 0);
    std::vector<T> X(size_t(g_.K * g_.N));
    for (int64_t grp = 0; grp < g_.G; ++grp) {
      im2col(grp, X.data());
      // Split the group's rows by path: rows whose partial sums provably stay in range (any order
      // of additions gives the same result then) take the vector loop, the rest the checked one.
      std::vector<int64_t> fast32, fast64, checked;
      std::vector<int64_t> bias0(size_t(g_.mg));
      for (int64_t r = 0; r < g_.mg; ++r) {
        const int64_t m = grp * g_.mg + r;
        // Loading the bias is an addition to zero; at acc_bits < 32 it may already overflow, and
        // every column starts from it, so it counts once per column.
        uint64_t bias_ovf = 0;
        const int64_t b0 = range_.fit(l_.bias[size_t(m)], bias_ovf);
        overflows_ += bias_ovf * uint64_t(g_.N);
        bias0[size_t(r)] = b0;
        const int32_t* w = l_.row(m);
        // int64 partial sums over runs of 2^31 weights (|w| <= 2^31) vectorize; int128 ones do
        // not.
        __int128 sum_abs = 0;
        int64_t max_abs = 0;
        for (int64_t k0 = 0; k0 < g_.K; k0 += int64_t(1) << 31) {
          const int64_t k1 = std::min(g_.K, k0 + (int64_t(1) << 31));
          int64_t part = 0;
          for (int64_t k = k0; k < k1; ++k) {
            const int64_t a = w[k] < 0 ? -int64_t(w[k]) : w[k];
            part += a;
            max_abs = std::max(max_abs, a);
          }
          sum_abs += part;
        }
        max_abs_w_[size_t(m)] = max_abs;
        const __int128 bound = (b0 < 0 ? -__int128(b0) : __int128(b0)) + sum_abs * max_x_;
        if (bound <= INT32_MAX && bound <= range_.hi)
          fast32.push_back(r);
        else if (bound <= range_.hi)
          fast64.push_back(r);
        else
          checked.push_back(r);
      }
#ifdef MSQ_FUNCTIONAL_VNNI
      // 8-bit activations and int8 weights: 4-way dot products (vpdpbusd) over k, from X
      // regrouped in quads of k. Exact for the fast rows: no partial sum leaves int32.
      std::vector<uint32_t> X4;
      std::vector<int32_t> W4;
      int64_t npad = 0;
      if constexpr (std::is_same_v<T, uint8_t>) {
        quads(X.data(), X4, npad);
        W4.assign(size_t(g_.mg) * size_t(k4()), 0);
        for (int64_t r : fast32) {
          const int32_t* w = l_.row(grp * g_.mg + r);
          int8_t* dst = reinterpret_cast<int8_t*>(W4.data() + r * k4());
          for (int64_t k = 0; k < g_.K; ++k) dst[k] = int8_t(w[k]);
        }
      }
#endif
      std::vector<int32_t> acc32(static_cast<size_t>(kRowsPerPass * kAccStride));
      std::vector<int64_t> acc64(static_cast<size_t>(kBlockN));
      for (int64_t n0 = 0; n0 < g_.N; n0 += kBlockN) {
        const int64_t nb = std::min(kBlockN, g_.N - n0);
        const T* Xb = X.data() + n0;
        for (size_t i = 0; i < fast32.size(); i += kRowsPerPass) {
          const int rows = int(std::min<size_t>(kRowsPerPass, fast32.size() - i));
          int64_t ms[kRowsPerPass];
          for (int j = 0; j < rows; ++j) ms[j] = grp * g_.mg + fast32[i + size_t(j)];
          for (int j = 0; j < rows; ++j) {
            std::fill_n(acc32.data() + j * kAccStride, nb,
                        int32_t(bias0[size_t(fast32[i + size_t(j)])]));
          }
#ifdef MSQ_FUNCTIONAL_VNNI
          if constexpr (std::is_same_v<T, uint8_t>) {
            int64_t max_w = 0;
            for (int j = 0; j < rows; ++j) max_w = std::max(max_w, max_abs_w_[size_t(ms[j])]);
            if (rows == kRowsPerPass && max_w <= 127) {
              const int32_t* w4[kRowsPerPass];
              for (int j = 0; j < rows; ++j) w4[j] = W4.data() + fast32[i + size_t(j)] * k4();
              vnni_rows4(w4, X4.data(), npad, n0, nb, acc32.data());
              for (int j = 0; j < rows; ++j) store(ms[j], n0, nb, acc32.data() + j * kAccStride);
              continue;
            }
          }
#endif
          fast_rows<T, int32_t>(ms, rows, Xb, nb, acc32.data());
          for (int j = 0; j < rows; ++j) store(ms[j], n0, nb, acc32.data() + j * kAccStride);
        }
        for (int64_t r : fast64) {
          const int64_t m = grp * g_.mg + r;
          std::fill_n(acc64.data(), nb, bias0[size_t(r)]);
          fast_rows<T, int64_t>(&m, 1, Xb, nb, acc64.data());
          store(m, n0, nb, acc64.data());
        }
        for (int64_t r : checked) {
          const int64_t m = grp * g_.mg + r;
          std::fill_n(acc64.data(), nb, bias0[size_t(r)]);
          checked_row(m, Xb, nb, acc64.data());
          store(m, n0, nb, acc64.data());
        }
      }
    }
  }

  // X[k][n] for the group's input channels, k = (c*kh + i)*kw + j, n = (b*OH + oh)*OW + ow; taps
  // in the padding read 0.
  template <class T>
  void im2col(int64_t grp, T* X) const {
    const uint16_t* in = in_.data.data();
    for (int64_t c = 0; c < g_.cg; ++c)
      for (int64_t i = 0; i < g_.kh; ++i)
        for (int64_t j = 0; j < g_.kw; ++j) {
          T* row = X + ((c * g_.kh + i) * g_.kw + j) * g_.N;
          // The columns ow whose tap iw = ow * sw - pw + j lies inside the row: [lo, hi).
          const int64_t a = g_.pw - j, z = g_.W + g_.pw - j - 1;
          const int64_t lo = std::min(g_.OW, a <= 0 ? int64_t(0) : (a + g_.sw - 1) / g_.sw);
          const int64_t hi = std::max(lo, std::min(g_.OW, z < 0 ? int64_t(0) : z / g_.sw + 1));
          for (int64_t b = 0; b < g_.B; ++b)
            for (int64_t oh = 0; oh < g_.OH; ++oh) {
              T* dst = row + (b * g_.OH + oh) * g_.OW;
              const int64_t ih = oh * g_.sh - g_.ph + i;
              if (ih < 0 || ih >= g_.H) {
                std::fill_n(dst, g_.OW, T(0));
                continue;
              }
              const uint16_t* src =
                  in + ((b * g_.C + grp * g_.cg + c) * g_.H + ih) * g_.W + lo * g_.sw - g_.pw + j;
              std::fill(dst, dst + lo, T(0));
              if (g_.sw == 1)
                for (int64_t ow = lo; ow < hi; ++ow) dst[ow] = T(src[ow - lo]);
              else
                for (int64_t ow = lo; ow < hi; ++ow) dst[ow] = T(src[(ow - lo) * g_.sw]);
              std::fill(dst + hi, dst + g_.OW, T(0));
            }
        }
  }

  // No partial sum can leave the range (checked by the caller), so plain adds in any order are
  // exact. The rows of a pass share each slice of X while it is in L1.
  template <class T, class A>
  void fast_rows(const int64_t* ms, int rows, const T* Xb, int64_t nb, A* acc) const {
    if (rows == kRowsPerPass) {
      int64_t max_w = 0;
      for (int j = 0; j < rows; ++j) max_w = std::max(max_w, max_abs_w_[size_t(ms[j])]);
      // Products that fit int16 vectorize as 16-bit multiplies, twice the lanes of 32-bit ones.
      if (max_w * max_x_ <= INT16_MAX)
        fast_rows4<T, A, int16_t>(ms, Xb, nb, acc);
      else
        fast_rows4<T, A, A>(ms, Xb, nb, acc);
      return;
    }
    for (int j = 0; j < rows; ++j) {
      const int32_t* w = l_.row(ms[j]);
      A* __restrict a = acc + j * kAccStride;
      for (int64_t k = 0; k < g_.K; ++k) {
        const A wk = w[k];
        if (wk == 0) continue;
        const T* __restrict x = Xb + k * g_.N;
        for (int64_t n = 0; n < nb; ++n) a[n] += wk * A(x[n]);
      }
    }
  }

  template <class T, class A, class P>
  void fast_rows4(const int64_t* ms, const T* Xb, int64_t nb, A* acc) const {
    const int32_t* w0 = l_.row(ms[0]);
    const int32_t* w1 = l_.row(ms[1]);
    const int32_t* w2 = l_.row(ms[2]);
    const int32_t* w3 = l_.row(ms[3]);
    A* __restrict a0 = acc;
    A* __restrict a1 = acc + kAccStride;
    A* __restrict a2 = acc + 2 * kAccStride;
    A* __restrict a3 = acc + 3 * kAccStride;
    for (int64_t k = 0; k < g_.K; ++k) {
      const P v0 = P(w0[k]), v1 = P(w1[k]), v2 = P(w2[k]), v3 = P(w3[k]);
      if ((v0 | v1 | v2 | v3) == 0) continue;
      const T* __restrict x = Xb + k * g_.N;
      for (int64_t n = 0; n < nb; ++n) {
        const P xn = P(x[n]);
        a0[n] += P(v0 * xn);
        a1[n] += P(v1 * xn);
        a2[n] += P(v2 * xn);
        a3[n] += P(v3 * xn);
      }
    }
  }

#ifdef MSQ_FUNCTIONAL_VNNI
  int64_t k4() const {
    return (g_.K + 3) / 4;
  }

  // X4[kq][n] holds X[4 kq + i][n] in byte i: four consecutive k of a column in one 32-bit lane;
  // zero past K and N (npad columns, a multiple of 64).
  void quads(const uint8_t* X, std::vector<uint32_t>& X4, int64_t& npad) const {
    npad = (g_.N + 63) / 64 * 64;
    X4.resize(size_t(k4() * npad));
    const std::vector<uint8_t> zeros(size_t(g_.N), 0);
    for (int64_t kq = 0; kq < k4(); ++kq) {
      const uint8_t* r[4];
      for (int64_t i = 0; i < 4; ++i)
        r[i] = 4 * kq + i < g_.K ? X + (4 * kq + i) * g_.N : zeros.data();
      uint32_t* __restrict dst = X4.data() + kq * npad;
      for (int64_t n = 0; n < g_.N; ++n)
        dst[n] = uint32_t(r[0][n]) | uint32_t(r[1][n]) << 8 | uint32_t(r[2][n]) << 16 |
                 uint32_t(r[3][n]) << 24;
      std::fill(dst + g_.N, dst + npad, 0u);
    }
  }

  // Four rows over columns [n0, n0 + nb): sum over k of u8 x s8, four k per instruction, added to
  // the accumulators (which hold the bias).
  void vnni_rows4(const int32_t* const* w4, const uint32_t* X4, int64_t npad, int64_t n0,
                  int64_t nb, int32_t* acc) const {
    const int64_t K4 = k4();
    for (int64_t c = 0; c < nb; c += 64) {
      __m512i s[kRowsPerPass][4];
      for (auto& row : s)
        for (auto& v : row) v = _mm512_setzero_si512();
      for (int64_t kq = 0; kq < K4; ++kq) {
        const uint32_t* x = X4 + kq * npad + n0 + c;
        __m512i xv[4];
        for (int j = 0; j < 4; ++j) xv[j] = _mm512_loadu_si512(x + 16 * j);
        for (int r = 0; r < kRowsPerPass; ++r) {
          const __m512i w = _mm512_set1_epi32(w4[r][kq]);
          for (int j = 0; j < 4; ++j) s[r][j] = _mm512_dpbusd_epi32(s[r][j], xv[j], w);
        }
      }
      for (int j = 0; j < 4 && c + 16 * j < nb; ++j) {
        const int64_t base = c + 16 * j, left = nb - base;
        const __mmask16 in = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1);
        for (int r = 0; r < kRowsPerPass; ++r) {
          int32_t* a = acc + r * kAccStride + base;
          _mm512_mask_storeu_epi32(a, in,
                                   _mm512_add_epi32(_mm512_maskz_loadu_epi32(in, a), s[r][j]));
        }
      }
    }
  }
#endif

  // Exact per-addition semantics in ascending k for every column.
  template <class T>
  void checked_row(int64_t m, const T* Xb, int64_t nb, int64_t* acc) {
    const int32_t* w = l_.row(m);
    for (int64_t k = 0; k < g_.K; ++k) {
      const int64_t wk = w[k];
      if (wk == 0) continue;  // adding 0 to an in-range value neither changes nor overflows it
      const T* x = Xb + k * g_.N;
      for (int64_t n = 0; n < nb; ++n)
        acc[n] = range_.fit(__int128(acc[n]) + wk * x[n], overflows_);
    }
  }

  // Columns n0 .. n0 + nb - 1 of row m, one image's run of pixels at a time.
  template <class A>
  void store(int64_t m, int64_t n0, int64_t nb, const A* acc) {
    const bool raw = l_.output == OutputKind::Accumulators;
    const int32_t mult = l_.rq_mult[size_t(m)];
    const int shift = l_.rq_shift[size_t(m)];
    const int64_t ymax = ymax_;
    int64_t b = n0 / g_.OHW, p = n0 - b * g_.OHW;
    for (int64_t i = 0; i < nb; p = 0, ++b) {
      const int64_t len = std::min(nb - i, g_.OHW - p);
      int64_t* __restrict dst = out_ + (b * g_.M + m) * g_.OHW + p;
      const A* __restrict src = acc + i;
      if (raw)
        for (int64_t j = 0; j < len; ++j) dst[j] = src[j];
      else
        for (int64_t j = 0; j < len; ++j) dst[j] = requantize(src[j], mult, shift, ymax);
      i += len;
    }
  }

  const QuantLayer& l_;
  const ActTensor& in_;
  const Geometry g_;
  const AccRange range_;
  int64_t ymax_ = 0, max_x_ = 0;
  int64_t* out_ = nullptr;
  std::vector<int64_t> max_abs_w_;  // per row
  uint64_t overflows_ = 0;
};

[[noreturn]] void bad(const QuantLayer& l, const std::string& what) {
  throw InputError(input_error_text("functional model", 0, "layer '" + l.shape.name + "'", what));
}

}  // namespace

FunctionalResult run_functional(const QuantLayer& l, const ActTensor& in) {
  const LayerShape& s = l.shape;
  if (s.batch < 1 || s.in_c < 1 || s.in_h < 1 || s.in_w < 1 || s.out_c < 1 || s.kh < 1 ||
      s.kw < 1 || s.sh < 1 || s.sw < 1 || s.ph < 0 || s.pw < 0 || s.groups < 1)
    bad(l, "shape has a non-positive size, stride or group count, or a negative padding");
  if (s.in_c % s.groups || s.out_c % s.groups)
    bad(l, fmt::format("groups {} must divide in_c {} and out_c {}", s.groups, s.in_c, s.out_c));
  if (s.in_h + 2 * s.ph < s.kh || s.in_w + 2 * s.pw < s.kw)
    bad(l, fmt::format("kernel {}x{} is larger than the padded input {}x{}", s.kh, s.kw,
                       s.in_h + 2 * s.ph, s.in_w + 2 * s.pw));
  if (l.act_bits < 1 || l.act_bits > 16)
    bad(l, fmt::format("act_bits {} not in 1..16", l.act_bits));
  if (l.acc_bits < 2 || l.acc_bits > 64)
    bad(l, fmt::format("acc_bits {} not in 2..64", l.acc_bits));
  if (in.b != s.batch || in.c != s.in_c || in.h != s.in_h || in.w != s.in_w ||
      in.data.size() != in.size())
    bad(l, fmt::format("input is [{}, {}, {}, {}] ({} values), the layer expects [{}, {}, {}, {}]",
                       in.b, in.c, in.h, in.w, in.data.size(), s.batch, s.in_c, s.in_h, s.in_w));
  const size_t M = size_t(s.m());
  if (l.weights.size() != M * size_t(s.k()))
    bad(l, fmt::format("weights hold {} values, expected M*K = {}*{}", l.weights.size(), M, s.k()));
  if (l.bias.size() != M || l.rq_mult.size() != M || l.rq_shift.size() != M)
    bad(l, fmt::format("bias, requant_mult and requant_shift need {} entries each", M));
  for (size_t m = 0; m < M; ++m) {
    if (l.rq_mult[m] < 0)
      bad(l, fmt::format("row {}: requant_mult {} is negative", m, l.rq_mult[m]));
    if (l.rq_shift[m] < 1 || l.rq_shift[m] > 62)
      bad(l, fmt::format("row {}: requant_shift {} not in 1..62", m, l.rq_shift[m]));
  }
  const uint32_t limit = uint32_t(1) << l.act_bits;
  for (size_t i = 0; i < in.data.size(); ++i)
    if (in.data[i] >= limit)
      bad(l, fmt::format("input value {} at flat index {} is not below 2^{}", in.data[i], i,
                         l.act_bits));

  Geometry g;
  g.B = s.batch;
  g.C = s.in_c;
  g.H = s.in_h;
  g.W = s.in_w;
  g.M = s.out_c;
  g.G = s.groups;
  g.cg = s.in_c / s.groups;
  g.mg = s.out_c / s.groups;
  g.kh = s.kh;
  g.kw = s.kw;
  g.sh = s.sh;
  g.sw = s.sw;
  g.ph = s.ph;
  g.pw = s.pw;
  g.OH = s.out_h();
  g.OW = s.out_w();
  g.OHW = g.OH * g.OW;
  g.K = s.k();
  g.N = s.n();
  return Runner(l, in, g).run();
}

}  // namespace msq
