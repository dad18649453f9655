// The LUT core: rows x cols SP2 processing elements, output-stationary. PE (r, c) holds the sum
// of weight row r and output column c; each cycle it takes one activation, shifts it by the two
// exponents of the weight's SP2 code, adds the two and accumulates into its acc_bits register.
// A job (a block of at most `rows` rows over tn columns and tk steps) takes
// ceil(tn / cols) * tk cycles plus the pipeline depth.
#pragma once

#include <memory>
#include <vector>

#include "models/arith/accumulator.h"
#include "models/arith/sp2.h"
#include "models/hw/array_core.h"
#include "models/hw/engine_registry.h"
#include "models/kernels/isa.h"

namespace msq {

// A weight as the PE's shifters see it, decoded from the SP2 code in the weight buffer: the two
// shift amounts, an enable mask per term (all ones or zero: e = 0 switches a term off) and the sign
// as a mask (all ones: negate).
struct LutShifts {
  int32_t s1 = 0, s2 = 0, en1 = 0, en2 = 0, neg = 0;
  // The same for 16-bit shifters: a term that is off shifts by 16, which leaves nothing.
  int32_t c1 = 16, c2 = 16;
  // Byte offsets of the two signed terms among the values a column's shifters produce for one k
  // (see kTermBytes in models/kernels/lut_values.inc): entry s * (e1_max + 1) + e holds
  // (-1)^s * (x << (F - e)), entry e = 0 holds 0.
  uint16_t o1 = 0, o2 = 0;
};

// What the LUT core holds about a layer (its weight buffer's code words and the PEs' decoders),
// built once per layer.
struct LutTables {
  int64_t K = 0;
  std::vector<uint8_t> codes;        // [M][K] SP2 code words of this core's rows
  std::vector<LutShifts> decode[9];  // by bit width: code word -> shifter controls
  std::vector<uint8_t> encode[9];    // by bit width: level + 2^F -> code word
  // Per row: the width of the sums where no sum can overflow (16: runs of row_chunk terms in
  // 16-bit lanes, 32, 64), else 0 (the finite register, addition by addition).
  std::vector<int> row_acc, row_chunk;

  // `blocks`: the plan's blocks of the engine that holds the tables.
  void load(const QuantLayer& L, const LayerPlan& plan, const std::vector<RowBlock>& blocks);
};

// The values of one job, in registers of `spec`: rows `rows` over the step's reduction steps [k0,
// k0 + tk) and the tile's columns, added into acc ([M][x.tn]); with first_k, each row's registers
// start at its bias. The variant `isa` computes the same values as every other
// (tests/test_isa_kernels.cpp).
void lut_block_values(kernels::Isa isa, const LutTables& t, const QuantLayer& L,
                      const std::vector<int32_t>& rows, int64_t k0, int64_t tk, bool first_k,
                      const InputTileValues& x, const AccSpec& spec, int64_t* acc,
                      uint64_t& overflows);

class LutCore : public ArrayCore {
 public:
  LutCore(sc_core::sc_module_name name, const EngineContext& ctx);

  const char* impl() const override { return "lut_sp2"; }
  EngineCaps caps() const override;
  int64_t peak_macs_per_cycle() const override;
  int64_t job_cycles(const LayerRun& run, const RowBlock& b, int64_t tn, int64_t tk) const override;
  void load_layer(const LayerRun& run) override;
  void compute(LayerRun& run, const RowBlock& b, const Step& st, const InputTileValues& x,
               OutputTileValues& acc) override;

 private:
  LutCoreConfig cfg_;
  LutTables t_;
  AccSpec acc_;  // the registers of the layer in flight
};

// The registry's entries (impl: lut_sp2): the factory, capabilities and peak.
std::unique_ptr<Engine> make_lut_sp2(const char* name, const EngineContext& ctx);
EngineCaps lut_sp2_caps(const EngineSpec& spec);
int64_t lut_sp2_peak(const EngineSpec& spec);

}  // namespace msq
