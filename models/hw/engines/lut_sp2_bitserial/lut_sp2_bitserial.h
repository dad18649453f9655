// The bit-serial LUT core (impl: lut_sp2_bitserial), after MSD's LUT array: rows x cols PEs,
// output-stationary like lut_sp2, but a PE has one shifter instead of two and takes one signed
// digit of its weight per cycle. An SP2 weight's digits are its nonzero terms (0, 1 or 2, from its
// canonical code). Each digit shifts the activation and adds it, with the digit's sign, into the
// PE's product register; after the weight's last digit the product is added into the PE's
// accumulator (acc_bits, wrap or saturate), so overflows happen product by product exactly as in
// the functional model.
//
// The PEs of a row block run in lockstep, and as MSD's controller (lut_ctrl_ex.sv: a digit counter
// up to the tile's `eb` for every k), every k step of a job takes the same number of cycles: the
// block's digit count, the most digits any weight of the block has (at least 1; without weights,
// in timing-only runs, the format's maximum, 2). A job of tn columns and tk steps takes
// ceil(tn / cols) * tk * digits + pipeline_depth cycles. Fixed-point rows are refused (caps):
// docs/arithmetic.md says how they would split into digits.
#pragma once

#include <memory>
#include <unordered_map>
#include <vector>

#include "models/arith/signed_digits.h"
#include "models/hw/array_core.h"
#include "models/hw/engine_registry.h"

namespace msq {

// Cycles of a bit-serial job: every k step of every pass takes `digits` cycles.
int64_t bitserial_job_cycles(const LutCoreConfig& c, int64_t tn, int64_t tk, int digits);

// The digit list of each integer SP2 level of a b-bit row (index: level + 2^F), from its
// canonical code.
const std::vector<DigitList>& sp2_digit_table(int bits);

// The block's digit count: the most digits a weight of `rows` has, at least 1; 2 when the layer
// has no weights (timing only). The planner has refused rows whose digits do not fit the PE's
// digit word (plan_layer).
int bitserial_block_digits(const QuantLayer& L, const std::vector<int32_t>& rows);

// What the engine holds about a layer: each weight of its rows as digits.
struct BitSerialTables {
  int64_t K = 0;
  std::vector<DigitList> digits;  // [M][K], filled for the engine's rows
  void load(const QuantLayer& L, const std::vector<RowBlock>& blocks);
};

// The values of one job: rows over the reduction steps [k0, k0 + tk) and the tile's columns,
// added into acc ([M][x.tn]); with first_k each register starts at its row's bias. row_sum_bits:
// the plan's per-row bound (nonzero: no partial sum can overflow, so the digits may be summed in
// any grouping).
void bitserial_block_values(const BitSerialTables& t, const QuantLayer& L,
                            const std::vector<int8_t>& row_sum_bits,
                            const std::vector<int32_t>& rows, int64_t k0, int64_t tk, bool first_k,
                            const InputTileValues& x, int64_t* acc, uint64_t& overflows);

class LutBitSerialCore : public ArrayCore {
 public:
  LutBitSerialCore(sc_core::sc_module_name name, Fabric& fabric, CoreId slot, Buffer& weights,
                   const LutCoreConfig& cfg);

  const char* impl() const override { return "lut_sp2_bitserial"; }
  EngineCaps caps() const override;
  // rows x cols: one MAC per PE per cycle for one-digit weights; a block of two-digit weights
  // reaches half of it.
  int64_t peak_macs_per_cycle() const override;
  int64_t job_cycles(const LayerRun& run, const RowBlock& b, int64_t tn, int64_t tk) const override;
  void load_layer(const LayerRun& run) override;
  void compute(LayerRun& run, const RowBlock& b, const Step& st, const InputTileValues& x,
               OutputTileValues& acc) override;

 private:
  LutCoreConfig cfg_;
  BitSerialTables t_;
  // Digit count per block, computed once (blocks live as long as the run).
  mutable std::unordered_map<const RowBlock*, int> digits_;
};

// The registry's factory (impl: lut_sp2_bitserial): its keys are accelerator.lut_core.
std::unique_ptr<Engine> make_lut_sp2_bitserial(const char* name, const EngineContext& ctx);

}  // namespace msq
