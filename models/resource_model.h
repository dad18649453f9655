// The resource (LUT/FF/DSP/BRAM36) cost model: an analytic estimate of what a configured design
// takes on its device, from per-PE datapath widths and fixed overheads whose coefficients live
// in configs/resources/costs.yaml (docs/resources.md gives the formulas and the sources). Plain
// C++: it runs before, and without, any simulation.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "models/config.h"

namespace msq {

// Every coefficient of costs.yaml, by section. Fractional costs are allowed (two 5-input
// functions share one LUT6); the model rounds up once per block.
struct ResourceCosts {
  struct Fabric {
    double adder_luts_per_bit = 0;
    int mux_levels_per_lut = 2;
    double ffs_per_register_bit = 0;
  } fabric;
  struct LutCore {
    double sign_luts_per_bit = 0;
    double sign_luts_fixed = 0;
    double readout_luts_per_bit = 0;
    double readout_ffs_per_bit = 0;
    double pe_control_ffs_per_stage = 0;
    double pe_control_luts = 0;
  } lut_core;
  struct DspCore {
    int dsp_per_pe = 1;
    int internal_pipeline_stages = 3;
    double unpack_luts_per_offset_bit = 0;
    double unpack_luts_fixed = 0;
    double readout_luts_per_bit = 0;
    double readout_ffs_per_bit = 0;
  } dsp_core;
  // The bit-serial SP2 PE (rtl/sp2_pe_bitserial.v): one shifter (priced with
  // fabric.mux_levels_per_lut), the rest per accumulator bit and fixed; the wrapping PE (no
  // product register) and the saturating one (sat_*, with its product register).
  struct BitserialCore {
    double luts_per_acc_bit = 0;
    double luts_fixed = 0;
    double control_ffs = 0;
    double sat_luts_per_acc_bit = 0;
    double sat_luts_fixed = 0;
    double sat_control_ffs = 0;
  } bitserial_core;
  // The per-engine glue around an R x C array (rtl/engine_glue.v): buffer write enables, operand
  // broadcast registers, the column drain and its output mux, the sequencer.
  struct Glue {
    double luts_fixed = 0;
    double luts_per_row = 0;
    double luts_per_col = 0;
    double luts_per_col_output_bit = 0;
    double ffs_fixed = 0;
  } glue;
  struct Buffers {
    int command_fifo_bram18 = 0;
  } buffers;
  struct Dma {
    double luts_per_port = 0;
    double ffs_per_port = 0;
    int bram18_per_port = 0;
  } dma;
  // The vector engine, per lane (configs/resources/costs.yaml has the derivation).
  struct Vector {
    int dsp_per_lane = 0;
    int product_bits = 48;
    int shift_levels = 6;
    double luts_per_act_bit = 0;
    double luts_per_lane = 0;
    double ffs_per_act_bit = 0;
    double ffs_per_lane = 0;
  } vector;
  struct Control {
    double luts = 0;
    double ffs = 0;
    int requant_units = 0;
    int dsp_per_requant_unit = 0;
  } control;
};

// Loads a cost file. Every key is required; an unknown key, a missing key or a value of the wrong
// type throws InputError "FILE:LINE: section.key: what".
ResourceCosts load_resource_costs(const std::string& path);

// find_configs_dir() + "/resources/costs.yaml", the coefficients tools/synth_costs.py derived from
// Yosys runs (models/config_dir.h: $MSQSIM_CONFIG_DIR, else the installed configs next to the
// binary, else for a build-tree binary the source tree's configs/). $MSQSIM_RESOURCE_COSTS
// chooses another file: "handwritten" is resources/costs_handwritten.yaml (the coefficients
// derived by hand from data sheets), anything else a path.
std::string default_resource_costs_path();

// One processing element's cost before rounding, for reports and the MSD comparison.
struct PeCost {
  double lut = 0, ff = 0;
  int64_t dsp = 0;
};
PeCost sp2_pe_cost(const RunConfig& cfg, const ResourceCosts& costs);
PeCost dsp_pe_cost(const RunConfig& cfg, const ResourceCosts& costs);
// The bit-serial SP2 PE (rtl/sp2_pe_bitserial.v): a-bit activations, digits of 1 + m1 bits, an
// acc-bit accumulator. Saturating, it sums a weight's digits in a product register of a + 2^m1
// bits; wrapping, it adds each digit straight into the accumulator (the same sums: wrapping is
// modular addition). For the lut_sp2_bitserial engine.
PeCost bitserial_pe_cost(int a, int m1, int acc, Overflow overflow, const ResourceCosts& costs);
// The activation-packed DSP PE: two a-bit activations and one wb-bit weight per slice, lane
// offset D, two acc-bit lane accumulators, pipeline_depth stages.
PeCost dsp_actpacked_pe_cost(int a, int wb, int D, int acc, int pipeline_depth,
                             const ResourceCosts& costs);
// The glue of one R x C engine: row operands of row_bits, column operands of col_bits, each
// column draining out_bits per cycle.
PeCost engine_glue_cost(int rows, int cols, int row_bits, int col_bits, int out_bits,
                        const ResourceCosts& costs);
// The same PEs priced from a run config (the engine's widths, accumulator and lane offset):
// lut_sp2_bitserial and dsp48_actpack.
PeCost bitserial_pe_cost(const RunConfig& cfg, const ResourceCosts& costs);
PeCost actpack_pe_cost(const RunConfig& cfg, const ResourceCosts& costs);
// One lane of the vector engine with a-bit activations.
PeCost vector_lane_cost(int a, const ResourceCosts& costs);

// Whether the DSP core is built with two lanes per slice: packing on, the low-bit weights below
// 8 bits (as the tiler packs them) and at least one product fits the lanes.
bool dsp_core_packed(const RunConfig& cfg);

// One block of the design: lut_core, dsp_core, vector, buffers, dma, control. BRAM18 halves are
// kept apart from whole BRAM36 blocks; the estimate's total rounds their sum up to BRAM36.
struct ResourceLine {
  std::string block;
  int64_t lut = 0, ff = 0, dsp = 0, bram36 = 0;
  int64_t bram18 = 0;
};

struct ResourceEstimate {
  std::vector<ResourceLine> lines;
  int64_t lut = 0, ff = 0, dsp = 0, bram36 = 0;  // used: sums, BRAM18 halves rounded up
  int64_t lut_avail = 0, ff_avail = 0, dsp_avail = 0, bram36_avail = 0;
  std::string device;  // for messages, e.g. "xc7z045"

  bool fits() const;
  // The resource with the highest used/available ratio: "lut", "ff", "dsp" or "bram36" (the
  // first of these on a tie).
  std::string binding() const;
  // "" when the design fits, else one clause per resource over 100%, joined by "; ", e.g.
  // "the design needs 1,024 DSP slices, the XC7Z045 has 900 (114%)". Percentages round up, so
  // an overfull resource never reads 100%.
  std::string overfull_message() const;
};

ResourceEstimate estimate_resources(const RunConfig& cfg, const ResourceCosts& costs);

// The run report's `resources` object: {"lut": {"used", "available", "percent"}, "ff", "dsp",
// "bram36", "binding", "fits", "breakdown": [{"block", "lut", "ff", "dsp", "bram36", "bram18"}]}.
// percent is 100 * used / available to one decimal.
nlohmann::json resources_to_json(const ResourceEstimate& e);

}  // namespace msq
