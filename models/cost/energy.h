// The energy model, Accelergy style: a run's actions (engine operations by kind and width, BRAM
// accesses, DMA bytes, DRAM commands and the time the DRAM spent open or idle) times an energy per
// action, plus the device's static power over the run's time. Plain C++: it knows nothing of
// where the counts come from (sim/energy_report.cpp fills them from a run's results and the
// blocks' statistics), and the coefficients come from a cost file where each one carries its
// source (configs/energy/, docs/energy.md).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace msq {

// Every coefficient of an energy cost file (configs/energy/NAME.yaml). Units in the names.
struct EnergyCoefficients {
  double lut_pj_per_lut = 0;  // lut_core.pj_per_lut: one LUT of a PE datapath, one operation
  double dsp_pj_per_product_bit = 0;  // dsp_core.pj_per_product_bit: per A x B partial-product bit
  double dsp_pj_per_accumulator_bit = 0;  // dsp_core.pj_per_accumulator_bit: per bit of P added
  double bram_pj_per_read = 0;            // buffers.pj_per_read: one 72-bit BRAM36 port read
  double bram_pj_per_write = 0;           // buffers.pj_per_write: one 72-bit BRAM36 port write
  double dma_pj_per_read_byte = 0;   // dma.pj_per_read_byte: a byte read from DRAM (I/O, term.)
  double dma_pj_per_write_byte = 0;  // dma.pj_per_write_byte: a byte written to DRAM
  std::string file;                  // the cost file they were read from
  std::map<std::string, std::string> source;  // "section.key" -> where the value comes from
};

// One coefficient of the cost file: its place, unit, range and meaning.
struct EnergyKey {
  const char* section;
  const char* key;
  const char* unit;
  double lo, hi;
  const char* doc;
  double EnergyCoefficients::*member;
  std::string path() const { return std::string(section) + "." + key; }
};
const std::vector<EnergyKey>& energy_keys();

// Loads a cost file: a mapping of sections, each key a mapping {value: NUMBER, source: TEXT}.
// Every key is required and every source non-empty; an unknown, duplicate or missing key, a value
// of the wrong type or out of range throws InputError "FILE:LINE: section.key: what".
EnergyCoefficients load_energy_costs(const std::string& path);

// DRAM power figures of one device (chip) from its data sheet, as DRAMPower uses them. Currents
// in mA, voltages in V; 0 = not given. VPP/IPP only for DDR4.
struct DramPowerSpec {
  double vdd = 0, idd0 = 0, idd2n = 0, idd3n = 0, idd4r = 0, idd4w = 0, idd5b = 0;
  double vpp = 0, ipp0 = 0, ipp3n = 0, ipp5b = 0;
  int devices = 1;  // chips that work in parallel (the bus width over the chip width)
  double tck_ns = 0;
  int tRAS = 0, tRP = 0, tRFC = 0;  // in tCK
  int burst_cycles = 4;             // tCK a burst occupies the data bus (BL / 2)
  bool given() const { return vdd > 0 && idd3n > 0; }
};

// DRAM commands of a run and the time the rank spent with a row open (active standby) or with
// every bank precharged.
struct DramActions {
  int64_t activates = 0, precharges = 0, reads = 0, writes = 0, refreshes = 0;  // commands
  double active_s = 0, precharged_s = 0;
};

// A class of operations of one engine that cost the same: `ops` operations, each switching
// `luts` datapath LUTs, an A x B multiplier of `product_bits` partial-product bits and an
// accumulator of `accumulator_bits` bits (the last two 0 for a LUT-only PE).
struct OpClass {
  std::string block;  // the engine's name, e.g. lut_core
  int64_t ops = 0;
  double luts = 0;
  int64_t product_bits = 0, accumulator_bits = 0;
};

struct LayerActions {
  std::string name;
  std::vector<OpClass> ops;
  int64_t bram_reads = 0, bram_writes = 0;  // 72-bit BRAM36 port accesses
  int64_t dram_read_bytes = 0, dram_write_bytes = 0;
  int64_t cycles = 0;  // fabric cycles the layer took
};

struct RunActions {
  std::vector<LayerActions> layers;
  DramActions dram;
  int64_t total_cycles = 0;
  double clock_mhz = 0;
  int64_t macs = 0;  // for GOPS/W: 2 operations per MAC
  int batch = 1;
  double static_power_w = 0;  // the device's static power (0: not known)
};

// Energies in joules. `by_block` keeps a fixed order: each engine, then buffers, dma, dram,
// static.
struct BlockEnergy {
  std::vector<std::pair<std::string, double>> by_block;
  double total() const;
  void add(const std::string& block, double j);
};

struct LayerEnergy {
  std::string name;
  BlockEnergy blocks;
  double total_j = 0;
};

// One kind of action over the whole run: how many and the energy they took (Accelergy's action
// counts next to its energy reference table).
struct ActionTotal {
  std::string action;  // "block.action", e.g. lut_core.op, buffers.read, dram.ACT
  int64_t count = 0;
  double energy_j = 0;
};

struct EnergyResult {
  BlockEnergy blocks;  // the whole run
  std::vector<ActionTotal> actions;
  double total_j = 0, static_j = 0, dynamic_j = 0;
  double j_per_frame = 0, avg_power_w = 0, gops_per_w = 0;
  double latency_s = 0;
  // DRAM split by command and state (J): activate+precharge, read, write, refresh, background.
  double dram_act_pre_j = 0, dram_read_j = 0, dram_write_j = 0, dram_refresh_j = 0,
         dram_background_j = 0;
  bool dram_modelled = false;  // false: the preset gives no IDD currents, DRAM counts 0 J
  DramActions dram;            // the commands and states the DRAM energy came from
  std::vector<LayerEnergy> layers;
};

// Energy of one operation of a class (pJ).
double op_energy_pj(const OpClass& c, const EnergyCoefficients& k);

// DRAM energy of a run's commands and states as DRAMPower computes it for one device, times the
// devices (J). Each part: ACT (IDD0 - IDD3N) x tRAS, PRE (IDD0 - IDD2N) x tRP, RD/WR (IDD4R/W -
// IDD3N) x the burst's bus time, REF (IDD5B - IDD3N) x tRFC, all x VDD; background IDD3N x VDD
// while a row is open and IDD2N x VDD with every bank precharged; VPP terms the same way.
struct DramEnergy {
  double act_pre = 0, read = 0, write = 0, refresh = 0, background = 0;
  double total() const { return act_pre + read + write + refresh + background; }
};
DramEnergy dram_energy(const DramActions& a, const DramPowerSpec& s);

// The energy of a run. DRAM activate, precharge, read and write energy goes to the layers in
// proportion to their DRAM bytes; refresh, standby and static energy in proportion to their cycles.
EnergyResult compute_energy(const RunActions& run, const EnergyCoefficients& k,
                            const DramPowerSpec& dram);

}  // namespace msq
