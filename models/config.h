// Runtime configuration: plain data, resolved and validated once by sim/config_loader, read by the
// blocks. Every field has its default here; the YAML keys mirror this tree (README lists them).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "models/cost/energy.h"
#include "models/layer.h"

namespace msq {

enum class DspKind : uint8_t { DSP48E1, DSP48E2 };

// configs/devices/<name>.yaml
struct DeviceConfig {
  std::string name = "xc7z045";
  std::string board;
  int64_t lut = 0, ff = 0, bram36 = 0, dsp = 0;
  DspKind dsp_kind = DspKind::DSP48E1;
  // PL-to-PS high-performance AXI ports of the family (UG585 for Zynq-7000, UG1085 for Zynq
  // UltraScale+); 0 = not given, not checked.
  int axi_hp_ports = 0;
  int axi_hp_width_bits = 0;      // widest port configuration
  double axi_hp_clock_mhz = 0.0;  // fastest port clock
  double static_power_w = 0.0;    // device static power for the energy model; 0 = not known
};

// accelerator.lut_core: rows x cols SP2 shift-add PEs.
struct LutCoreConfig {
  int rows = 32;
  int cols = 32;
  int pipeline_depth = 4;  // cycles from the first operand in to the first sum out
};

// accelerator.vector: the vector engine that runs a graph's Add, pooling and Concat ops.
struct VectorConfig {
  int lanes = 16;          // values per cycle
  int pipeline_depth = 4;  // cycles from the first operand in to the first result out
};

// accelerator.dsp_core: rows x cols DSP48 slices.
struct DspCoreConfig {
  int rows = 16;
  int cols = 16;
  int pipeline_depth = 4;  // DSP48 with A/B, M and P registers, plus the operand fetch
  bool packing = true;     // two low-bit products sharing an activation per DSP
  int lane_offset = 0;     // D of the packed operand; 0 = smallest that keeps the lanes apart
  int drain_cycles = 1;    // cycles to unpack and add the packed accumulator into the row sums
};

// accelerator.accumulator
struct AccumulatorConfig {
  int bits = 32;
  Overflow overflow = Overflow::Wrap;
};

// accelerator.buffers: on-chip buffers in BRAM36 blocks (4 KiB of data each, 72-bit ports).
struct BufferConfig {
  int weight_bram36 = 32;
  int input_bram36 = 64;
  int output_bram36 = 32;
  bool double_buffer = true;
  // Search the split of weight + input + output BRAM36 (their sum is the budget) with the least
  // estimated cycles over the network (docs/mapping.md).
  bool search = false;
};

// How each layer is tiled (docs/mapping.md): the fixed rule, a search over tile sizes and loop
// orders under the buffer capacities, or the tiles a mapping file gives per layer.
enum class MappingMode : uint8_t { Fixed, Search, Given };
// How rows are split between the engines: by the fixed rule (scheduler.spill), or per layer by the
// search (SP2 rows moved to the fixed-point engine where that makes the layer faster).
enum class BalanceMode : uint8_t { Fixed, PerLayer };

// accelerator.scheduler
struct SchedulerConfig {
  // Rows may run on an engine that can run them but is not their scheme's home (SP2 rows on a
  // DSP engine, ...) when that shortens the layer.
  bool spill = false;
  int tile_n = 0;  // output columns per tile; 0 = the largest that fits the buffers
  int tile_k = 0;  // reduction depth per tile; 0 = the largest that fits the buffers
  MappingMode mapping = MappingMode::Fixed;
  BalanceMode balance = BalanceMode::Fixed;
  // mapping: given: the CSV file of per-layer tiles (models/plan/mapping_file.h), resolved to an
  // absolute path by the config loader.
  std::string mapping_file;
};

// accelerator.engines: one entry per compute array, built by the engine registry
// (models/hw/engine_registry.cpp) from its `impl`. Every kind reads the keys it knows: rows, cols
// and pipeline_depth (all), packing, lane_offset and drain_cycles (dsp48), and its accumulator.
struct EngineSpec {
  std::string impl;
  std::string name;
  int rows = 32, cols = 32, pipeline_depth = 4;
  bool packing = true;
  int lane_offset = 0;
  int drain_cycles = 1;
  // The engine's own accumulator registers. Without one (own_accumulator false) the engine's
  // registers are as wide as each layer asks (accelerator.accumulator, or a trace's acc_bits).
  bool own_accumulator = false;
  AccumulatorConfig accumulator;

