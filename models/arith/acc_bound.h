// Minimum safe accumulator widths (docs/arithmetic.md).
#pragma once

#include <cstdint>

namespace msq {

// Data-type bound (Brevitas calculate_min_accumulator_bit_width): K products of an n_bits input
// and an m_bits weight need ceil(log2(K) + n + m - 1 - [input signed]) bits plus a sign bit, and
// one more when the input is signed and K a power of two (the all-most-negative sum is positive
// and lands exactly on a power of two). m_bits is the width of the integer weight: an SP2 row of b
// bits has levels up to 2^F, so it needs m_bits = F + 2, not b. K >= 1, else invalid_argument.
int acc_bits_datatype(int64_t K, int n_bits, int m_bits, bool input_signed);

// Per-row bound: the smallest two's complement width that holds |bias| + max|x| * sum|w|, for
// unsigned act_bits activations.
int acc_bits_l1(const int32_t* w, int64_t K, int act_bits, int64_t bias = 0);

}  // namespace msq
