#include "models/quantizer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <string>

#include "models/arith/fixed_point.h"
#include "models/arith/sp2.h"
#include "models/kernels/isa.h"
#include "models/layer.h"

namespace msq {

namespace {

constexpr int kFixedHighBits = 8;

void check_fixed_bits(int bits) {
  if (bits < kFixedMinBits || bits > kFixedMaxBits)
    throw std::invalid_argument("fixed-point bit width must be 2..16, got " + std::to_string(bits));
}

void check_low_bits(int bits) {
  if (bits < 2 || bits > kFixedHighBits)
    throw std::invalid_argument("low-precision width must be 2..8, got " + std::to_string(bits));
}

// Round half away from zero without library calls (std::round is one, and GCC does not vectorize
// trunc): the int conversion truncates, and v - trunc(v) is exact, so the tie test is exact.
// |v| <= qmax < 2^15 fits the int.
inline int32_t fixed_code(double x, double qmax) {
  const double v = std::clamp(x * qmax, -qmax, qmax);
  const int32_t t = int32_t(v);
  const double r = v - double(t);
  return t + (r >= 0.5 ? 1 : 0) - (r <= -0.5 ? 1 : 0);
}

// Nearest SP2 magnitude of y = |x| * 2^F, two ways. Levels are integers, so the midpoints
// between neighbours are multiples of 1/2.
// - Few levels (3..5 bits, at most 8 midpoints): level = sum over midpoints of [y > mid] * (the
//   step to the next level). A tie (y == mid) adds nothing: it goes to the smaller magnitude.
//   Compares and adds vectorize; table gathers are slow (microcoded since the GDS mitigation).
// - Many levels (6..8 bits): with c = ceil(2y), every y in ((c-1)/2, c/2] has the same nearest
//   level, the right end included because a midpoint there ties to the level on its left.
constexpr int kSmallMids = 8;

class Sp2Table {
 public:
  explicit Sp2Table(int bits) : f_(bits), scale_(double(int64_t(1) << f_.F)) {
    std::vector<int32_t> mags;
    for (int32_t v : sp2_levels(f_))
      if (v >= 0) mags.push_back(v);
    small_ = mags.size() - 1 <= size_t(kSmallMids);
    for (int j = 0; j < kSmallMids; ++j) {
      const bool real = size_t(j) + 1 < mags.size();
      mid_[j] = real ? 0.5 * (mags[j] + mags[j + 1]) : 1e300;  // padding never exceeded
      step_[j] = real ? mags[j + 1] - mags[j] : 0;
    }
    const int n = 2 * f_.max_level() + 1;
    table_.resize(n);
    size_t i = 0;  // mags[i] is the nearest level to the interval's interior (c - 0.5) / 2
    for (int c = 0; c < n; ++c) {
      const double y = c == 0 ? 0.0 : (c - 0.5) / 2.0;
      while (i + 1 < mags.size() && std::fabs(mags[i + 1] - y) < std::fabs(mags[i] - y)) ++i;
      table_[c] = mags[i];
    }
  }
  bool small() const { return small_; }
  const double* mids() const { return mid_; }
  const int32_t* steps() const { return step_; }
  const int32_t* table() const { return table_.data(); }
  double scale() const { return scale_; }  // 2^F
  int32_t level(double x) const {
    return small_ ? by_mids(x, scale_, mid_, step_) : by_table(x, scale_, table_.data());
  }

  // Signed level for x = w / alpha; |x| > 1 gives the largest level.
  static inline int32_t by_mids(double x, double scale, const double* __restrict mid,
                                const int32_t* __restrict step) {
    const double y = std::fabs(x) * scale;
    int32_t m = 0;
    for (int j = 0; j < kSmallMids; ++j) m += y > mid[j] ? step[j] : 0;
    return x < 0 ? -m : m;
  }
  static inline int32_t by_table(double x, double scale, const int32_t* __restrict table) {
    const double y2 = std::min(std::fabs(x) * scale, scale) * 2.0;  // exact: powers of two
    const int t = int(y2);
    const int c = t + (double(t) < y2 ? 1 : 0);  // ceil without a library call
    const int32_t m = table[c];
    return x < 0 ? -m : m;
  }

