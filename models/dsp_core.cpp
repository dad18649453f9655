#include "models/dsp_core.h"

#include "models/arith/acc_bound.h"
#include "models/arith/accumulator.h"
#include "models/arith/packed_dsp.h"

namespace msq {

DspCore::DspCore(sc_core::sc_module_name name, Fabric& fabric, Buffer& weights,
                 const DspCoreConfig& cfg)
    : ArrayCore(name, fabric, kDsp, weights), cfg_(cfg) {}

int64_t DspCore::job_cycles(const LayerRun& run, const RowBlock& b, int64_t tn, int64_t tk) const {
  return dsp_job_cycles(cfg_, tn, tk, b.packed, run.plan.chain);
}

void DspCore::load_layer(const LayerRun& run) {
  const QuantLayer& L = *run.layer;
  const int64_t K = L.shape.k();
  const int D = run.plan.lane_offset;
  packed_a_.assign(size_t(L.shape.m()), {});
  row_acc_.assign(size_t(L.shape.m()), 0);
  for (const RowBlock& b : run.plan.dsp_blocks) {
    for (int32_t m : b.rows) {
      const int need = acc_bits_l1(L.row(m), K, L.act_bits, L.bias[m]);
      row_acc_[size_t(m)] = need > L.acc_bits ? 0 : (need <= 32 ? 32 : 64);
    }
    if (!b.packed) continue;
    for (size_t i = 0; i < b.rows.size(); i += 2) {
      // A lone last row rides the low lane.
      const bool pair = i + 1 < b.rows.size();
      const int32_t* hi = pair ? L.row(b.rows[i]) : nullptr;
      const int32_t* lo = L.row(b.rows[pair ? i + 1 : i]);
      std::vector<int64_t>& a = packed_a_[size_t(b.rows[i])];
      a.resize(size_t(K));
      for (int64_t k = 0; k < K; ++k)
        a[size_t(k)] = int64_t(uint64_t(int64_t(hi ? hi[k] : 0)) << D) + lo[k];
    }
  }
}

namespace {

// P += A * x over a chain of at most `chain` products, then drain: P is a 48-bit register, the low
// lane is its sign-extended low D bits and the high lane (P - lo) >> D.
template <typename XT>
void packed_slice(const XT* X, int64_t tk, int64_t tn, const int64_t* A, int64_t chain, int D,
                  int p_bits, int64_t* acc_hi, int64_t* acc_lo, std::vector<int64_t>& P) {
  P.assign(size_t(tn), 0);
  int64_t* p = P.data();
  const int psh = 64 - p_bits;
  const uint64_t mask = (uint64_t(1) << D) - 1, sign = uint64_t(1) << (D - 1);
  int64_t in_chain = 0;
  for (int64_t k = 0; k < tk; ++k) {
    const int64_t a = A[k];
    const XT* x = X + k * tn;
    for (int64_t n = 0; n < tn; ++n) p[n] += a * int64_t(x[n]);
    if (++in_chain == chain || k + 1 == tk) {
      for (int64_t n = 0; n < tn; ++n) {
        const int64_t reg = int64_t(uint64_t(p[n]) << psh) >> psh;  // the 48-bit P register
        const int64_t lo = int64_t((uint64_t(reg) & mask) ^ sign) - int64_t(sign);
        if (acc_hi) acc_hi[n] += (reg - lo) >> D;
        acc_lo[n] += lo;
        p[n] = 0;
      }
      in_chain = 0;
    }
  }
}

template <typename XT>
void single_row(const XT* X, int64_t tk, int64_t tn, const int32_t* w, int mode,
                const AccSpec& spec, int64_t* acc, uint64_t& overflows, std::vector<int64_t>& s) {
  if (mode != 0) {
    s.assign(size_t(tn), 0);
    int64_t* sum = s.data();
    for (int64_t k = 0; k < tk; ++k) {
      const int64_t wk = w[k];
      if (wk == 0) continue;
      const XT* x = X + k * tn;
      for (int64_t n = 0; n < tn; ++n) sum[n] += wk * int64_t(x[n]);
    }
    for (int64_t n = 0; n < tn; ++n) acc[n] += sum[n];
    return;
  }
  for (int64_t k = 0; k < tk; ++k) {
    const XT* x = X + k * tn;
    for (int64_t n = 0; n < tn; ++n) acc[n] = acc_add(spec, acc[n], int64_t(w[k]) * x[n], overflows);
  }
}

template <typename XT>
void block_values(const QuantLayer& L, const LayerPlan& plan, const RowBlock& b, const Step& st,
                  const XT* Xbase, int64_t tn, const std::vector<std::vector<int64_t>>& packed_a,
                  const std::vector<int>& row_acc, int p_bits, int64_t* acc, uint64_t& overflows,
                  std::vector<int64_t>& P, std::vector<int64_t>& s) {
  const int64_t tk = st.tk, k0 = int64_t(st.kt) * plan.tk;
  const AccSpec spec{L.acc_bits, L.overflow};
  auto xg = [&](int32_t m) {
    const int g = L.shape.groups == 1 ? 0 : m / L.shape.rows_per_group();
    return Xbase + size_t(g) * size_t(tk) * size_t(tn);
  };
  for (int32_t m : b.rows)
    if (st.kt == 0)
      for (int64_t n = 0; n < tn; ++n) acc[m * tn + n] = acc_load(spec, L.bias[m], overflows);
  if (b.packed) {
    // The planner packs only rows that cannot overflow, so lane sums add straight in. The two
    // rows of a slice share the activation, hence the same group.
    for (size_t i = 0; i < b.rows.size(); i += 2) {
      const bool pair = i + 1 < b.rows.size();
      const int32_t hi = b.rows[i], lo = b.rows[pair ? i + 1 : i];
      packed_slice(xg(lo), tk, tn, packed_a[size_t(hi)].data() + k0, plan.chain, plan.lane_offset,
                   p_bits, pair ? acc + int64_t(hi) * tn : nullptr, acc + int64_t(lo) * tn, P);
    }
    return;
  }
  for (int32_t m : b.rows)
    single_row(xg(m), tk, tn, L.row(m) + k0, row_acc[size_t(m)], spec, acc + int64_t(m) * tn,
               overflows, s);
}

}  // namespace

void DspCore::compute(LayerRun& run, const RowBlock& b, const Step& st, const InputTileValues& x,
                      OutputTileValues& acc) {
  const int p_bits = dsp_geometry(f_.dsp_kind).p_bits;
  if (run.layer->act_bits <= 8)
    block_values(*run.layer, run.plan, b, st, x.x8.data(), x.tn, packed_a_, row_acc_, p_bits,
                 acc.acc.data(), run.overflows, p_, s64_);
  else
    block_values(*run.layer, run.plan, b, st, x.x16.data(), x.tn, packed_a_, row_acc_, p_bits,
                 acc.acc.data(), run.overflows, p_, s64_);
}

}  // namespace msq
