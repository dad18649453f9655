#include "models/hw/engines/lut_sp2/lut_sp2.h"

#if MSQ_ISA_X86
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstring>
#include <utility>

#include "models/arith/accumulator.h"

namespace msq {

namespace {
// One signed term of one k over a block of 64 columns, in 16-bit lanes.
constexpr int kTermBytes = 128;
// Scratch for vectors: a std::vector of __m512i would drop the type's alignment.
struct alignas(64) CacheLine {
  uint8_t bytes[64];
};
}  // namespace

LutCore::LutCore(sc_core::sc_module_name name, const EngineContext& ctx)
    : ArrayCore(name, ctx), cfg_(ctx.spec.lut()) {}

std::unique_ptr<Engine> make_lut_sp2(const char* name, const EngineContext& ctx) {
  return std::make_unique<LutCore>(name, ctx);
}

EngineCaps lut_sp2_caps(const EngineSpec&) {
  EngineCaps c;
  c.sp2 = c.home_sp2 = true;
  c.min_bits = 3;  // the SP2 formats models/arith/sp2.h defines
  c.max_bits = 8;
  return c;
}

int64_t lut_sp2_peak(const EngineSpec& s) {
  return int64_t(s.rows) * s.cols;
}

EngineCaps LutCore::caps() const {
  return lut_sp2_caps(spec_);
}

int64_t LutCore::peak_macs_per_cycle() const {
  return lut_sp2_peak(spec_);
}

int64_t LutCore::job_cycles(const LayerRun&, const RowBlock&, int64_t tn, int64_t tk) const {
  return lut_job_cycles(cfg_, tn, tk);
}

void LutTables::load(const QuantLayer& L, const LayerPlan& plan,
                     const std::vector<RowBlock>& blocks) {
  K = L.shape.k();
  codes.assign(size_t(L.shape.m() * K), 0);
  row_acc.assign(size_t(L.shape.m()), 0);
  row_chunk.assign(size_t(L.shape.m()), 0);
  for (const RowBlock& b : blocks)
    for (int32_t m : b.rows) {
      const Sp2Format fmt(L.bits[m]);
      const int32_t top = fmt.max_level();
      if (decode[fmt.bits].empty()) {
        // The weight buffer holds each weight's b-bit code word; the PE decodes it into shifter
        // controls. Built once per width: level -> code word, code word -> controls.
        decode[fmt.bits].resize(size_t(1) << fmt.bits);
        encode[fmt.bits].assign(size_t(2 * top + 1), 0);
        for (uint32_t word = 0; word < (uint32_t(1) << fmt.bits); ++word) {
          const Sp2Code c = sp2_unpack(fmt, word);
          LutShifts& sh = decode[fmt.bits][word];
          sh.s1 = c.e1 ? fmt.F - c.e1 : 0;
          sh.s2 = c.e2 ? fmt.F - c.e2 : 0;
          sh.en1 = c.e1 ? -1 : 0;
          sh.en2 = c.e2 ? -1 : 0;
          sh.neg = c.s ? -1 : 0;
          sh.c1 = c.e1 ? sh.s1 : 16;
          sh.c2 = c.e2 ? sh.s2 : 16;
          const int entries = fmt.e1_max() + 1;  // e2_max <= e1_max
          sh.o1 = uint16_t((c.s * entries + c.e1) * kTermBytes);
          sh.o2 = uint16_t((c.s * entries + c.e2) * kTermBytes);
        }
        for (int32_t w = -top; w <= top; ++w)
          if (sp2_is_level(fmt, w))
            encode[fmt.bits][size_t(w + top)] = uint8_t(sp2_pack(fmt, sp2_encode(fmt, w)));
      }
      const int32_t* w = L.row(m);
      uint8_t* code = codes.data() + int64_t(m) * K;
      const uint8_t* enc = encode[fmt.bits].data();
      for (int64_t k = 0; k < K; ++k) code[k] = enc[w[k] + top];
      // Where no partial sum can leave the accumulator's range (the plan's bound), the finite
      // register and a wide one hold the same values.
      row_acc[size_t(m)] = plan.row_sum_bits[size_t(m)];
      // Short runs of terms fit 16-bit lanes (twice the lanes per vector) when a term is small.
      const int64_t term = ((int64_t(1) << L.act_bits) - 1) * fmt.max_level();
      if (row_acc[size_t(m)] == 32 && 32767 / term >= 4) row_acc[size_t(m)] = 16;
      row_chunk[size_t(m)] = int(32767 / term);
    }
}

void LutCore::load_layer(const LayerRun& run) {
  t_.load(*run.layer, run.plan, run.plan.blocks(id_));
  acc_ = acc_spec(*run.layer);
}

void LutCore::compute(LayerRun& run, const RowBlock& b, const Step& st, const InputTileValues& x,
                      OutputTileValues& acc) {
  lut_block_values(kernels::active_isa(), t_, *run.layer, b.rows, int64_t(st.kt) * run.plan.tk,
                   st.tk, st.kt == 0, x, acc_, acc.acc.data(), run.overflows);
}

// The kernels, once per variant (models/kernels/isa.h).
namespace {
#define MSQ_KERNEL_FILE "models/kernels/lut_values.inc"
#include "models/kernels/variants.inc"
}  // namespace

void lut_block_values(kernels::Isa isa, const LutTables& t, const QuantLayer& L,
                      const std::vector<int32_t>& rows, int64_t k0, int64_t tk, bool first_k,
                      const InputTileValues& x, const AccSpec& spec, int64_t* acc,
                      uint64_t& overflows) {
  switch (isa) {
#if MSQ_ISA_X86
    case kernels::Isa::Avx512Vnni:
    case kernels::Isa::Avx512:
      return avx512::block_values(t, L, rows, k0, tk, first_k, x, spec, acc, overflows);
    case kernels::Isa::Avx2:
      return avx2::block_values(t, L, rows, k0, tk, first_k, x, spec, acc, overflows);
#endif
    default:
      return scalar::block_values(t, L, rows, k0, tk, first_k, x, spec, acc, overflows);
  }
}

}  // namespace msq
