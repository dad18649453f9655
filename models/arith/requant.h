// Requantization to the next layer's activations (docs/arithmetic.md, a contract):
// y = clamp(((acc * M + 2^(S-1)) >> S) + z, lo, hi), product in int64 (two's complement wrap, as
// int64 hardware and NumPy do), arithmetic shift. z is the output tensor's zero point, [lo, hi] the
// clamp in codes (a fused ReLU sets lo = z); the defaults z = 0, [0, 2^a - 1] give
// clamp((acc * M + 2^(S-1)) >> S, 0, 2^a - 1), the clamp at 0 being the fused ReLU.
#pragma once

#include <cstdint>

namespace msq {

inline int64_t requantize(int64_t acc, int32_t mult, int shift, int32_t zero, int32_t lo,
                          int32_t hi) {
  const uint64_t prod = uint64_t(acc) * uint64_t(int64_t(mult));
  const uint64_t biased = prod + (uint64_t(1) << (shift - 1));
  // |y| < 2^62 after the shift, so adding a zero point below 2^16 cannot wrap.
  const int64_t y = (int64_t(biased) >> shift) + zero;
  return y < lo ? lo : (y > hi ? hi : y);
}

inline int64_t requantize(int64_t acc, int32_t mult, int shift, int act_bits) {
  return requantize(acc, mult, shift, 0, 0, int32_t((int64_t(1) << act_bits) - 1));
}

}  // namespace msq
