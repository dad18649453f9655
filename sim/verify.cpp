#include "sim/verify.h"

#include <fmt/format.h>

#include "models/functional_model.h"

namespace msq {

namespace {
constexpr size_t kKeep = 10;
}

LayerVerify compare_outputs(const QuantLayer& L, const OutTensor& expected, const OutTensor& got) {
  LayerVerify v;
  const LayerShape& s = L.shape;
  const int64_t HW = int64_t(s.out_h()) * s.out_w(), M = s.m();
  v.checked = int64_t(expected.data.size());
  if (got.data.size() != expected.data.size()) {
    v.mismatches = v.checked;
    return v;
  }
  for (size_t i = 0; i < expected.data.size(); ++i) {
    if (expected.data[i] == got.data[i]) continue;
    ++v.mismatches;
    if (v.first.size() < kKeep) {
      // Outputs are [B, Cout, Hout, Wout]; the GEMM column is n = (b*Hout + y)*Wout + x.
      const int64_t idx = int64_t(i);
      Mismatch m;
      m.b = int(idx / (M * HW));
      m.row = (idx / HW) % M;
      const int64_t r = idx % HW;
      m.y = int(r / s.out_w());
      m.x = int(r % s.out_w());
      m.col = m.b * HW + r;
      m.expected = expected.data[i];
      m.got = got.data[i];
      v.first.push_back(m);
    }
  }
  return v;
}

LayerVerify verify_layer(const QuantLayer& L, const ActTensor& input, const OutTensor& got,
                         uint64_t got_overflows, OutTensor* expected) {
  FunctionalResult ref = run_functional(L, input);
  LayerVerify v = compare_outputs(L, ref.out, got);
  v.expected_overflows = ref.overflows;
  v.got_overflows = got_overflows;
  if (expected) *expected = std::move(ref.out);
  return v;
}

std::string describe(const std::string& layer, const Mismatch& m) {
  return fmt::format("layer {} row {} column {} (batch {}, y {}, x {}): expected {}, got {}", layer,
                     m.row, m.col, m.b, m.y, m.x, m.expected, m.got);
}

}  // namespace msq
