#include "models/lut_core.h"

#if defined(__AVX512BW__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <utility>

#include "models/arith/accumulator.h"

namespace msq {

namespace {
// One signed term of one k over a block of 64 columns, in 16-bit lanes.
constexpr int kTermBytes = 128;
// Scratch for vectors: a std::vector of __m512i would drop the type's alignment.
struct alignas(64) CacheLine {
  uint8_t bytes[64];
};
}  // namespace

LutCore::LutCore(sc_core::sc_module_name name, Fabric& fabric, Buffer& weights,
                 const LutCoreConfig& cfg)
    : ArrayCore(name, fabric, kLut, weights), cfg_(cfg) {}

int64_t LutCore::job_cycles(const LayerRun&, const RowBlock&, int64_t tn, int64_t tk) const {
  return lut_job_cycles(cfg_, tn, tk);
}

void LutCore::load_layer(const LayerRun& run) {
  const QuantLayer& L = *run.layer;
  const int64_t K = L.shape.k();
  codes_.assign(size_t(L.shape.m() * K), 0);
  row_acc_.assign(size_t(L.shape.m()), 0);
  row_chunk_.assign(size_t(L.shape.m()), 0);
  for (const RowBlock& b : run.plan.lut_blocks)
    for (int32_t m : b.rows) {
      const Sp2Format fmt(L.bits[m]);
      const int32_t top = fmt.max_level();
      if (decode_[fmt.bits].empty()) {
        // The weight buffer holds each weight's b-bit code word; the PE decodes it into shifter
        // controls. Built once per width: level -> code word, code word -> controls.
        decode_[fmt.bits].resize(size_t(1) << fmt.bits);
        encode_[fmt.bits].assign(size_t(2 * top + 1), 0);
        for (uint32_t word = 0; word < (uint32_t(1) << fmt.bits); ++word) {
          const Sp2Code c = sp2_unpack(fmt, word);
          Shifts& sh = decode_[fmt.bits][word];
          sh.s1 = c.e1 ? fmt.F - c.e1 : 0;
          sh.s2 = c.e2 ? fmt.F - c.e2 : 0;
          sh.en1 = c.e1 ? -1 : 0;
          sh.en2 = c.e2 ? -1 : 0;
          sh.neg = c.s ? -1 : 0;
          sh.c1 = c.e1 ? sh.s1 : 16;
          sh.c2 = c.e2 ? sh.s2 : 16;
          const int entries = fmt.e1_max() + 1;  // e2_max <= e1_max
          sh.o1 = uint16_t((c.s * entries + c.e1) * kTermBytes);
          sh.o2 = uint16_t((c.s * entries + c.e2) * kTermBytes);
        }
        for (int32_t w = -top; w <= top; ++w)
          if (sp2_is_level(fmt, w))
            encode_[fmt.bits][size_t(w + top)] = uint8_t(sp2_pack(fmt, sp2_encode(fmt, w)));
      }
      const int32_t* w = L.row(m);
      uint8_t* code = codes_.data() + int64_t(m) * K;
      const uint8_t* enc = encode_[fmt.bits].data();
      for (int64_t k = 0; k < K; ++k) code[k] = enc[w[k] + top];
      // Where no partial sum can leave the accumulator's range (the plan's bound), the finite
      // register and a wide one hold the same values.
      row_acc_[size_t(m)] = run.plan.row_sum_bits[size_t(m)];
      // Short runs of terms fit 16-bit lanes (twice the lanes per vector) when a term is small.
      const int64_t term = ((int64_t(1) << L.act_bits) - 1) * fmt.max_level();
      if (row_acc_[size_t(m)] == 32 && 32767 / term >= 4) row_acc_[size_t(m)] = 16;
      row_chunk_[size_t(m)] = int(32767 / term);
    }
}

namespace {

constexpr int64_t NB = InputTileValues::kNB;

// One row over one block of NB columns and all tk steps: the PE's shift, shift, add and
// accumulate, branch-free (the codes vary from k to k), with the sums kept in registers. Only used
// where no partial sum can overflow the row's register.
template <typename XT, typename AT>
void shift_add_block(const XT* X, int64_t tk, const uint8_t* code, const LutCore::Shifts* table,
                     AT* out) {
  AT s[NB] = {};
  for (int64_t k = 0; k < tk; ++k) {
    const XT* x = X + k * NB;
    const int s1 = table[code[k]].s1, s2 = table[code[k]].s2;
    const AT e1 = AT(table[code[k]].en1), e2 = AT(table[code[k]].en2), ng = AT(table[code[k]].neg);
    for (int64_t n = 0; n < NB; ++n) {
      const AT v = AT(x[n]);
      const AT p = ((v << s1) & e1) + ((v << s2) & e2);
      s[n] += (p ^ ng) - ng;
    }
  }
  for (int64_t n = 0; n < NB; ++n) out[n] = s[n];
}

// The same in 16-bit lanes: runs of at most `chunk` terms cannot leave int16, and each run's sum is
// widened into the 32-bit sums (exact: the row cannot overflow at all).
template <typename XT>
void shift_add_block16(const XT* X, int64_t tk, const uint8_t* code, const LutCore::Shifts* table,
                       int64_t chunk, int32_t* out) {
  int32_t s[NB] = {};
  for (int64_t k0 = 0; k0 < tk; k0 += chunk) {
    const int64_t k1 = std::min(tk, k0 + chunk);
    int16_t t[NB] = {};
    for (int64_t k = k0; k < k1; ++k) {
      const XT* x = X + k * NB;
      const int s1 = table[code[k]].s1, s2 = table[code[k]].s2;
      const int16_t e1 = int16_t(table[code[k]].en1), e2 = int16_t(table[code[k]].en2),
                    ng = int16_t(table[code[k]].neg);
      for (int64_t n = 0; n < NB; ++n) {
        const int16_t v = int16_t(x[n]);
        const int16_t p = int16_t((int16_t(v << s1) & e1) + (int16_t(v << s2) & e2));
        t[n] = int16_t(t[n] + int16_t((p ^ ng) - ng));
      }
    }
    for (int64_t n = 0; n < NB; ++n) s[n] += t[n];
  }
  for (int64_t n = 0; n < NB; ++n) out[n] = s[n];
}

#if defined(__AVX512BW__)
// GCC 12's own AVX-512 headers trip -Wmaybe-uninitialized on the widening conversions (a known
// false positive of that release).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// The same for 8-bit activations with explicit 16-bit shifts: C++ promotes a 16-bit shift to int,
// and the compiler then shifts in 32-bit lanes and repacks, at half the speed.
template <>
void shift_add_block16<uint8_t>(const uint8_t* X, int64_t tk, const uint8_t* code,
                                const LutCore::Shifts* table, int64_t chunk, int32_t* out) {
  static_assert(NB == 64, "two vectors of 32 16-bit lanes");
  __m512i s[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(),
                  _mm512_setzero_si512()};
  for (int64_t k0 = 0; k0 < tk; k0 += chunk) {
    const int64_t k1 = std::min(tk, k0 + chunk);
    __m512i t0 = _mm512_setzero_si512(), t1 = _mm512_setzero_si512();
    for (int64_t k = k0; k < k1; ++k) {
      const uint8_t* x = X + k * NB;
      const __m512i x0 =
          _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x)));
      const __m512i x1 =
          _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 32)));
      const LutCore::Shifts& sh = table[code[k]];
      // A 16-bit shift by 16 or more gives 0: a term that is off contributes nothing.
      const __m128i c1 = _mm_cvtsi32_si128(sh.c1), c2 = _mm_cvtsi32_si128(sh.c2);
      const __m512i p0 = _mm512_add_epi16(_mm512_sll_epi16(x0, c1), _mm512_sll_epi16(x0, c2));
      const __m512i p1 = _mm512_add_epi16(_mm512_sll_epi16(x1, c1), _mm512_sll_epi16(x1, c2));
      // The sign: the accumulator adds or subtracts the shifted sum.
      const __mmask32 neg = sh.neg ? ~__mmask32(0) : __mmask32(0);
      t0 = _mm512_mask_sub_epi16(_mm512_mask_add_epi16(t0, ~neg, t0, p0), neg, t0, p0);
      t1 = _mm512_mask_sub_epi16(_mm512_mask_add_epi16(t1, ~neg, t1, p1), neg, t1, p1);
    }
    s[0] = _mm512_add_epi32(s[0], _mm512_cvtepi16_epi32(_mm512_castsi512_si256(t0)));
    s[1] = _mm512_add_epi32(s[1], _mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(t0, 1)));
    s[2] = _mm512_add_epi32(s[2], _mm512_cvtepi16_epi32(_mm512_castsi512_si256(t1)));
    s[3] = _mm512_add_epi32(s[3], _mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(t1, 1)));
  }
  for (int i = 0; i < 4; ++i) _mm512_storeu_si512(out + 16 * i, s[i]);
}

