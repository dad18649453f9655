#include "models/hw/engines/dsp48_actpack/dsp48_actpack.h"

#include <algorithm>
#include <vector>

#include "models/arith/accumulator.h"
#include "models/arith/sp2.h"
#include "models/tiler.h"

namespace msq {

namespace {
int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}
constexpr int64_t NB = InputTileValues::kNB;
}  // namespace

int actpack_lane_offset(const DspCoreConfig& c, DspKind kind, int act_bits) {
  return c.lane_offset > 0 ? c.lane_offset : max_act_lane_offset(dsp_geometry(kind), act_bits);
}

int actpack_weight_bits(const QuantLayer& L, const std::vector<int32_t>& rows) {
  int wb = 0;
  for (int32_t m : rows)
    wb = std::max(
        wb, L.scheme[m] == uint8_t(Scheme::Sp2) ? Sp2Format(L.bits[m]).F + 2 : int(L.bits[m]));
  return wb;
}

bool actpack_rows_safe(const QuantLayer& L, const std::vector<int8_t>& row_sum_bits,
                       const std::vector<int32_t>& rows) {
  if (row_sum_bits.empty())
    return packing_overflow_safe(L.acc_bits, L.shape.k(), L.act_bits, actpack_weight_bits(L, rows));
  for (int32_t m : rows)
    if (row_sum_bits[size_t(m)] == 0) return false;
  return true;
}

ActPackJob actpack_job(const DspCoreConfig& c, DspKind kind, const QuantLayer& L,
                       const std::vector<int8_t>& row_sum_bits, const std::vector<int32_t>& rows,
                       int64_t tn, int64_t tk) {
  ActPackJob j;
  j.cycles = ceil_div(tn, c.cols) * tk + c.pipeline_depth;
  if (!c.packing) return j;
  const int D = actpack_lane_offset(c, kind, L.act_bits);
  const int64_t chain = act_packed_max_chain(
      dsp_geometry(kind), ActPackLayout{L.act_bits, actpack_weight_bits(L, rows), D});
  if (chain < 1 || !actpack_rows_safe(L, row_sum_bits, rows)) return j;
  const int64_t packed =
      ceil_div(tn, 2 * int64_t(c.cols)) * (tk + ceil_div(tk, chain) * c.drain_cycles) +
      c.pipeline_depth;
  if (packed < j.cycles) j.packed = true, j.chain = chain, j.cycles = packed;
  return j;
}

namespace {

template <typename XT>
void row_values(const ActPackJob& job, const DspGeometry& geo, int D, const int32_t* w,
                const InputTileValues& x, int g, int64_t tk, bool safe, const AccSpec& spec,
                int64_t* a, uint64_t& overflows) {
  const int64_t tn = x.tn;
  for (int64_t nb = 0; nb < x.nblocks; ++nb) {
    const int64_t n0 = nb * NB, cols = std::min(NB, tn - n0);
    const XT* X = x.block<XT>(g, nb);
    if (job.packed) {
      // Slice j of the block holds columns 2j (low lane) and 2j + 1 (high lane); past tn the
      // buffer holds zeros, so a lone last column leaves the high lane at 0.
      constexpr int64_t kPairs = NB / 2;
      for (int64_t c0 = 0; c0 < tk; c0 += job.chain) {
        const int64_t c1 = std::min(tk, c0 + job.chain);
        thread_local std::vector<PackedAccumulator> p;
        p.assign(size_t(kPairs), PackedAccumulator(geo, D));
        for (int64_t k = c0; k < c1; ++k) {
          const XT* xk = X + k * NB;
          for (int64_t j = 0; j < kPairs; ++j)
            p[size_t(j)].mac_acts(uint32_t(xk[2 * j + 1]), uint32_t(xk[2 * j]), w[k]);
        }
        // The drain: both lanes into their columns' accumulators.
        for (int64_t j = 0; j < kPairs && 2 * j < cols; ++j) {
          a[n0 + 2 * j] = acc_add(spec, a[n0 + 2 * j], p[size_t(j)].lo(), overflows);
          if (2 * j + 1 < cols)
            a[n0 + 2 * j + 1] = acc_add(spec, a[n0 + 2 * j + 1], p[size_t(j)].hi(), overflows);
        }
      }
    } else if (safe) {
      int64_t s[NB] = {};
      for (int64_t k = 0; k < tk; ++k) {
        const XT* xk = X + k * NB;
        const int64_t wk = w[k];
        for (int64_t n = 0; n < NB; ++n) s[n] += wk * int64_t(xk[n]);
      }
      for (int64_t n = 0; n < cols; ++n) a[n0 + n] += s[n];
    } else {
      for (int64_t k = 0; k < tk; ++k) {
        const XT* xk = X + k * NB;
        for (int64_t n = 0; n < cols; ++n)
          a[n0 + n] = acc_add(spec, a[n0 + n], int64_t(w[k]) * xk[n], overflows);
      }
    }
  }
}

}  // namespace

