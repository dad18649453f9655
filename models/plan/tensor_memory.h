// DRAM regions of a graph's tensors: each op's output gets a region for its lifetime, from the op
// that writes it to the last op that reads it (a residual input stays alive until its Add; the
// network input from the start, the network outputs to the end). A Flatten is a view: its output
// shares its input's region. Regions are placed first-fit at page-aligned addresses from `base`.
#pragma once

#include <cstdint>
#include <vector>

#include "models/graph/graph.h"

namespace msq {

struct TensorMemoryPlan {
  std::vector<uint64_t> addr;    // by tensor
  std::vector<int64_t> bytes;    // by tensor (0 for a view)
  std::vector<int> first, last;  // by tensor: op indices of its lifetime (-1: from the start)
  int64_t peak_live_bytes = 0;   // the most tensor bytes alive at once
  int64_t arena_bytes = 0;       // the highest address used above base
  int peak_op = -1;              // the op at which the peak occurs
};

// `elem_bytes[t]`: bytes per value of tensor t (1, 2, or 4 for raw accumulators).
TensorMemoryPlan plan_tensor_memory(const Graph& g, const std::vector<int>& elem_bytes,
                                    uint64_t base, uint64_t page_bytes);

}  // namespace msq
