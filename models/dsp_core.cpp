#include "models/dsp_core.h"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "models/arith/accumulator.h"
#include "models/arith/packed_dsp.h"

namespace msq {

DspCore::DspCore(sc_core::sc_module_name name, Fabric& fabric, Buffer& weights,
                 const DspCoreConfig& cfg)
    : ArrayCore(name, fabric, kDsp, weights), cfg_(cfg) {}

int64_t DspCore::job_cycles(const LayerRun& run, const RowBlock& b, int64_t tn, int64_t tk) const {
  return dsp_job_cycles(cfg_, tn, tk, b.packed, run.plan.chain);
}

void DspCore::load_layer(const LayerRun& run) {
  const QuantLayer& L = *run.layer;
  const int64_t K = L.shape.k();
  const int D = run.plan.lane_offset;
  packed_a_.assign(size_t(L.shape.m()), {});
  row_acc_.assign(size_t(L.shape.m()), 0);
  for (const RowBlock& b : run.plan.dsp_blocks) {
    for (int32_t m : b.rows) row_acc_[size_t(m)] = run.plan.row_sum_bits[size_t(m)];
    if (!b.packed) continue;
    for (size_t i = 0; i < b.rows.size(); i += 2) {
      // A lone last row rides the low lane.
      const bool pair = i + 1 < b.rows.size();
      const int32_t* hi = pair ? L.row(b.rows[i]) : nullptr;
      const int32_t* lo = L.row(b.rows[pair ? i + 1 : i]);
      std::vector<int32_t>& a = packed_a_[size_t(b.rows[i])];
      a.resize(size_t(K));
      for (int64_t k = 0; k < K; ++k)
        a[size_t(k)] = int32_t(int64_t(uint64_t(int64_t(hi ? hi[k] : 0)) << D) + lo[k]);
    }
  }
}

namespace {

constexpr int64_t NB = InputTileValues::kNB;

// One packed slice over a block of NB columns: P += A * x for each k, and every `chain` products
// (and at the end) the drain: P is a 48-bit register, the low lane is its sign-extended low D
// bits and the high lane (P - lo) >> D. Products are exact in 64 bits (|A| < 2^26, x < 2^16), so
// wrapping P to its width at the drain equals wrapping it after every addition.
template <typename XT>
void packed_block(const XT* X, int64_t tk, const int32_t* A, int64_t chain, int D, int p_bits,
                  int64_t cols, int64_t* acc_hi, int64_t* acc_lo) {
  int64_t p[NB] = {};
  const int psh = 64 - p_bits;
  const uint64_t mask = (uint64_t(1) << D) - 1, sign = uint64_t(1) << (D - 1);
  for (int64_t k0 = 0; k0 < tk; k0 += chain) {
    const int64_t k1 = std::min(tk, k0 + chain);
    for (int64_t k = k0; k < k1; ++k) {
      const int64_t a = A[k];
      const XT* x = X + k * NB;
      for (int64_t n = 0; n < NB; ++n) p[n] += a * int64_t(int32_t(x[n]));
    }
    for (int64_t n = 0; n < cols; ++n) {
      const int64_t reg = int64_t(uint64_t(p[n]) << psh) >> psh;
      const int64_t lo = int64_t((uint64_t(reg) & mask) ^ sign) - int64_t(sign);
      if (acc_hi) acc_hi[n] += (reg - lo) >> D;
      acc_lo[n] += lo;
    }
    for (int64_t n = 0; n < NB; ++n) p[n] = 0;
  }
}

#if defined(__AVX512F__)
// GCC 12's own AVX-512 headers trip -Wmaybe-uninitialized on the widening loads (a known false
// positive of that release).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// The same for 8-bit activations with the multiplier written out: A (|A| < 2^26) and x fit the
// signed 32 x 32 -> 64-bit multiply, which the compiler otherwise replaces by the three times
// slower full 64-bit one. kVecs vectors of 8 columns cover the block's columns that exist.
template <int kVecs>
void packed_block_u8(const uint8_t* X, int64_t tk, const int32_t* A, int64_t chain, int D,
                     int p_bits, int64_t cols, int64_t* acc_hi, int64_t* acc_lo) {
  static_assert(NB == 64, "at most eight vectors of 8 64-bit lanes");
  const int psh = 64 - p_bits;
  const uint64_t mask = (uint64_t(1) << D) - 1, sign = uint64_t(1) << (D - 1);
  int64_t p[NB];
  for (int64_t k0 = 0; k0 < tk; k0 += chain) {
    const int64_t k1 = std::min(tk, k0 + chain);
    __m512i v[kVecs];
    for (int j = 0; j < kVecs; ++j) v[j] = _mm512_setzero_si512();
    for (int64_t k = k0; k < k1; ++k) {
      const __m512i a = _mm512_set1_epi64(A[k]);
      const uint8_t* x = X + k * NB;
      for (int j = 0; j < kVecs; ++j) {
        const __m512i xv =
            _mm512_cvtepu8_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(x + 8 * j)));
        v[j] = _mm512_add_epi64(v[j], _mm512_mul_epi32(xv, a));
      }
    }
    for (int j = 0; j < kVecs; ++j) _mm512_storeu_si512(p + 8 * j, v[j]);
    for (int64_t n = 0; n < cols; ++n) {
      const int64_t reg = int64_t(uint64_t(p[n]) << psh) >> psh;
      const int64_t lo = int64_t((uint64_t(reg) & mask) ^ sign) - int64_t(sign);
      if (acc_hi) acc_hi[n] += (reg - lo) >> D;
      acc_lo[n] += lo;
    }
  }
}