void actpack_block_values(const ActPackJob& job, const DspGeometry& g, int D, const QuantLayer& L,
                          const std::vector<int8_t>& row_sum_bits, const std::vector<int32_t>& rows,
                          int64_t k0, int64_t tk, bool first_k, const InputTileValues& x,
                          int64_t* acc, uint64_t& overflows, const AccSpec* own) {
  const int64_t tn = x.tn;
  const AccSpec spec = own ? *own : AccSpec{L.acc_bits, L.overflow};
  for (int32_t m : rows) {
    int64_t* a = acc + int64_t(m) * tn;
    if (first_k)
      for (int64_t n = 0; n < tn; ++n) a[n] = acc_load(spec, L.bias[m], overflows);
    const int grp = L.shape.groups == 1 ? 0 : int(m / L.shape.rows_per_group());
    const bool safe = !row_sum_bits.empty() && row_sum_bits[size_t(m)] != 0;
    const int32_t* w = L.row(m) + k0;
    if (L.act_bits <= 8)
      row_values<uint8_t>(job, g, D, w, x, grp, tk, safe, spec, a, overflows);
    else
      row_values<uint16_t>(job, g, D, w, x, grp, tk, safe, spec, a, overflows);
  }
}

DspActPackCore::DspActPackCore(sc_core::sc_module_name name, const EngineContext& ctx)
    : ArrayCore(name, ctx), cfg_(ctx.spec.dsp()) {}

std::unique_ptr<Engine> make_dsp48_actpack(const char* name, const EngineContext& ctx) {
  return std::make_unique<DspActPackCore>(name, ctx);
}

EngineCaps dsp48_actpack_caps(const EngineSpec&) {
  EngineCaps c;
  c.sp2 = true;  // spilled SP2 rows are small integers to a multiplier
  c.fixed = c.home_fixed = true;
  c.min_bits = 2;
  c.max_bits = 8;
  // It packs two activations per slice inside its own jobs, never two rows: the planner gives it
  // rows one per slice.
  c.packing = false;
  return c;
}

int64_t dsp48_actpack_peak(const EngineSpec& s) {
  return int64_t(s.rows) * s.cols * (s.packing ? 2 : 1);
}

EngineCaps DspActPackCore::caps() const {
  return dsp48_actpack_caps(spec_);
}

int64_t DspActPackCore::peak_macs_per_cycle() const {
  return dsp48_actpack_peak(spec_);
}

int64_t DspActPackCore::job_cycles(const LayerRun& run, const RowBlock& b, int64_t tn,
                                   int64_t tk) const {
  return actpack_job(cfg_, f_.dsp_kind, *run.layer, run.plan.row_sum_bits, b.rows, tn, tk).cycles;
}

int64_t DspActPackCore::pass_columns(const LayerRun& run, const RowBlock& b, int64_t tn,
                                     int64_t tk) const {
  const bool packed =
      actpack_job(cfg_, f_.dsp_kind, *run.layer, run.plan.row_sum_bits, b.rows, tn, tk).packed;
  return packed ? 2 * int64_t(cfg_.cols) : int64_t(cfg_.cols);
}

void DspActPackCore::compute(LayerRun& run, const RowBlock& b, const Step& st,
                             const InputTileValues& x, OutputTileValues& acc) {
  const QuantLayer& L = *run.layer;
  const ActPackJob job =
      actpack_job(cfg_, f_.dsp_kind, L, run.plan.row_sum_bits, b.rows, x.tn, st.tk);
  actpack_block_values(job, dsp_geometry(f_.dsp_kind),
                       actpack_lane_offset(cfg_, f_.dsp_kind, L.act_bits), L, run.plan.row_sum_bits,
                       b.rows, int64_t(st.kt) * run.plan.tk, st.tk, st.kt == 0, x, acc.acc.data(),
                       run.overflows, &acc_);
}

}  // namespace msq
