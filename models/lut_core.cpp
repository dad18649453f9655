#include "models/lut_core.h"

#include "models/arith/acc_bound.h"
#include "models/arith/accumulator.h"

namespace msq {

LutCore::LutCore(sc_core::sc_module_name name, Fabric& fabric, Buffer& weights,
                 const LutCoreConfig& cfg)
    : ArrayCore(name, fabric, kLut, weights), cfg_(cfg) {}

int64_t LutCore::job_cycles(const LayerRun&, const RowBlock&, int64_t tn, int64_t tk) const {
  return lut_job_cycles(cfg_, tn, tk);
}

void LutCore::load_layer(const LayerRun& run) {
  const QuantLayer& L = *run.layer;
  const int64_t K = L.shape.k();
  rows_.assign(size_t(L.shape.m()), {});
  row_acc_.assign(size_t(L.shape.m()), 0);
  for (const RowBlock& b : run.plan.lut_blocks)
    for (int32_t m : b.rows) {
      const Sp2Format fmt(L.bits[m]);
      std::vector<Shifts>& r = rows_[size_t(m)];
      r.resize(size_t(K));
      for (int64_t k = 0; k < K; ++k) {
        const Sp2Code c = sp2_encode(fmt, L.row(m)[k]);
        r[size_t(k)].s1 = c.e1 ? int8_t(fmt.F - c.e1) : int8_t(-1);
        r[size_t(k)].s2 = c.e2 ? int8_t(fmt.F - c.e2) : int8_t(-1);
        r[size_t(k)].neg = c.s != 0;
      }
      // Where no partial sum can leave the accumulator's range, the finite register and a wide
      // one hold the same values, and the sums can be formed in any grouping.
      const int need = acc_bits_l1(L.row(m), K, L.act_bits, L.bias[m]);
      row_acc_[size_t(m)] = need > L.acc_bits ? 0 : (need <= 32 ? 32 : 64);
    }
}

namespace {

// Shift-add of one row over a k range into wide sums: the PE's datapath, vectorized over columns.
// Only used where no partial sum can overflow the row's register.
template <typename XT, typename AT>
void shift_add_row(const XT* X, int64_t tk, int64_t tn, const LutCore::Shifts* sh, AT* sum) {
  for (int64_t k = 0; k < tk; ++k) {
    const int s1 = sh[k].s1, s2 = sh[k].s2;
    const XT* x = X + k * tn;
    if (s1 >= 0 && s2 >= 0) {
      if (sh[k].neg)
        for (int64_t n = 0; n < tn; ++n) sum[n] -= (AT(x[n]) << s1) + (AT(x[n]) << s2);
      else
        for (int64_t n = 0; n < tn; ++n) sum[n] += (AT(x[n]) << s1) + (AT(x[n]) << s2);
    } else if (s1 >= 0 || s2 >= 0) {
      const int sft = s1 >= 0 ? s1 : s2;
      if (sh[k].neg)
        for (int64_t n = 0; n < tn; ++n) sum[n] -= AT(x[n]) << sft;
      else
        for (int64_t n = 0; n < tn; ++n) sum[n] += AT(x[n]) << sft;
    }
  }
}

// The finite register, one product at a time in ascending k (rows that may overflow).
template <typename XT>
void shift_add_checked(const XT* X, int64_t tk, int64_t tn, const LutCore::Shifts* sh,
                       const AccSpec& spec, int64_t* acc, uint64_t& overflows) {
  for (int64_t k = 0; k < tk; ++k) {
    const XT* x = X + k * tn;
    for (int64_t n = 0; n < tn; ++n) {
      int64_t p = 0;
      if (sh[k].s1 >= 0) p += int64_t(x[n]) << sh[k].s1;
      if (sh[k].s2 >= 0) p += int64_t(x[n]) << sh[k].s2;
      acc[n] = acc_add(spec, acc[n], sh[k].neg ? -p : p, overflows);
    }
  }
}

template <typename XT>
void row_values(const XT* X, int64_t tk, int64_t tn, const LutCore::Shifts* sh, int mode,
                const AccSpec& spec, int64_t* acc, uint64_t& overflows,
                std::vector<int32_t>& s32, std::vector<int64_t>& s64) {
  if (mode == 32) {
    s32.assign(size_t(tn), 0);
    shift_add_row<XT, int32_t>(X, tk, tn, sh, s32.data());
    for (int64_t n = 0; n < tn; ++n) acc[n] += s32[size_t(n)];
  } else if (mode == 64) {
    s64.assign(size_t(tn), 0);
    shift_add_row<XT, int64_t>(X, tk, tn, sh, s64.data());
    for (int64_t n = 0; n < tn; ++n) acc[n] += s64[size_t(n)];
  } else {
    shift_add_checked<XT>(X, tk, tn, sh, spec, acc, overflows);
  }
}

}  // namespace

void LutCore::compute(LayerRun& run, const RowBlock& b, const Step& st, const InputTileValues& x,
                      OutputTileValues& acc) {
  const QuantLayer& L = *run.layer;
  const int64_t tn = x.tn, tk = st.tk;
  const int64_t k0 = int64_t(st.kt) * run.plan.tk;
  const AccSpec spec{L.acc_bits, L.overflow};
  for (int32_t m : b.rows) {
    const int g = L.shape.groups == 1 ? 0 : m / L.shape.rows_per_group();
    const size_t xoff = size_t(g) * size_t(tk) * size_t(tn);
    const Shifts* sh = rows_[size_t(m)].data() + k0;
    int64_t* a = acc.acc.data() + int64_t(m) * tn;
    if (st.kt == 0)  // the PE's register starts at the row's bias
      for (int64_t n = 0; n < tn; ++n) a[n] = acc_load(spec, L.bias[m], run.overflows);
    const int mode = row_acc_[size_t(m)];
    if (L.act_bits <= 8)
      row_values(x.x8.data() + xoff, tk, tn, sh, mode, spec, a, run.overflows, sum32_, sum64_);
    else
      row_values(x.x16.data() + xoff, tk, tn, sh, mode, spec, a, run.overflows, sum32_, sum64_);
  }
}

}  // namespace msq
