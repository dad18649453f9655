// Small loops of the model's blocks that are hot enough to need the wide instruction sets (64-bit
// multiplies vectorize only with AVX-512), dispatched like the value kernels
// (models/kernels/isa.h).
#pragma once

#include <cstdint>

namespace msq::kernels {

// y[i] = requantize(x[i], mult, shift, act_bits) (models/arith/requant.h) for i < n.
void requantize_run(const int64_t* x, int64_t* y, int64_t n, int32_t mult, int shift, int act_bits);

}  // namespace msq::kernels