// A column of the array broadcasts its activation to every PE of the column; each PE shifts it by
// its weight's two exponents, adds the two terms with the weight's sign and accumulates. What the
// shifters of a column can produce for one activation is the same for every row: the signed terms
// (-1)^s * (x << (F - e)), and 0 for a term that is off. They are formed once per (k, column) for
// all the rows that share the activations, and each PE's step is then its two terms added into
// its register. The arithmetic and the values are the PE's: 16-bit lanes over runs of at most
// `chunk` steps (no run can leave int16), each run widened into the 32-bit sums. sums holds nrows
// blocks of NB values.
constexpr int64_t kSharedRun = 32;  // k steps of terms kept at once (16 KiB: they stay in L1)

// kHalves: 2 for a whole block of NB columns, 1 when the tile's columns end in its first half.
template <int kHalves>
void shared_shift_rows(const uint8_t* X, int64_t tk, const Sp2Format& fmt,
                       const LutCore::Shifts* table, int64_t chunk, const uint8_t* const* codes,
                       int nrows, __m512i* sums) {
  static_assert(kTermBytes == 2 * sizeof(__m512i), "a term is two vectors of 32 16-bit lanes");
  const int entries = fmt.e1_max() + 1;
  const int64_t kstride = 2 * entries * kTermBytes;  // bytes of terms per k
  const int64_t run = std::min(chunk, kSharedRun);
  thread_local std::vector<CacheLine> terms;
  terms.resize(size_t(run * kstride) / sizeof(CacheLine));
  char* T = reinterpret_cast<char*>(terms.data());
  const __m512i zero = _mm512_setzero_si512();
  for (int i = 0; i < 4 * nrows; ++i) sums[i] = zero;
  for (int64_t k0 = 0; k0 < tk; k0 += run) {
    const int64_t n = std::min(run, tk - k0);
    for (int64_t k = 0; k < n; ++k) {
      const uint8_t* x = X + (k0 + k) * NB;
      __m512i* t = reinterpret_cast<__m512i*>(T + k * kstride);
      for (int h = 0; h < kHalves; ++h) {
        const __m512i xh =
            _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 32 * h)));
        t[h] = t[2 * entries + h] = zero;  // e = 0: the term is off
        for (int e = 1; e < entries; ++e) {
          const __m512i v = _mm512_sll_epi16(xh, _mm_cvtsi32_si128(fmt.F - e));
          t[2 * e + h] = v;
          t[2 * (entries + e) + h] = _mm512_sub_epi16(zero, v);
        }
      }
    }
    for (int r = 0; r < nrows; ++r) {
      const uint8_t* code = codes[r] + k0;
      // Two partial sums per half (one per term) keep the additions independent; int16
      // arithmetic is modular and the run's total fits, so the total is exact.
      __m512i a0 = zero, a1 = zero, b0 = zero, b1 = zero;
      for (int64_t k = 0; k < n; ++k) {
        const LutCore::Shifts& sh = table[code[k]];
        const char* p = T + k * kstride;
        a0 = _mm512_add_epi16(a0, _mm512_load_si512(p + sh.o1));
        b0 = _mm512_add_epi16(b0, _mm512_load_si512(p + sh.o2));
        if (kHalves == 2) {
          a1 = _mm512_add_epi16(a1, _mm512_load_si512(p + sh.o1 + 64));
          b1 = _mm512_add_epi16(b1, _mm512_load_si512(p + sh.o2 + 64));
        }
      }
      const __m512i t0 = _mm512_add_epi16(a0, b0), t1 = _mm512_add_epi16(a1, b1);
      __m512i* s = sums + 4 * r;
      s[0] = _mm512_add_epi32(s[0], _mm512_cvtepi16_epi32(_mm512_castsi512_si256(t0)));
      s[1] = _mm512_add_epi32(s[1], _mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(t0, 1)));
      if (kHalves == 2) {
        s[2] = _mm512_add_epi32(s[2], _mm512_cvtepi16_epi32(_mm512_castsi512_si256(t1)));
        s[3] = _mm512_add_epi32(s[3], _mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(t1, 1)));
      }
    }
  }
}
#pragma GCC diagnostic pop
#endif

