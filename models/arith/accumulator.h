// A finite two's complement accumulator of `bits` (8..64) that wraps or saturates, and counts
// every addition whose exact result left its range (docs/arithmetic.md).
#pragma once

#include <cstdint>

#include "models/layer.h"

namespace msq {

struct AccSpec {
  int bits = 32;
  Overflow overflow = Overflow::Wrap;
  int64_t min() const { return bits >= 64 ? INT64_MIN : -(int64_t(1) << (bits - 1)); }
  int64_t max() const { return bits >= 64 ? INT64_MAX : (int64_t(1) << (bits - 1)) - 1; }
};

// acc + v with the spec's overflow policy; acc must already be within range.
inline int64_t acc_add(const AccSpec& s, int64_t acc, int64_t v, uint64_t& overflows) {
  const __int128 sum = __int128(acc) + v;
  if (sum >= s.min() && sum <= s.max()) return int64_t(sum);
  ++overflows;
  if (s.overflow == Overflow::Saturate) return sum < s.min() ? s.min() : s.max();
  const int sh = 64 - s.bits;
  return int64_t(uint64_t(uint64_t(sum)) << sh) >> sh;  // keep the low `bits`, sign-extended
}

// Brings a start value (the int32 bias) into the accumulator as the hardware loads it.
inline int64_t acc_load(const AccSpec& s, int64_t v, uint64_t& overflows) {
  return acc_add(s, 0, v, overflows);
}

}  // namespace msq
