// The activation-packed DSP core (impl: dsp48_actpack): rows x cols DSP48 slices, output-stationary
// like dsp48, one weight row per slice row; a packed slice computes two output columns of its row
// at once. Its A port carries two activations, A = (x_hi << D) + x_lo, its B port the shared
// weight, and P += A * w; the lanes unpack as in dsp48 (lo = the sign-extended low D bits, hi = (P
// - lo) >> D), into the two columns' accumulators. P is drained every `chain` products (the longest
// chain that keeps the lanes apart, from D, the weight and activation widths and the 48-bit P) and
// at the end of the job, each drain costing drain_cycles. A job of tn columns and tk steps takes
//   ceil(tn / (2 cols)) * (tk + ceil(tk / chain) * drain_cycles) + pipeline_depth   (packed)
//   ceil(tn / cols) * tk + pipeline_depth                                          (one column)
// and runs packed when packing is on, the block's rows pack (a chain of at least 1, and no partial
// sum of any of its rows can overflow the accumulator, since a drain adds a chain at once) and
// packed takes fewer cycles. Unlike weight packing this works for grouped and depthwise
// convolutions: both columns read the same row's weights.
#pragma once

#include <memory>

#include "models/arith/packed_dsp.h"
#include "models/hw/array_core.h"
#include "models/hw/engine_registry.h"

namespace msq {

// How one job of a block runs.
struct ActPackJob {
  bool packed = false;
  int64_t chain = 0;  // products between drains (packed)
  int64_t cycles = 0;
};

// D of the design: lane_offset when set, else the largest the A port allows for act_bits.
int actpack_lane_offset(const DspCoreConfig& c, DspKind kind, int act_bits);

// The widest weight of `rows` as the B port sees it (SP2 rows: F + 2 bits).
int actpack_weight_bits(const QuantLayer& L, const std::vector<int32_t>& rows);

// Whether every row's partial sums provably fit the accumulator: by the plan's per-row bound with
// weights, else by the data-type bound (as the planner decides for weight packing).
bool actpack_rows_safe(const QuantLayer& L, const std::vector<int8_t>& row_sum_bits,
                       const std::vector<int32_t>& rows);

// The job of a block over tn columns and tk steps.
ActPackJob actpack_job(const DspCoreConfig& c, DspKind kind, const QuantLayer& L,
                       const std::vector<int8_t>& row_sum_bits, const std::vector<int32_t>& rows,
                       int64_t tn, int64_t tk);

// The values of one job (as dsp48's): rows over [k0, k0 + tk) and the tile's columns into acc
// ([M][x.tn]); with first_k each register starts at its row's bias. Packed jobs go through the
// packed P register and its drains, others one product at a time.
void actpack_block_values(const ActPackJob& job, const DspGeometry& g, int D, const QuantLayer& L,
                          const std::vector<int8_t>& row_sum_bits, const std::vector<int32_t>& rows,
                          int64_t k0, int64_t tk, bool first_k, const InputTileValues& x,
                          int64_t* acc, uint64_t& overflows, const AccSpec* own = nullptr);

class DspActPackCore : public ArrayCore {
 public:
  DspActPackCore(sc_core::sc_module_name name, const EngineContext& ctx);

  const char* impl() const override { return "dsp48_actpack"; }
  EngineCaps caps() const override;
  int64_t peak_macs_per_cycle() const override;
  int64_t job_cycles(const LayerRun& run, const RowBlock& b, int64_t tn, int64_t tk) const override;
  void load_layer(const LayerRun& run) override { acc_ = acc_spec(*run.layer); }
  void compute(LayerRun& run, const RowBlock& b, const Step& st, const InputTileValues& x,
               OutputTileValues& acc) override;

 protected:
  // A packed slice's A port takes two activations per step: a pass computes 2 x cols columns.
  int64_t pass_columns(const LayerRun& run, const RowBlock& b, int64_t tn,
                       int64_t tk) const override;

 private:
  DspCoreConfig cfg_;
  AccSpec acc_;  // the registers of the layer in flight
};

// The registry's factory (impl: dsp48_actpack): its keys are accelerator.dsp_core.
std::unique_ptr<Engine> make_dsp48_actpack(const char* name, const EngineContext& ctx);
EngineCaps dsp48_actpack_caps(const EngineSpec& spec);
int64_t dsp48_actpack_peak(const EngineSpec& spec);

}  // namespace msq