// The finite register, one product at a time in ascending k (rows that may overflow).
template <typename XT>
void shift_add_checked(const XT* X, int64_t tk, int64_t cols, const uint8_t* code,
                       const LutCore::Shifts* table, const AccSpec& spec, int64_t* acc,
                       uint64_t& overflows) {
  for (int64_t k = 0; k < tk; ++k) {
    const XT* x = X + k * NB;
    for (int64_t n = 0; n < cols; ++n) {
      const int64_t v = x[n];
      const int64_t p = ((v << table[code[k]].s1) & table[code[k]].en1) +
                        ((v << table[code[k]].s2) & table[code[k]].en2);
      acc[n] = acc_add(spec, acc[n], table[code[k]].neg ? -p : p, overflows);
    }
  }
}

template <typename XT>
void row_values(const InputTileValues& x, int g, int64_t tk, const uint8_t* code,
                const LutCore::Shifts* table, int mode, int64_t chunk, const AccSpec& spec,
                int64_t* acc, uint64_t& overflows) {
  for (int64_t nb = 0; nb < x.nblocks; ++nb) {
    const XT* X = x.block<XT>(g, nb);
    const int64_t n0 = nb * NB, cols = std::min(NB, x.tn - n0);
    if (mode == 16) {
      int32_t s[NB];
      shift_add_block16<XT>(X, tk, code, table, chunk, s);
      for (int64_t n = 0; n < cols; ++n) acc[n0 + n] += s[n];
    } else if (mode == 32) {
      int32_t s[NB];
      shift_add_block<XT, int32_t>(X, tk, code, table, s);
      for (int64_t n = 0; n < cols; ++n) acc[n0 + n] += s[n];
    } else if (mode == 64) {
      int64_t s[NB];
      shift_add_block<XT, int64_t>(X, tk, code, table, s);
      for (int64_t n = 0; n < cols; ++n) acc[n0 + n] += s[n];
    } else {
      shift_add_checked<XT>(X, tk, cols, code, table, spec, acc + n0, overflows);
    }
  }
}

}  // namespace