  LutCoreConfig lut() const { return {rows, cols, pipeline_depth}; }
  DspCoreConfig dsp() const {
    return {rows, cols, pipeline_depth, packing, lane_offset, drain_cycles};
  }
};

inline EngineSpec lut_engine_spec(const LutCoreConfig& c, std::string name = "lut_core") {
  EngineSpec e;
  e.impl = "lut_sp2", e.name = std::move(name);
  e.rows = c.rows, e.cols = c.cols, e.pipeline_depth = c.pipeline_depth;
  return e;
}
inline EngineSpec dsp_engine_spec(const DspCoreConfig& c, std::string name = "dsp_core") {
  EngineSpec e;
  e.impl = "dsp48", e.name = std::move(name);
  e.rows = c.rows, e.cols = c.cols, e.pipeline_depth = c.pipeline_depth;
  e.packing = c.packing, e.lane_offset = c.lane_offset, e.drain_cycles = c.drain_cycles;
  return e;
}

struct AcceleratorConfig {
  // The engines in list order. Empty: the old spelling's two engines, lut_core (lut_sp2, from the
  // lut_core keys) and dsp_core (dsp48, from the dsp_core keys); engine_specs() resolves either.
  std::vector<EngineSpec> engines;
  LutCoreConfig lut_core;
  DspCoreConfig dsp_core;
  AccumulatorConfig accumulator;
  BufferConfig buffers;
  SchedulerConfig scheduler;
  VectorConfig vector;
};

// The accelerator's engines, whichever spelling the config used.
inline std::vector<EngineSpec> engine_specs(const AcceleratorConfig& a) {
  if (!a.engines.empty()) return a.engines;
  return {lut_engine_spec(a.lut_core), dsp_engine_spec(a.dsp_core)};
}

// memory.dram: timing in DRAM clock cycles (tCK), from the preset then any overrides.
struct DramConfig {
  std::string preset = "ddr3-1066-x32";
  double clock_mhz = 533.0;  // command clock; data moves on both edges
  int data_width_bits = 32;  // bus width
  int channels = 1;
  int banks = 8;
  int rows = 32768;
  int row_bytes = 4096;  // bytes of one row across the bus width (page size of the rank)
  int burst_length = 8;  // beats per burst
  int tRCD = 7, tRP = 7, CL = 7, tRAS = 20, tRFC = 139, tREFI = 4160;
  int tCCD = 4;  // column-to-column (a burst every tCCD at best; tCCD_S with bank groups)
  // Optional timing; 0 = not modelled (the presets made before these existed leave them out).
  int bank_groups = 1;  // DDR4: banks split in groups, consecutive bursts alternate groups
  int tCCD_L = 0;       // column to column within a bank group
  int tRRD = 0;         // activate to activate (tRRD_S with bank groups)
  int tRRD_L = 0;       // activate to activate within a bank group
  int tFAW = 0;         // window that holds at most four activates
  int CWL = 0;          // write command to first write data; 0 = CL
  int tWTR = 0;         // end of write data to read command (tWTR_S with bank groups)
  int tWTR_L = 0;       // the same within a bank group
  int tRTW = 0;         // read command to write command
  int tWR = 0;          // end of write data to precharge (write recovery)
  // Data-sheet currents (mA) and voltages (V) of one chip, for the energy model (docs/energy.md);
  // 0 = not given (no DRAM energy). VPP and IPP* only for DDR4.
  int device_width_bits = 16;  // DQ bits of one chip: the bus has data_width_bits / this chips
  double VDD = 0, IDD0 = 0, IDD2N = 0, IDD3N = 0, IDD4R = 0, IDD4W = 0, IDD5B = 0;
  double VPP = 0, IPP0 = 0, IPP3N = 0, IPP5B = 0;
};

// memory.streams: AXI HP ports (0-based) a DMA stream is bound to; empty = every port, shared with
// the other unbound streams one transfer at a time (the behaviour before streams existed).
struct StreamPorts {
  std::vector<int> weights, inputs, outputs;
  bool any() const { return !weights.empty() || !inputs.empty() || !outputs.empty(); }
};

// memory: a DRAM model behind AXI HP ports that the DMA drives at the port clock (docs/memory.md).
struct MemoryConfig {
  std::string model = "ddr";  // DRAM model by name (models/hw/memory/dram_model.h registry)
  DramConfig dram;
  int axi_ports = 2;
  int axi_width_bits = 64;
  double axi_clock_mhz = 0.0;           // AXI port clock; 0 = the fabric clock
  bool clip_axi_clock = false;          // run the ports at most at the device's AXI HP clock limit
  double axi_clock_clipped_from = 0.0;  // set by the loader: the clock the limit replaced
  int dma_setup_cycles = 16;            // fabric cycles to issue one DMA descriptor
  StreamPorts streams;
};

// workload: which network and how its rows are quantized.
struct WorkloadConfig {
  std::string network = "resnet18";  // configs/workloads/<name>.yaml, a .yaml path or a .csv
  std::string network_path;          // resolved file
  int batch = 1;
  double sp2_fraction = 0.5;     // fraction of rows (per layer) that are SP2
  double fixed8_fraction = 0.0;  // fraction of rows at 8-bit fixed (multi-precision, RMSMP)
  int weight_bits = 4;           // bits of the low-precision rows (SP2 and fixed)
  int act_bits = 8;
  uint64_t seed = 1;
  bool last_layer_accumulators = true;  // the final classifier emits accumulators
  std::vector<std::string> layers;      // run only these layers (by name); empty = all
  // An ONNX network (docs/import.md): calibration images (float32 [N, C, H, W] .npy; empty: the
  // activation ranges are synthetic).
  std::string calibration;
  std::string calibration_path;  // resolved file
  // An ONNX network: images (and labels) `run` compares with the float network when --eval is not
  // given (docs/import.md); the resolved files are not config keys.
  std::string eval_images, eval_labels;
  std::string eval_images_path, eval_labels_path;
  // The scheme mix of named layers (any network): overrides sp2_fraction / fixed8_fraction.
  std::map<std::string, double> sp2_fraction_per_layer;
  std::map<std::string, double> fixed8_fraction_per_layer;
  bool sp2_auto = false;  // each layer's fraction from its rows' scores, within the bounds below
  double sp2_auto_min = 0.0, sp2_auto_max = 1.0;
};

// energy: the cost file (configs/energy/NAME.yaml or a path; "" = by the device's family) and
// its coefficients after the config's overrides.
struct EnergyConfig {
  std::string costs;
  EnergyCoefficients k;
};

struct RunConfig {
  std::string file;  // where it was loaded from
  DeviceConfig device;
  double clock_mhz = 200.0;
  AcceleratorConfig accelerator;
  MemoryConfig memory;
  WorkloadConfig workload;
  EnergyConfig energy;
  bool verify = true;
};

}  // namespace msq
