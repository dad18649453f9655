#include "models/arith/acc_bound.h"

#include <cmath>
#include <cstdlib>

namespace msq {

int acc_bits_datatype(int64_t K, int n_bits, int m_bits, bool input_signed) {
  const double mag = std::log2(double(K)) + n_bits + m_bits - 1 - (input_signed ? 1 : 0);
  return int(std::ceil(mag - 1e-12)) + 1;
}

int acc_bits_l1(const int32_t* w, int64_t K, int act_bits, int64_t bias) {
  __int128 l1 = 0;
  for (int64_t k = 0; k < K; ++k) l1 += std::llabs(w[k]);
  const __int128 worst = (bias < 0 ? -__int128(bias) : __int128(bias)) +
                         l1 * ((__int128(1) << act_bits) - 1);
  int bits = 1;
  while (bits < 127 && ((__int128(1) << (bits - 1)) - 1) < worst) ++bits;
  return bits;
}

}  // namespace msq
