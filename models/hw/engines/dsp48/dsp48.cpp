#include "models/hw/engines/dsp48/dsp48.h"

#if MSQ_ISA_X86
#include <immintrin.h>
#endif

#include <algorithm>

#include "models/arith/accumulator.h"
#include "models/arith/packed_dsp.h"

namespace msq {

DspCore::DspCore(sc_core::sc_module_name name, const EngineContext& ctx)
    : ArrayCore(name, ctx), cfg_(ctx.spec.dsp()) {}

std::unique_ptr<Engine> make_dsp48(const char* name, const EngineContext& ctx) {
  return std::make_unique<DspCore>(name, ctx);
}

EngineCaps dsp48_caps(const EngineSpec& s) {
  EngineCaps c;
  c.sp2 = true;  // SP2 rows spill here as fixed-point weights (scheduler.spill)
  c.fixed = c.home_fixed = true;
  c.min_bits = 2;
  c.max_bits = 8;
  c.packing = s.packing;
  return c;
}

int64_t dsp48_peak(const EngineSpec& s) {
  return int64_t(s.rows) * s.cols * (s.packing ? 2 : 1);
}

EngineCaps DspCore::caps() const {
  return dsp48_caps(spec_);
}

int64_t DspCore::peak_macs_per_cycle() const {
  return dsp48_peak(spec_);
}

int64_t DspCore::job_cycles(const LayerRun&, const RowBlock& b, int64_t tn, int64_t tk) const {
  return dsp_job_cycles(cfg_, tn, tk, b.packed, b.chain);
}

void DspTables::load(const QuantLayer& L, const LayerPlan& plan,
                     const std::vector<RowBlock>& blocks) {
  const int64_t K = L.shape.k();
  packed_a.assign(size_t(L.shape.m()), {});
  row_acc.assign(size_t(L.shape.m()), 0);
  for (const RowBlock& b : blocks) {
    for (int32_t m : b.rows) row_acc[size_t(m)] = plan.row_sum_bits[size_t(m)];
    if (!b.packed) continue;
    const int D = b.lane_offset;
    for (size_t i = 0; i < b.rows.size(); i += 2) {
      // A lone last row rides the low lane.
      const bool pair = i + 1 < b.rows.size();
      const int32_t* hi = pair ? L.row(b.rows[i]) : nullptr;
      const int32_t* lo = L.row(b.rows[pair ? i + 1 : i]);
      std::vector<int32_t>& a = packed_a[size_t(b.rows[i])];
      a.resize(size_t(K));
      for (int64_t k = 0; k < K; ++k)
        a[size_t(k)] = int32_t(int64_t(uint64_t(int64_t(hi ? hi[k] : 0)) << D) + lo[k]);
    }
  }
}

void DspCore::load_layer(const LayerRun& run) {
  t_.load(*run.layer, run.plan, run.plan.blocks(id_));
  acc_ = acc_spec(*run.layer);
}

void DspCore::compute(LayerRun& run, const RowBlock& b, const Step& st, const InputTileValues& x,
                      OutputTileValues& acc) {
  dsp_block_values(kernels::active_isa(), t_, *run.layer, run.plan, b, st.kt, st.tk, x,
                   dsp_geometry(f_.dsp_kind).p_bits, acc_, acc.acc.data(), run.overflows);
}

// The kernels, once per variant (models/kernels/isa.h).
namespace {
#define MSQ_KERNEL_FILE "models/kernels/dsp_values.inc"
#include "models/kernels/variants.inc"
}  // namespace

void dsp_block_values(kernels::Isa isa, const DspTables& t, const QuantLayer& L,
                      const LayerPlan& plan, const RowBlock& b, int kt, int64_t tk,
                      const InputTileValues& x, int p_bits, const AccSpec& spec, int64_t* acc,
                      uint64_t& overflows) {
  switch (isa) {
#if MSQ_ISA_X86
    case kernels::Isa::Avx512Vnni:
    case kernels::Isa::Avx512:
      return avx512::values(t, L, plan, b, kt, tk, x, p_bits, spec, acc, overflows);
    case kernels::Isa::Avx2:
      return avx2::values(t, L, plan, b, kt, tk, x, p_bits, spec, acc, overflows);
#endif
    default:
      return scalar::values(t, L, plan, b, kt, tk, x, p_bits, spec, acc, overflows);
  }
}

}  // namespace msq
