// Small loops of the model's blocks that are hot enough to need the wide instruction sets (64-bit
// multiplies vectorize only with AVX-512), dispatched like the value kernels
// (models/kernels/isa.h).
#pragma once

#include <cstdint>

namespace msq::kernels {

// y[i] = requantize(x[i], mult, shift, zero, lo, hi) (models/arith/requant.h) for i < n.
void requantize_run(const int64_t* x, int64_t* y, int64_t n, int32_t mult, int shift, int32_t zero,
                    int32_t lo, int32_t hi);
// The same with zero point 0 and the clamp [0, 2^act_bits - 1].
void requantize_run(const int64_t* x, int64_t* y, int64_t n, int32_t mult, int shift, int act_bits);

// sum |w[k]| for k < n, for n < 2^31 (|w| <= 2^31: no int64 overflow).
int64_t abs_sum(const int32_t* w, int64_t n);

// s1 = sum w[k], s2 = sum w[k]^2 for k < n; exact while |w| <= 2^15 and n < 2^20.
void sum_and_squares(const int32_t* w, int64_t n, int64_t& s1, int64_t& s2);

}  // namespace msq::kernels
