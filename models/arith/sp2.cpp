#include "models/arith/sp2.h"

#include <algorithm>
#include <set>
#include <stdexcept>
#include <string>

namespace msq {

Sp2Format::Sp2Format(int b) : bits(b) {
  if (b < 3 || b > 8)
    throw std::invalid_argument("SP2 bit width must be 3..8, got " + std::to_string(b));
  m1 = b / 2;        // ceil((b - 1) / 2)
  m2 = (b - 1) / 2;  // floor((b - 1) / 2)
  F = (1 << m1) - 1;
}

std::vector<int32_t> sp2_levels(const Sp2Format& f) {
  std::set<int32_t> levels;
  for (int s = 0; s < 2; ++s)
    for (int e1 = 0; e1 <= f.e1_max(); ++e1)
      for (int e2 = 0; e2 <= f.e2_max(); ++e2)
        levels.insert(sp2_decode(f, Sp2Code{uint8_t(s), uint8_t(e1), uint8_t(e2)}));
  return {levels.begin(), levels.end()};
}

namespace {
// The canonical code of w, without throwing: trace validation asks this of every weight.
bool find_code(const Sp2Format& f, int32_t w, Sp2Code& out) {
  const uint8_t s = w < 0 ? 1 : 0;
  const int64_t mag = w < 0 ? -int64_t(w) : w;
  if (mag > f.max_level()) return false;
  // Prefer the fewest terms, then the larger term in e1 (smaller exponent = larger term).
  for (int e2 = 0; e2 <= f.e2_max(); ++e2)
    for (int e1 = 0; e1 <= f.e1_max(); ++e1)
      if (sp2_term(f, e1) + sp2_term(f, e2) == mag) {
        out = Sp2Code{s, uint8_t(e1), uint8_t(e2)};
        return true;
      }
  return false;
}
}  // namespace

bool sp2_is_level(const Sp2Format& f, int32_t w) {
  Sp2Code c;
  return find_code(f, w, c);
}

Sp2Code sp2_encode(const Sp2Format& f, int32_t w) {
  Sp2Code c;
  if (find_code(f, w, c)) return c;
  throw std::invalid_argument("value " + std::to_string(w) + " is not a " + std::to_string(f.bits) +
                              "-bit SP2 level");
}

uint32_t sp2_pack(const Sp2Format& f, Sp2Code c) {
  return (uint32_t(c.s) << (f.m1 + f.m2)) | (uint32_t(c.e1) << f.m2) | c.e2;
}

Sp2Code sp2_unpack(const Sp2Format& f, uint32_t word) {
  Sp2Code c;
  c.e2 = word & uint32_t(f.e2_max());
  c.e1 = (word >> f.m2) & uint32_t(f.e1_max());
  c.s = (word >> (f.m1 + f.m2)) & 1u;
  return c;
}

}  // namespace msq