template <>
void packed_block<uint8_t>(const uint8_t* X, int64_t tk, const int32_t* A, int64_t chain, int D,
                           int p_bits, int64_t cols, int64_t* acc_hi, int64_t* acc_lo) {
  using Kernel = void (*)(const uint8_t*, int64_t, const int32_t*, int64_t, int, int, int64_t,
                          int64_t*, int64_t*);
  static constexpr Kernel kernels[8] = {packed_block_u8<1>, packed_block_u8<2>, packed_block_u8<3>,
                                        packed_block_u8<4>, packed_block_u8<5>, packed_block_u8<6>,
                                        packed_block_u8<7>, packed_block_u8<8>};
  kernels[(cols + 7) / 8 - 1](X, tk, A, chain, D, p_bits, cols, acc_hi, acc_lo);
}
#pragma GCC diagnostic pop
#endif

// One unpacked row over a block: the slice's multiplier and a wide sum (no overflow possible).
template <typename XT, typename AT>
void single_block(const XT* X, int64_t tk, const int32_t* w, int64_t cols, int64_t* acc) {
  AT s[NB] = {};
  for (int64_t k = 0; k < tk; ++k) {
    const AT wk = AT(w[k]);
    const XT* x = X + k * NB;
    for (int64_t n = 0; n < NB; ++n) s[n] += wk * AT(x[n]);
  }
  for (int64_t n = 0; n < cols; ++n) acc[n] += s[n];
}

// The finite register, one product at a time in ascending k (rows that may overflow).
template <typename XT>
void single_checked(const XT* X, int64_t tk, const int32_t* w, int64_t cols, const AccSpec& spec,
                    int64_t* acc, uint64_t& overflows) {
  for (int64_t k = 0; k < tk; ++k) {
    const XT* x = X + k * NB;
    for (int64_t n = 0; n < cols; ++n)
      acc[n] = acc_add(spec, acc[n], int64_t(w[k]) * x[n], overflows);
  }
}

template <typename XT>
void block_values(const QuantLayer& L, const LayerPlan& plan, const RowBlock& b, const Step& st,
                  const InputTileValues& x, const std::vector<std::vector<int32_t>>& packed_a,
                  const std::vector<int>& row_acc, int p_bits, int64_t* acc, uint64_t& overflows) {
  const int64_t tk = st.tk, k0 = int64_t(st.kt) * plan.tk, tn = x.tn;
  const AccSpec spec{L.acc_bits, L.overflow};
  auto group = [&](int32_t m) { return L.shape.groups == 1 ? 0 : m / L.shape.rows_per_group(); };
  for (int32_t m : b.rows)
    if (st.kt == 0)
      for (int64_t n = 0; n < tn; ++n) acc[m * tn + n] = acc_load(spec, L.bias[m], overflows);
  for (int64_t nb = 0; nb < x.nblocks; ++nb) {
    const int64_t n0 = nb * NB, cols = std::min(NB, tn - n0);
    if (b.packed) {
      // The planner packs only rows that cannot overflow (and only within a group), so the lane
      // sums add straight in.
      for (size_t i = 0; i < b.rows.size(); i += 2) {
        const bool pair = i + 1 < b.rows.size();
        const int32_t hi = b.rows[i], lo = b.rows[pair ? i + 1 : i];
        packed_block(x.block<XT>(group(lo), nb), tk, packed_a[size_t(hi)].data() + k0, plan.chain,
                     plan.lane_offset, p_bits, cols, pair ? acc + hi * tn + n0 : nullptr,
                     acc + lo * tn + n0);
      }
      continue;
    }
    for (int32_t m : b.rows) {
      const XT* X = x.block<XT>(group(m), nb);
      const int32_t* w = L.row(m) + k0;
      int64_t* a = acc + m * tn + n0;
      if (row_acc[size_t(m)] == 32)
        single_block<XT, int32_t>(X, tk, w, cols, a);
      else if (row_acc[size_t(m)] == 64)
        single_block<XT, int64_t>(X, tk, w, cols, a);
      else
        single_checked(X, tk, w, cols, spec, a, overflows);
    }
  }
}

}  // namespace

void DspCore::compute(LayerRun& run, const RowBlock& b, const Step& st, const InputTileValues& x,
                      OutputTileValues& acc) {
  const int p_bits = dsp_geometry(f_.dsp_kind).p_bits;
  if (run.layer->act_bits <= 8)
    block_values<uint8_t>(*run.layer, run.plan, b, st, x, packed_a_, row_acc_, p_bits,
                          acc.acc.data(), run.overflows);
  else
    block_values<uint16_t>(*run.layer, run.plan, b, st, x, packed_a_, row_acc_, p_bits,
                           acc.acc.data(), run.overflows);
}

}  // namespace msq
