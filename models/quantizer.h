// Quantization policy (docs/arithmetic.md): float weight rows to fixed-point or SP2 integer rows,
// and the per-layer choice of which rows get which scheme and width.
#pragma once

#include <cstdint>
#include <vector>

namespace msq {

// Code of one weight given w / alpha (alpha = max|w| of the row, so |w / alpha| <= 1; values
// outside are clamped to the largest code). Fixed: round-half-away(x * (2^(b-1) - 1)), bits 2..16.
// SP2: the level nearest to x * 2^F, ties to the smaller magnitude, bits 3..8. Both return the
// integer weight (for SP2 the level, not the packed code). Bad bits: std::invalid_argument.
int32_t quantize_fixed(double w_over_alpha, int bits);
int32_t quantize_sp2(double w_over_alpha, int bits);

// Squared quantization errors of one row in the float domain, at low_bits for both schemes.
struct RowError {
  double alpha = 0;      // max|w|
  double norm2 = 0;      // sum of w^2
  double sse_fixed = 0;  // sum of (w - alpha * q / (2^(b-1) - 1))^2
  double sse_sp2 = 0;    // sum of (w - alpha * q / 2^F)^2; 0 when low_bits cannot be SP2 (< 3)
};
RowError row_error(const float* w, int64_t K, int low_bits);

// Rows per scheme for M rows: fixed8 = round(f8 * M), sp2 = round(r * M) (capped at M - fixed8,
// which rounding alone can exceed), the rest low-bit fixed. round() is half away from zero.
// r, f8 in [0, 1] with r + f8 <= 1, else std::invalid_argument.
struct SchemeCounts {
  int64_t fixed8 = 0, sp2 = 0, fixed_low = 0;
};
SchemeCounts scheme_counts(int64_t M, double sp2_fraction, double fixed8_fraction);

struct QuantizedMatrix {
  std::vector<int32_t> weights;  // [M][K] integer weights (SP2 rows hold levels)
  std::vector<uint8_t> scheme;   // [M] Scheme values
  std::vector<uint8_t> bits;     // [M]
  std::vector<double> alpha;     // [M] max|w| of each row (0 for an all-zero row)
  // Sum of squared error / sum of squared weights over each scheme's rows (8-bit fixed rows count
  // as fixed); -1 when the scheme has no rows, 0 when its rows are all zero.
  double rel_err_sp2 = -1.0, rel_err_fixed = -1.0;
};

// Quantizes a row-major [M][K] float matrix. The round(f8 * M) rows with the largest low-bit
// error min(sse_fixed, sse_sp2) become 8-bit fixed; of the others, the round(r * M) rows with the
// highest sse_fixed - sse_sp2 become SP2 at low_bits; the rest are fixed at low_bits. Ties go to
// the lower row index. low_bits in 2..8 (3..8 when any row is SP2), else std::invalid_argument,
// as are non-finite weights.
QuantizedMatrix quantize_matrix(const float* w, int64_t M, int64_t K, double sp2_fraction,
                                double fixed8_fraction, int low_bits);

// Scheme and bits by counts alone, for timing-only runs with no weights: the same per-scheme
// counts as quantize_matrix, each scheme spread evenly over the rows (SP2 rows at
// floor(i * M / n_sp2) spacing, then the 8-bit rows spread over the remaining rows likewise).
void assign_schemes_by_count(int64_t M, double sp2_fraction, double fixed8_fraction, int low_bits,
                             std::vector<uint8_t>& scheme, std::vector<uint8_t>& bits);

}  // namespace msq