void LutCore::compute(LayerRun& run, const RowBlock& b, const Step& st, const InputTileValues& x,
                      OutputTileValues& acc) {
  const QuantLayer& L = *run.layer;
  const int64_t tn = x.tn;
  const int64_t k0 = int64_t(st.kt) * run.plan.tk;
  const AccSpec spec{L.acc_bits, L.overflow};
  auto group_of = [&](int32_t m) {
    return L.shape.groups == 1 ? 0 : int(m / L.shape.rows_per_group());
  };
  auto row_code = [&](int32_t m) { return codes_.data() + int64_t(m) * L.shape.k() + k0; };
  thread_local std::vector<int32_t> shared;
  shared.clear();
  for (int32_t m : b.rows) {
    int64_t* a = acc.acc.data() + int64_t(m) * tn;
    if (st.kt == 0)  // the PE's register starts at the row's bias
      for (int64_t n = 0; n < tn; ++n) a[n] = acc_load(spec, L.bias[m], run.overflows);
#if defined(__AVX512BW__)
    if (L.act_bits <= 8 && row_acc_[size_t(m)] == 16) {
      shared.push_back(m);
      continue;
    }
#endif
    row_values_any(L, m, group_of(m), x, st.tk, row_code(m), spec, a, run.overflows);
  }
#if defined(__AVX512BW__)
  // Rows that read the same activations (same group) with the same format share the shifter
  // outputs; a run of fewer than kMinShared rows would not repay forming them.
  constexpr size_t kMinShared = 4;
  std::stable_sort(shared.begin(), shared.end(), [&](int32_t p, int32_t q) {
    return std::make_pair(group_of(p), L.bits[p]) < std::make_pair(group_of(q), L.bits[q]);
  });
  thread_local std::vector<CacheLine> sums;
  thread_local std::vector<const uint8_t*> codes;
  for (size_t i = 0; i < shared.size();) {
    size_t j = i + 1;
    while (j < shared.size() && group_of(shared[j]) == group_of(shared[i]) &&
           L.bits[shared[j]] == L.bits[shared[i]])
      ++j;
    const int32_t m0 = shared[i];
    if (j - i < kMinShared) {
      for (; i < j; ++i)
        row_values_any(L, shared[i], group_of(shared[i]), x, st.tk, row_code(shared[i]), spec,
                       acc.acc.data() + int64_t(shared[i]) * tn, run.overflows);
      continue;
    }
    const int nrows = int(j - i);
    codes.resize(size_t(nrows));
    for (int r = 0; r < nrows; ++r) codes[size_t(r)] = row_code(shared[i + size_t(r)]);
    sums.resize(size_t(4 * nrows));
    const Sp2Format fmt(L.bits[m0]);
    for (int64_t nb = 0; nb < x.nblocks; ++nb) {
      const int64_t n0 = nb * NB, cols = std::min(NB, tn - n0);
      (cols <= NB / 2 ? shared_shift_rows<1>
                      : shared_shift_rows<2>)(x.block<uint8_t>(group_of(m0), nb), st.tk, fmt,
                                              decode_[fmt.bits].data(), row_chunk_[size_t(m0)],
                                              codes.data(), nrows,
                                              reinterpret_cast<__m512i*>(sums.data()));
      for (int r = 0; r < nrows; ++r) {
        const int32_t* s = reinterpret_cast<const int32_t*>(sums.data() + 4 * r);
        int64_t* a = acc.acc.data() + int64_t(shared[i + size_t(r)]) * tn + n0;
        for (int64_t n = 0; n < cols; ++n) a[n] += s[n];
      }
    }
    i = j;
  }
#endif
}

void LutCore::row_values_any(const QuantLayer& L, int32_t m, int g, const InputTileValues& x,
                             int64_t tk, const uint8_t* code, const AccSpec& spec, int64_t* a,
                             uint64_t& overflows) const {
  const Shifts* table = decode_[L.bits[m]].data();
  if (L.act_bits <= 8)
    row_values<uint8_t>(x, g, tk, code, table, row_acc_[size_t(m)], row_chunk_[size_t(m)], spec, a,
                        overflows);
  else
    row_values<uint16_t>(x, g, tk, code, table, row_acc_[size_t(m)], row_chunk_[size_t(m)], spec, a,
                         overflows);
}

}  // namespace msq
