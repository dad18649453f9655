// The DSP core: rows x cols DSP48 slices, output-stationary like the LUT core. A slice multiplies
// one activation per cycle by its weight; a packed slice holds two rows' weights in one operand,
// A = (w_hi << D) + w_lo, and accumulates A * x in its 48-bit P. Before the low lane's sum can
// outgrow D bits (every `chain` products, and at the end of a job) P is drained: the lanes are
// split with the sign correction and added to the two rows' accumulators, which costs
// drain_cycles. Rows of 8 or more bits, and rows whose sums could overflow the accumulator, run
// one per slice.
#pragma once

#include <memory>
#include <vector>

#include "models/hw/array_core.h"
#include "models/hw/engine_registry.h"
#include "models/kernels/isa.h"

namespace msq {

// What the DSP core holds about a layer, built once per layer.
struct DspTables {
  // Packed operand per slice and k, keyed by the slice's high-lane row (or its only row).
  std::vector<std::vector<int32_t>> packed_a;  // |A| < 2^26: the multiplier's A port
  std::vector<int> row_acc;                    // per row: 32 or 64 when no sum can overflow, else 0

  // `blocks`: the plan's blocks of the engine that holds the tables.
  void load(const QuantLayer& L, const LayerPlan& plan, const std::vector<RowBlock>& blocks);
};

// The values of one job: block b over k tile kt (tk reduction steps) and the tile's columns, added
// into acc ([M][x.tn]); at kt = 0 each row's registers start at its bias. p_bits: the DSP's P
// register width; spec: the accumulator registers. The variant `isa` computes the same values as
// every other (tests/test_isa_kernels.cpp).
void dsp_block_values(kernels::Isa isa, const DspTables& t, const QuantLayer& L,
                      const LayerPlan& plan, const RowBlock& b, int kt, int64_t tk,
                      const InputTileValues& x, int p_bits, const AccSpec& spec, int64_t* acc,
                      uint64_t& overflows);

class DspCore : public ArrayCore {
 public:
  DspCore(sc_core::sc_module_name name, const EngineContext& ctx);

  const char* impl() const override { return "dsp48"; }
  EngineCaps caps() const override;
  int64_t peak_macs_per_cycle() const override;
  int64_t job_cycles(const LayerRun& run, const RowBlock& b, int64_t tn, int64_t tk) const override;
  void load_layer(const LayerRun& run) override;
  void compute(LayerRun& run, const RowBlock& b, const Step& st, const InputTileValues& x,
               OutputTileValues& acc) override;

 private:
  DspCoreConfig cfg_;
  DspTables t_;
  AccSpec acc_;  // the registers of the layer in flight
};

// The registry's entries (impl: dsp48): the factory, capabilities and peak.
std::unique_ptr<Engine> make_dsp48(const char* name, const EngineContext& ctx);
EngineCaps dsp48_caps(const EngineSpec& spec);
int64_t dsp48_peak(const EngineSpec& spec);

}  // namespace msq
