// SP2 (sum of two powers of two) number format, docs/arithmetic.md (a contract).
#pragma once

#include <cstdint>
#include <vector>

namespace msq {

// b = 1 + m1 + m2 bits: sign s, e1 in [0, 2^m1 - 1], e2 in [0, 2^m2 - 1];
// t(0) = 0, t(e) = 2^(F - e) for e >= 1, F = 2^m1 - 1; w = (-1)^s (t(e1) + t(e2)).
struct Sp2Format {
  int bits, m1, m2, F;
  explicit Sp2Format(int bits);                          // bits in 3..8, else std::invalid_argument
  int32_t max_level() const { return int32_t(1) << F; }  // t(1) + t(1)
  int e1_max() const { return (1 << m1) - 1; }
  int e2_max() const { return (1 << m2) - 1; }
};

struct Sp2Code {
  uint8_t s = 0, e1 = 0, e2 = 0;
};

inline int32_t sp2_term(const Sp2Format& f, int e) {
  return e == 0 ? 0 : int32_t(1) << (f.F - e);
}
inline int32_t sp2_decode(const Sp2Format& f, Sp2Code c) {
  int32_t mag = sp2_term(f, c.e1) + sp2_term(f, c.e2);
  return c.s ? -mag : mag;
}

// Distinct integer levels, ascending (negative and positive).
std::vector<int32_t> sp2_levels(const Sp2Format& f);
bool sp2_is_level(const Sp2Format& f, int32_t w);
// The canonical code of a level: zero is (0, 0, 0); e2 stays 0 when one term suffices, else the
// smallest e2 that completes the sum. Throws std::invalid_argument when w is not a level.
Sp2Code sp2_encode(const Sp2Format& f, int32_t w);
// The b-bit code word, laid out s | e1 | e2 from the top bit down, and back.
uint32_t sp2_pack(const Sp2Format& f, Sp2Code c);
Sp2Code sp2_unpack(const Sp2Format& f, uint32_t word);

// The LUT PE's product: the activation shifted left by each term's amount, the two added, the sign
// applied. Exact: no bit of x is lost.
inline int64_t sp2_shift_add(const Sp2Format& f, Sp2Code c, uint32_t x) {
  int64_t p = 0;
  if (c.e1) p += int64_t(x) << (f.F - c.e1);
  if (c.e2) p += int64_t(x) << (f.F - c.e2);
  return c.s ? -p : p;
}

}  // namespace msq
