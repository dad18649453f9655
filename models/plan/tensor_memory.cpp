#include "models/plan/tensor_memory.h"

#include <algorithm>
#include <map>

namespace msq {

TensorMemoryPlan plan_tensor_memory(const Graph& g, const std::vector<int>& elem_bytes,
                                    uint64_t base, uint64_t page_bytes) {
  const size_t nt = g.tensors.size(), no = g.ops.size();
  TensorMemoryPlan p;
  p.addr.assign(nt, 0);
  p.bytes.assign(nt, 0);
  p.first.assign(nt, -1);
  p.last.assign(nt, -1);
  // Views resolve to the tensor that owns the region.
  std::vector<int> owner(nt);
  for (size_t t = 0; t < nt; ++t) owner[t] = int(t);
  for (size_t i = 0; i < no; ++i) {
    const Op& op = g.ops[i];
    if (op.kind == OpKind::Flatten)
      owner[size_t(op.output)] = owner[size_t(op.inputs[0])];
    else
      p.first[size_t(op.output)] = int(i);
  }
  for (size_t t = 0; t < nt; ++t)
    if (owner[t] == int(t)) p.bytes[t] = g.tensors[t].size() * elem_bytes[t];
  for (size_t i = 0; i < no; ++i)
    for (int t : g.ops[i].inputs) p.last[size_t(owner[size_t(t)])] = int(i);
  for (int t : g.outputs) p.last[size_t(owner[size_t(t)])] = int(no);
  for (size_t t = 0; t < nt; ++t)
    if (owner[t] == int(t) && p.last[t] < p.first[t]) p.last[t] = p.first[t];  // never read

  // First fit over the live regions, in op order; a region is freed after its last reader.
  std::map<uint64_t, uint64_t> live;  // offset -> size
  const auto align = [&](uint64_t v) { return (v + page_bytes - 1) / page_bytes * page_bytes; };
  const auto place = [&](size_t t) {
    const uint64_t need = align(uint64_t(std::max<int64_t>(p.bytes[t], 1)));
    uint64_t at = 0;
    for (const auto& [off, size] : live) {
      if (off >= at + need) break;
      at = std::max(at, off + size);
    }
    live[at] = need;
    p.addr[t] = base + at;
    p.arena_bytes = std::max<int64_t>(p.arena_bytes, int64_t(at + need));
  };
  int64_t live_bytes = 0;
  for (size_t t = 0; t < nt; ++t)
    if (owner[t] == int(t) && p.first[t] == -1 && p.bytes[t] > 0)
      place(t), live_bytes += p.bytes[t];
  for (size_t i = 0; i < no; ++i) {
    const size_t out = size_t(g.ops[i].output);
    if (owner[out] == int(out)) place(out), live_bytes += p.bytes[out];
    if (live_bytes > p.peak_live_bytes) p.peak_live_bytes = live_bytes, p.peak_op = int(i);
    for (size_t t = 0; t < nt; ++t)
      if (owner[t] == int(t) && p.last[t] == int(i) && p.bytes[t] > 0) {
        live.erase(p.addr[t] - base);
        live_bytes -= p.bytes[t];
      }
  }
  for (size_t t = 0; t < nt; ++t) p.addr[t] = p.addr[size_t(owner[t])];
  return p;
}

}  // namespace msq
