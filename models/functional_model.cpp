#include "models/functional_model.h"

#include "models/kernels/isa.h"

#if MSQ_ISA_X86
#include <immintrin.h>
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
inline int64_t requantize(int64_t acc, int32_t mult, int shift, int64_t zero, int64_t lo,
                          int64_t hi) {
  const uint64_t p = uint64_t(acc) * uint64_t(uint32_t(mult)) + (uint64_t(1) << (shift - 1));
  const int64_t y = (int64_t(p) >> shift) + zero;
  return y < lo ? lo : (y > hi ? hi : y);
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

// The loops, once per variant (models/kernels/isa.h).
#define MSQ_KERNEL_AVX512_W256
#define MSQ_KERNEL_FILE "models/kernels/functional.inc"
#include "models/kernels/variants.inc"

FunctionalResult run_variant(kernels::Isa isa, const QuantLayer& l, const ActTensor& in,
                             const Geometry& g) {
  switch (isa) {
#if MSQ_ISA_X86
    case kernels::Isa::Avx512Vnni:
      return avx512::run(l, in, g, true);
    case kernels::Isa::Avx512:
      return avx512::run(l, in, g, false);
    case kernels::Isa::Avx2:
      return avx2::run(l, in, g, false);
#endif
    default:
      return scalar::run(l, in, g, false);
  }
}

[[noreturn]] void bad(const QuantLayer& l, const std::string& what) {
  throw InputError(input_error_text("functional model", 0, "layer '" + l.shape.name + "'", what));
}

}  // namespace

FunctionalResult run_functional(const QuantLayer& l, const ActTensor& in) {
  return run_functional(l, in, kernels::active_isa());
}

FunctionalResult run_functional(const QuantLayer& l, const ActTensor& in, kernels::Isa isa) {
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
  if (!l.row_acc_bits.empty()) {
    if (int64_t(l.row_acc_bits.size()) != l.shape.m())
      bad(l, fmt::format("{} per-row accumulator widths for {} rows", l.row_acc_bits.size(),
                         l.shape.m()));
    for (uint8_t b : l.row_acc_bits)
      if (b < 2 || b > 64) bad(l, fmt::format("a row's accumulator width {} not in 2..64", b));
  }
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
  if (l.in_zero < 0 || uint32_t(l.in_zero) >= limit || l.out_zero < 0 ||
      uint32_t(l.out_zero) >= limit)
    bad(l, fmt::format("zero points (input {}, output {}) not in 0..2^{} - 1", l.in_zero,
                       l.out_zero, l.act_bits));
  if (l.lo < 0 || l.lo > l.hi_code() || uint32_t(l.hi_code()) >= limit)
    bad(l,
        fmt::format("output clamp [{}, {}] not within 0..2^{} - 1", l.lo, l.hi_code(), l.act_bits));
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
  return run_variant(isa, l, in, g);
}

}  // namespace msq
