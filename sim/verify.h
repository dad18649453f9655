// The cross-check: every output of the cycle model against the functional model's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/layer.h"

namespace msq {

struct Mismatch {
  int64_t row = 0, col = 0;  // output channel, GEMM column (pixel)
  int b = 0, y = 0, x = 0;   // the column as batch, output row, output column
  int64_t expected = 0, got = 0;
};

struct LayerVerify {
  int64_t checked = 0, mismatches = 0;
  uint64_t expected_overflows = 0, got_overflows = 0;
  std::vector<Mismatch> first;  // the first few, for messages
};

// Compares `got` (the cycle model's outputs and overflow count) with the functional model's
// outputs for the same layer and input. `expected` receives the reference when not null.
LayerVerify verify_layer(const QuantLayer& layer, const ActTensor& input, const OutTensor& got,
                         uint64_t got_overflows, OutTensor* expected = nullptr);

// Compares against given expected outputs (a trace's).
LayerVerify compare_outputs(const QuantLayer& layer, const OutTensor& expected,
                            const OutTensor& got);

std::string describe(const std::string& layer, const Mismatch& m);

}  // namespace msq
