// The bit-exact reference: a layer's outputs computed by plain integer multiplication, following
// docs/arithmetic.md (a contract). The cycle model's values are checked against this.
#pragma once

#include <cstdint>

#include "models/kernels/isa.h"
#include "models/layer.h"

namespace msq {

struct FunctionalResult {
  OutTensor out;           // [B, Cout, Hout, Wout]
  uint64_t overflows = 0;  // additions whose exact result left the accumulator range
};

// Per row m and output column n: acc starts at bias[m] (loading the bias counts as one addition to
// zero, so a bias outside the acc_bits range is wrapped or saturated and counted once per output
// column, as every column's accumulator loads it), then adds
// w[m][k] * x[k][n] for k = 0 .. K-1 in im2col order, each addition wrapped or saturated to
// acc_bits two's complement and counted when its exact result leaves the range. Activation
// outputs are clamp((acc * M + 2^(S-1)) >> S, 0, 2^a - 1) with the product wrapped to int64.
// Throws InputError when the layer and the input disagree (sizes, widths, out-of-range values).
// Computed by the kernel variant in use (kernels::active_isa()).
FunctionalResult run_functional(const QuantLayer& layer, const ActTensor& input);
// The same by a given variant; every variant gives the same result (tests/test_isa_kernels.cpp).
FunctionalResult run_functional(const QuantLayer& layer, const ActTensor& input, kernels::Isa isa);

}  // namespace msq
