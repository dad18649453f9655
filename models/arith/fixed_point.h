// Symmetric fixed-point rows, docs/arithmetic.md: codes in [-(2^(b-1) - 1), 2^(b-1) - 1].
#pragma once

#include <cstdint>

namespace msq {

constexpr int kFixedMinBits = 2, kFixedMaxBits = 16;

inline int32_t fixed_max(int bits) {
  return (int32_t(1) << (bits - 1)) - 1;
}
inline bool fixed_in_range(int bits, int64_t w) {
  return w >= -fixed_max(bits) && w <= fixed_max(bits);
}

}  // namespace msq
