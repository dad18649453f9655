// Requantization to the next layer's activations (docs/arithmetic.md, a contract):
// y = clamp((acc * M + 2^(S-1)) >> S, 0, 2^a - 1), product in int64 (two's complement wrap, as
// int64 hardware and NumPy do), arithmetic shift; the clamp at 0 is the fused ReLU.
#pragma once

#include <cstdint>

namespace msq {

inline int64_t requantize(int64_t acc, int32_t mult, int shift, int act_bits) {
  const uint64_t prod = uint64_t(acc) * uint64_t(int64_t(mult));
  const uint64_t biased = prod + (uint64_t(1) << (shift - 1));
  const int64_t y = int64_t(biased) >> shift;
  const int64_t top = (int64_t(1) << act_bits) - 1;
  return y < 0 ? 0 : (y > top ? top : y);
}

}  // namespace msq
