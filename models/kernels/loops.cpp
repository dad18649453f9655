#include "models/kernels/loops.h"

#include "models/arith/requant.h"
#include "models/kernels/isa.h"

namespace msq::kernels {

namespace {
#define MSQ_KERNEL_FILE "models/kernels/loops.inc"
#include "models/kernels/variants.inc"
}  // namespace

void requantize_run(const int64_t* x, int64_t* y, int64_t n, int32_t mult, int shift, int32_t zero,
                    int32_t lo, int32_t hi) {
  switch (active_isa()) {
#if MSQ_ISA_X86
    case Isa::Avx512Vnni:
    case Isa::Avx512:
      return avx512::requantize_run(x, y, n, mult, shift, zero, lo, hi);
    case Isa::Avx2:
      return avx2::requantize_run(x, y, n, mult, shift, zero, lo, hi);
#endif
    default:
      return scalar::requantize_run(x, y, n, mult, shift, zero, lo, hi);
  }
}

void requantize_run(const int64_t* x, int64_t* y, int64_t n, int32_t mult, int shift,
                    int act_bits) {
  requantize_run(x, y, n, mult, shift, 0, 0, int32_t((int64_t(1) << act_bits) - 1));
}

int64_t abs_sum(const int32_t* w, int64_t n) {
  switch (active_isa()) {
#if MSQ_ISA_X86
    case Isa::Avx512Vnni:
    case Isa::Avx512:
      return avx512::abs_sum(w, n);
    case Isa::Avx2:
      return avx2::abs_sum(w, n);
#endif
    default:
      return scalar::abs_sum(w, n);
  }
}

void sum_and_squares(const int32_t* w, int64_t n, int64_t& s1, int64_t& s2) {
  switch (active_isa()) {
#if MSQ_ISA_X86
    case Isa::Avx512Vnni:
    case Isa::Avx512:
      return avx512::sum_and_squares(w, n, s1, s2);
    case Isa::Avx2:
      return avx2::sum_and_squares(w, n, s1, s2);
#endif
    default:
      return scalar::sum_and_squares(w, n, s1, s2);
  }
}

}  // namespace msq::kernels
