#include "models/arith/acc_bound.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include "models/kernels/loops.h"

namespace msq {

int acc_bits_datatype(int64_t K, int n_bits, int m_bits, bool input_signed) {
  if (K < 1) throw std::invalid_argument("acc_bits_datatype: K must be at least 1");
  const double mag = std::log2(double(K)) + n_bits + m_bits - 1 - (input_signed ? 1 : 0);
  int bits = int(std::ceil(mag - 1e-12)) + 1;
  // With a signed input, K * (-2^(n-1)) * (-2^(m-1)) = 2^mag is reached exactly and is one past
  // the largest positive value of `bits`; mag is an integer exactly when K is a power of two.
  // (Brevitas adds log2(1 + 2^-mag) for this, which also costs unsigned inputs a bit.)
  if (input_signed && (K & (K - 1)) == 0) ++bits;
  return bits;
}

int acc_bits_l1(const int32_t* w, int64_t K, int act_bits, int64_t bias) {
  // int64 partial sums over runs of 2^31 weights (|w| <= 2^31) vectorize; int128 ones do not.
  __int128 l1 = 0;
  for (int64_t k0 = 0; k0 < K; k0 += int64_t(1) << 31) {
    const int64_t k1 = std::min(K, k0 + (int64_t(1) << 31));
    l1 += kernels::abs_sum(w + k0, k1 - k0);
  }
  const __int128 worst =
      (bias < 0 ? -__int128(bias) : __int128(bias)) + l1 * ((__int128(1) << act_bits) - 1);
  int bits = 1;
  while (bits < 127 && ((__int128(1) << (bits - 1)) - 1) < worst) ++bits;
  return bits;
}

}  // namespace msq