 private:
  Sp2Format f_;
  double scale_;
  bool small_;
  double mid_[kSmallMids];
  int32_t step_[kSmallMids];
  std::vector<int32_t> table_;
};

// The SP2 lookup as the chunk loops take it: copied into locals so that GCC knows the code
// stores do not touch it.
struct Sp2Lut {
  double scale;
  const int32_t* table;
  double mid[kSmallMids];
  int32_t step[kSmallMids];
  explicit Sp2Lut(const Sp2Table& t) : scale(t.scale()), table(t.table()) {
    std::copy(t.mids(), t.mids() + kSmallMids, mid);
    std::copy(t.steps(), t.steps() + kSmallMids, step);
  }
  template <bool kSmall>
  int32_t level(double x) const {
    return kSmall ? Sp2Table::by_mids(x, scale, mid, step) : Sp2Table::by_table(x, scale, table);
  }
};

const Sp2Table& sp2_table(int bits) {
  // Built on first use: the 8-bit table has 2^16 entries that a 4-bit run never needs.
  static const Sp2Table t3(3), t4(4), t5(5);
  switch (bits) {
    case 3:
      return t3;
    case 4:
      return t4;
    case 5:
      return t5;
    case 6: {
      static const Sp2Table t(6);
      return t;
    }
    case 7: {
      static const Sp2Table t(7);
      return t;
    }
    case 8: {
      static const Sp2Table t(8);
      return t;
    }
    default:
      throw std::invalid_argument("SP2 bit width must be 3..8, got " + std::to_string(bits));
  }
}

struct RowScore {
  double alpha = 0, norm2 = 0, sse_fixed = 0, sse_sp2 = 0;
};

// The row loops, once per instruction-set variant (models/kernels/isa.h): AVX-512 vectorizes the
// float <-> int conversions that SSE2 does one at a time.
#define MSQ_KERNEL_FILE "models/kernels/quantizer_rows.inc"
#include "models/kernels/variants.inc"

// Scores one row at `bits` for fixed and, when t != nullptr, for SP2. Writes the fixed codes to
// qf when it is not null and appends them to `append` when that is not null; for a small SP2
// table writes the SP2 levels to qs when it is not null. Throws on non-finite weights.
RowScore score_row(const float* w, int64_t K, int bits, const Sp2Table* t, int32_t* qf,
                   std::vector<int32_t>* append = nullptr, int8_t* qs = nullptr) {
  switch (kernels::active_isa()) {
#if MSQ_ISA_X86
    case kernels::Isa::Avx512Vnni:
    case kernels::Isa::Avx512:
      return avx512::score_row(w, K, bits, t, qf, append, qs);
    case kernels::Isa::Avx2:
      return avx2::score_row(w, K, bits, t, qf, append, qs);
#endif
    default:
      return scalar::score_row(w, K, bits, t, qf, append, qs);
  }
}

void sp2_codes(const float* w, int64_t K, double alpha, const Sp2Table& t, int32_t* out) {
  switch (kernels::active_isa()) {
#if MSQ_ISA_X86
    case kernels::Isa::Avx512Vnni:
    case kernels::Isa::Avx512:
      return avx512::sp2_codes(w, K, alpha, t, out);
    case kernels::Isa::Avx2:
      return avx2::sp2_codes(w, K, alpha, t, out);
#endif
    default:
      return scalar::sp2_codes(w, K, alpha, t, out);
  }
}

// Marks the n best of `candidates` (by key descending, then index ascending) in `chosen`.
void pick_top(std::vector<int64_t>& candidates, const std::vector<double>& key, int64_t n,
              std::vector<char>& chosen) {
  if (n <= 0) return;
  auto better = [&](int64_t a, int64_t b) { return key[a] != key[b] ? key[a] > key[b] : a < b; };
  if (n < int64_t(candidates.size()))
    std::nth_element(candidates.begin(), candidates.begin() + (n - 1), candidates.end(), better);
  for (int64_t i = 0; i < n; ++i) chosen[candidates[i]] = 1;
}

}  // namespace

int32_t quantize_fixed(double w_over_alpha, int bits) {
  check_fixed_bits(bits);
  if (std::isnan(w_over_alpha)) throw std::invalid_argument("quantize_fixed: NaN");
  return fixed_code(w_over_alpha, fixed_max(bits));
}

int32_t quantize_sp2(double w_over_alpha, int bits) {
  const Sp2Table& t = sp2_table(bits);
  if (std::isnan(w_over_alpha)) throw std::invalid_argument("quantize_sp2: NaN");
  return t.level(w_over_alpha);
}

RowError row_error(const float* w, int64_t K, int low_bits) {
  check_fixed_bits(low_bits);
  const Sp2Table* t = low_bits >= 3 && low_bits <= 8 ? &sp2_table(low_bits) : nullptr;
  const RowScore s = score_row(w, K, low_bits, t, nullptr);
  return RowError{s.alpha, s.norm2, s.sse_fixed, s.sse_sp2};
}

SchemeCounts scheme_counts(int64_t M, double r, double f8) {
  if (M < 0) throw std::invalid_argument("scheme_counts: negative row count");
  if (!(r >= 0.0 && r <= 1.0) || !(f8 >= 0.0 && f8 <= 1.0))
    throw std::invalid_argument("sp2_fraction and fixed8_fraction must be in [0, 1]");
  if (r + f8 > 1.0 + 1e-9)
    throw std::invalid_argument("sp2_fraction + fixed8_fraction must not exceed 1, got " +
                                std::to_string(r) + " + " + std::to_string(f8));
  SchemeCounts c;
  c.fixed8 = std::min<int64_t>(M, std::llround(f8 * double(M)));
  c.sp2 = std::min<int64_t>(M - c.fixed8, std::llround(r * double(M)));
  c.fixed_low = M - c.fixed8 - c.sp2;
  return c;
}

QuantizedMatrix quantize_matrix(const float* w, int64_t M, int64_t K, double sp2_fraction,
                                double fixed8_fraction, int low_bits) {
  if (M < 0 || K < 1) throw std::invalid_argument("quantize_matrix: need M >= 0 and K >= 1");
  check_low_bits(low_bits);
  const SchemeCounts counts = scheme_counts(M, sp2_fraction, fixed8_fraction);
  if (counts.sp2 > 0 && low_bits < 3)
    throw std::invalid_argument("SP2 rows need at least 3 bits, got " + std::to_string(low_bits));
  const Sp2Table* table = low_bits >= 3 ? &sp2_table(low_bits) : nullptr;

  // Pass 1: score every row, appending the low-bit fixed codes and keeping the SP2 levels aside
  // as bytes when they fit (3..5 bits); pass 2 copies those, recodes wider SP2 rows and the 8-bit
  // rows. The byte buffer is reused across calls: a fresh one per layer costs page faults.
  QuantizedMatrix q;
  // Rows are appended rather than written into a resized vector: resize() would zero-fill up to
  // tens of megabytes only to overwrite them.
  q.weights.reserve(size_t(M) * K);
  q.scheme.assign(M, uint8_t(Scheme::Fixed));
  q.bits.assign(M, uint8_t(low_bits));
  q.alpha.resize(M);
  std::vector<RowScore> score(M);
  const bool keep_sp2 = table && table->small() && counts.sp2 > 0;
  thread_local std::vector<int8_t> sp2_small;
  if (keep_sp2 && sp2_small.size() < size_t(M) * K) sp2_small.resize(size_t(M) * K);
  for (int64_t m = 0; m < M; ++m) {
    score[m] = score_row(w + m * K, K, low_bits, table, nullptr, &q.weights,
                         keep_sp2 ? sp2_small.data() + m * K : nullptr);
    if (!table) score[m].sse_sp2 = score[m].sse_fixed;  // no SP2 alternative at 2 bits
    q.alpha[m] = score[m].alpha;
  }

  std::vector<char> is8(M, 0), is_sp2(M, 0);
  {
    std::vector<double> key(M);
    for (int64_t m = 0; m < M; ++m) key[m] = std::min(score[m].sse_fixed, score[m].sse_sp2);
    std::vector<int64_t> cand(M);
    std::iota(cand.begin(), cand.end(), 0);
    pick_top(cand, key, counts.fixed8, is8);
    for (int64_t m = 0; m < M; ++m) key[m] = score[m].sse_fixed - score[m].sse_sp2;
    cand.clear();
    for (int64_t m = 0; m < M; ++m)
      if (!is8[m]) cand.push_back(m);
    pick_top(cand, key, counts.sp2, is_sp2);
  }

  double err_sp2 = 0, nrm_sp2 = 0, err_fx = 0, nrm_fx = 0;
  int64_t rows_sp2 = 0;
  for (int64_t m = 0; m < M; ++m) {
    int32_t* out = q.weights.data() + m * K;
    if (is_sp2[m]) {
      q.scheme[m] = uint8_t(Scheme::Sp2);
      if (keep_sp2) {
        std::copy(sp2_small.data() + m * K, sp2_small.data() + (m + 1) * K, out);
      } else {
        sp2_codes(w + m * K, K, score[m].alpha, *table, out);
      }
      err_sp2 += score[m].sse_sp2;
      nrm_sp2 += score[m].norm2;
      ++rows_sp2;
    } else if (is8[m]) {
      q.bits[m] = uint8_t(kFixedHighBits);
      err_fx += score_row(w + m * K, K, kFixedHighBits, nullptr, out).sse_fixed;
      nrm_fx += score[m].norm2;
    } else {
      err_fx += score[m].sse_fixed;
      nrm_fx += score[m].norm2;
    }
  }
  auto rel = [](double e, double n) { return n > 0.0 ? e / n : 0.0; };
  if (rows_sp2 > 0) q.rel_err_sp2 = rel(err_sp2, nrm_sp2);
  if (rows_sp2 < M) q.rel_err_fixed = rel(err_fx, nrm_fx);
  return q;
}

void assign_schemes_by_count(int64_t M, double sp2_fraction, double fixed8_fraction, int low_bits,
                             std::vector<uint8_t>& scheme, std::vector<uint8_t>& bits) {
  check_low_bits(low_bits);
  const SchemeCounts c = scheme_counts(M, sp2_fraction, fixed8_fraction);
  if (c.sp2 > 0 && low_bits < 3)
    throw std::invalid_argument("SP2 rows need at least 3 bits, got " + std::to_string(low_bits));
  scheme.assign(M, uint8_t(Scheme::Fixed));
  bits.assign(M, uint8_t(low_bits));
  // Item i of `total` is picked when floor((i + 1) * n / total) steps: exactly n, evenly spaced.
  auto picked = [](int64_t i, int64_t n, int64_t total) {
    return (i + 1) * n / total != i * n / total;
  };
  int64_t rest = 0;
  const int64_t n_rest = M - c.sp2;
  for (int64_t m = 0; m < M; ++m) {
    if (picked(m, c.sp2, M)) {
      scheme[m] = uint8_t(Scheme::Sp2);
    } else {
      if (picked(rest, c.fixed8, n_rest)) bits[m] = uint8_t(kFixedHighBits);
      ++rest;
    }
  }
}

}  // namespace msq
