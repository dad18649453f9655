#include "models/arith/packed_dsp.h"

#include <algorithm>

#include "models/arith/fixed_point.h"

namespace msq {

namespace {
// Largest magnitude of one lane's product: a symmetric w_bits weight times an x_bits activation.
int64_t lane_product_max(const PackedLayout& l) {
  return int64_t(fixed_max(l.w_bits)) * ((int64_t(1) << l.x_bits) - 1);
}
}  // namespace

int max_lane_offset(const DspGeometry& g, int w_bits) {
  // A = w_hi * 2^D + w_lo must stay inside the signed a_bits port: |A| <= max_hi * 2^D + max_lo.
  int best = 0;
  for (int D = 1; D < g.a_bits; ++D) {
    const int64_t amax = int64_t(fixed_max(w_bits)) * ((int64_t(1) << D) + 1);
    if (amax <= (int64_t(1) << (g.a_bits - 1)) - 1) best = D;
  }
  return best;
}

bool packing_feasible(const DspGeometry& g, const PackedLayout& l) {
  return packed_max_chain(g, l) >= 1;
}

int64_t packed_max_chain(const DspGeometry& g, const PackedLayout& l) {
  if (l.D < 2 || l.D > 46 || l.w_bits < 2 || l.x_bits < 1) return 0;
  if (l.x_bits + 1 > g.b_bits) return 0;  // the activation rides a signed port
  const int64_t amax = int64_t(fixed_max(l.w_bits)) * ((int64_t(1) << l.D) + 1);
  if (amax > (int64_t(1) << (g.a_bits - 1)) - 1) return 0;
  const int64_t pmax = lane_product_max(l);
  if (pmax == 0) return 0;
  // Low lane: its running sum must stay in [-2^(D-1), 2^(D-1) - 1].
  const int64_t lo_chain = ((int64_t(1) << (l.D - 1)) - 1) / pmax;
  // P: |hi| * 2^D + |lo| must stay inside the signed p_bits register.
  const int64_t p_lim = (int64_t(1) << (g.p_bits - 1)) - 1;
  const int64_t per_product = pmax * ((int64_t(1) << l.D) + 1);
  const int64_t p_chain = p_lim / per_product;
  return std::max<int64_t>(0, std::min(lo_chain, p_chain));
}

int max_act_lane_offset(const DspGeometry& g, int x_bits) {
  if (x_bits < 1 || x_bits > 30) return 0;
  const int64_t xmax = (int64_t(1) << x_bits) - 1;
  int best = 0;
  for (int D = 1; D < g.a_bits; ++D)
    if (xmax * ((int64_t(1) << D) + 1) <= (int64_t(1) << (g.a_bits - 1)) - 1) best = D;
  return best;
}

int64_t act_packed_max_chain(const DspGeometry& g, const ActPackLayout& l) {
  if (l.D < 2 || l.D > 46 || l.w_bits < 2 || l.x_bits < 1 || l.x_bits > 30) return 0;
  if (l.w_bits > g.b_bits) return 0;  // the weight rides the signed B port
  const int64_t xmax = (int64_t(1) << l.x_bits) - 1;
  if (xmax * ((int64_t(1) << l.D) + 1) > (int64_t(1) << (g.a_bits - 1)) - 1) return 0;
  const int64_t pmax = int64_t(fixed_max(l.w_bits)) * xmax;
  if (pmax == 0) return 0;
  const int64_t lo_chain = ((int64_t(1) << (l.D - 1)) - 1) / pmax;
  const int64_t p_lim = (int64_t(1) << (g.p_bits - 1)) - 1;
  const int64_t p_chain = p_lim / (pmax * ((int64_t(1) << l.D) + 1));
  return std::max<int64_t>(0, std::min(lo_chain, p_chain));
}

}  // namespace msq
