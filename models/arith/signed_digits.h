// A weight as a bit-serial PE consumes it: a short list of signed power-of-two digits, one per
// cycle (docs/arithmetic.md, "The bit-serial LUT core's product"). An SP2 weight is its own digit
// list: each nonzero term t(e) = 2^(F - e) is one digit, so a weight has 0, 1 or 2 digits, taken
// from its canonical code (sp2_encode).
#pragma once

#include <cstdint>

#include "models/arith/sp2.h"

namespace msq {

// One digit: the activation shifted left by `shift`, negated when `neg`.
struct SignedDigit {
  uint8_t shift = 0;
  bool neg = false;
};

// At most two digits (an SP2 code has two terms); the e1 term comes first.
struct DigitList {
  int n = 0;
  SignedDigit d[2];
};

// The digit word of the PE is a sign and a `shift_bits` shift amount, as MSD's 4-bit index
// (sign + 3-bit shift): shifts 0..7.
constexpr int kBitSerialShiftBits = 3;
constexpr int kBitSerialMaxShift = (1 << kBitSerialShiftBits) - 1;

inline DigitList sp2_digits(const Sp2Format& f, Sp2Code c) {
  DigitList l;
  const bool neg = c.s != 0;
  if (c.e1) l.d[l.n++] = SignedDigit{uint8_t(f.F - c.e1), neg};
  if (c.e2) l.d[l.n++] = SignedDigit{uint8_t(f.F - c.e2), neg};
  return l;
}

// The largest shift a b-bit SP2 weight needs (its e = 1 term): F - 1.
inline int sp2_max_digit_shift(int bits) {
  return Sp2Format(bits).F - 1;
}

// Whether the bit-serial PE's digit word holds every digit of a b-bit SP2 row.
inline bool bitserial_sp2_bits_ok(int bits) {
  return bits >= 3 && bits <= 8 && sp2_max_digit_shift(bits) <= kBitSerialMaxShift;
}

// One digit step of the PE: the product register plus the shifted, signed activation. The product
// of one weight and one activation is exact after its last digit: no bit of x is lost.
inline int64_t digit_step(int64_t product, SignedDigit d, uint32_t x) {
  const int64_t t = int64_t(x) << d.shift;
  return d.neg ? product - t : product + t;
}

// The whole product, digit by digit.
inline int64_t digit_serial_product(const DigitList& l, uint32_t x) {
  int64_t p = 0;
  for (int i = 0; i < l.n; ++i) p = digit_step(p, l.d[i], x);
  return p;
}

}  // namespace msq
