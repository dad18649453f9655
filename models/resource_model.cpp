#include "models/resource_model.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <set>

#include "models/arith/packed_dsp.h"
#include "models/arith/sp2.h"
#include "models/config_dir.h"
#include "models/error.h"
#include "models/yaml_text.h"

namespace msq {
namespace {

// ---------------------------------------------------------------------------------------------
// The cost file schema: one entry per key, in file order. Loading walks it, so a key added to
// ResourceCosts and here is checked for presence, type and spelling like every other.

struct CostKey {
  std::string section, key;
  bool integer;   // an integer, else any number
  double lo, hi;  // inclusive range
  std::function<void(ResourceCosts&, double)> set;
};

#define MSQ_REAL(sec, k, lo, hi)                                              \
  CostKey {                                                                   \
#sec, #k, false, lo, hi, [](ResourceCosts & c, double v) { c.sec.k = v; } \
  }
#define MSQ_INT(sec, k, lo, hi)                                                   \
  CostKey {                                                                       \
#sec, #k, true, lo, hi, [](ResourceCosts & c, double v) { c.sec.k = int(v); } \
  }

const std::vector<CostKey>& cost_schema() {
  static const std::vector<CostKey> keys = {
      MSQ_REAL(fabric, adder_luts_per_bit, 0, 16),
      MSQ_INT(fabric, mux_levels_per_lut, 1, 8),
      MSQ_REAL(fabric, ffs_per_register_bit, 0, 16),
      MSQ_REAL(lut_core, sign_luts_per_bit, 0, 16),
      MSQ_REAL(lut_core, sign_luts_fixed, 0, 1e4),
      MSQ_REAL(lut_core, readout_luts_per_bit, 0, 16),
      MSQ_REAL(lut_core, readout_ffs_per_bit, 0, 16),
      MSQ_REAL(lut_core, pe_control_ffs_per_stage, 0, 1e4),
      MSQ_REAL(lut_core, pe_control_luts, 0, 1e4),
      MSQ_INT(dsp_core, dsp_per_pe, 1, 16),
      MSQ_INT(dsp_core, internal_pipeline_stages, 0, 16),
      MSQ_REAL(dsp_core, unpack_luts_per_offset_bit, 0, 16),
      MSQ_REAL(dsp_core, unpack_luts_fixed, 0, 1e4),
      MSQ_REAL(dsp_core, readout_luts_per_bit, 0, 16),
      MSQ_REAL(dsp_core, readout_ffs_per_bit, 0, 16),
      MSQ_REAL(bitserial_core, luts_per_acc_bit, 0, 16),
      MSQ_REAL(bitserial_core, luts_fixed, 0, 1e4),
      MSQ_REAL(bitserial_core, control_ffs, 0, 1e4),
      MSQ_REAL(bitserial_core, sat_luts_per_acc_bit, 0, 16),
      MSQ_REAL(bitserial_core, sat_luts_fixed, 0, 1e4),
      MSQ_REAL(bitserial_core, sat_control_ffs, 0, 1e4),
      MSQ_REAL(glue, luts_fixed, 0, 1e6),
      MSQ_REAL(glue, luts_per_row, 0, 1e4),
      MSQ_REAL(glue, luts_per_col, 0, 1e4),
      MSQ_REAL(glue, luts_per_col_output_bit, 0, 64),
      MSQ_REAL(glue, ffs_fixed, 0, 1e6),
      MSQ_INT(buffers, command_fifo_bram18, 0, 1e4),
      MSQ_REAL(dma, luts_per_port, 0, 1e7),
      MSQ_REAL(dma, ffs_per_port, 0, 1e7),
      MSQ_INT(dma, bram18_per_port, 0, 1e4),
      MSQ_INT(vector, dsp_per_lane, 0, 64),
      MSQ_INT(vector, product_bits, 1, 128),
      MSQ_INT(vector, shift_levels, 0, 16),
      MSQ_REAL(vector, luts_per_act_bit, 0, 1e3),
      MSQ_REAL(vector, luts_per_lane, 0, 1e5),
      MSQ_REAL(vector, ffs_per_act_bit, 0, 1e3),
      MSQ_REAL(vector, ffs_per_lane, 0, 1e5),
      MSQ_REAL(control, luts, 0, 1e7),
      MSQ_REAL(control, ffs, 0, 1e7),
      MSQ_INT(control, requant_units, 0, 1e4),
      MSQ_INT(control, dsp_per_requant_unit, 0, 64),
  };
  return keys;
}

#undef MSQ_REAL
#undef MSQ_INT

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
  return s;
}

// Reads one value; yaml-cpp accepts "1e3" as a double but not as an int, so integers are read as
// doubles and must be whole.
double read_value(const std::string& path, const YAML::Node& n, const CostKey& k) {
  return yaml_real(n, path, yaml_line(n), k.section + "." + k.key, k.lo, k.hi, k.integer);
}

// ---------------------------------------------------------------------------------------------
// Estimates.

// Costs such as 0.1 per bit sum to a hair above a whole number in binary floating point; the
// tolerance keeps that from adding a LUT.
int64_t round_up(double v) {
  return int64_t(std::ceil(v - 1e-9));
}

int ceil_div_int(int a, int b) {
  return (a + b - 1) / b;
}

// Thousands separators, as the device tables print them.
std::string grouped(int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return v < 0 ? "-" + out : out;
}

std::string upper(std::string s) {
  for (char& ch : s) ch = char(std::toupper(static_cast<unsigned char>(ch)));
  return s;
}

// used / available; an empty resource that something uses is infinitely full.
double ratio(int64_t used, int64_t avail) {
  if (avail > 0) return double(used) / double(avail);
  return used > 0 ? std::numeric_limits<double>::infinity() : 0.0;
}

struct Res {
  const char* name;
  const char* noun;
  int64_t used, avail;
};

std::vector<Res> resources(const ResourceEstimate& e) {
  return {{"lut", "LUTs", e.lut, e.lut_avail},
          {"ff", "flip-flops", e.ff, e.ff_avail},
          {"dsp", "DSP slices", e.dsp, e.dsp_avail},
          {"bram36", "BRAM36 blocks", e.bram36, e.bram36_avail}};
}

}  // namespace

ResourceCosts load_resource_costs(const std::string& path) {
  const YAML::Node root = load_yaml_file(path);
  if (!root.IsMap())
    throw InputError(path, yaml_line(root), "",
                     "expected a mapping of cost sections (got " + yaml_got(root) + ")");

  const auto& schema = cost_schema();
  std::vector<std::string> sections;
  for (const auto& k : schema)
    if (std::find(sections.begin(), sections.end(), k.section) == sections.end())
      sections.push_back(k.section);

  // Unknown keys first, in file order, so that a misspelt key is reported as such rather than
  // as the missing key it was meant to be.
  std::map<std::string, int> section_line;
  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string sec = yaml_key(it->first, path, "");
    if (section_line.count(sec))
      throw InputError(path, yaml_line(it->first), sec, "duplicate section");
    section_line[sec] = yaml_line(it->first);
    if (std::find(sections.begin(), sections.end(), sec) == sections.end())
      throw InputError(path, yaml_line(it->first), sec,
                       "unknown section, expected one of " + join(sections));
    if (!it->second.IsMap())
      throw InputError(path, yaml_line(it->second), sec,
                       "expected a mapping of costs (got " + yaml_got(it->second) + ")");
    std::vector<std::string> keys;
    for (const auto& k : schema)
      if (k.section == sec) keys.push_back(k.key);
    std::set<std::string> seen;
    for (auto kt = it->second.begin(); kt != it->second.end(); ++kt) {
      const std::string key = yaml_key(kt->first, path, sec);
      if (!seen.insert(key).second)
        throw InputError(path, yaml_line(kt->first), sec + "." + key, "duplicate key");
      if (std::find(keys.begin(), keys.end(), key) == keys.end())
        throw InputError(path, yaml_line(kt->first), sec + "." + key,
                         "unknown key, expected one of " + join(keys));
    }
  }

  ResourceCosts c;
  for (const auto& k : schema) {
    const YAML::Node sec = root[k.section];
    if (!sec) {
      throw InputError(path, 0, k.section, "missing section");
    }
    const YAML::Node v = sec[k.key];
    // A missing key has no line of its own: its section's header says where it belongs.
    if (!v) throw InputError(path, section_line[k.section], k.section + "." + k.key, "missing key");
    k.set(c, read_value(path, v, k));
  }
  return c;
}

std::string default_resource_costs_path() {
  const char* env = std::getenv("MSQSIM_RESOURCE_COSTS");
  const std::string choice = env ? env : "";
  if (choice.empty()) return find_configs_dir() + "/resources/costs.yaml";
  if (choice == "handwritten") return find_configs_dir() + "/resources/costs_handwritten.yaml";
  return choice;
}

bool dsp_core_packed(const RunConfig& cfg) {
  const auto& dc = cfg.accelerator.dsp_core;
  const int b = cfg.workload.weight_bits;
  if (!dc.packing || b >= 8) return false;
  const DspGeometry g = dsp_geometry(cfg.device.dsp_kind);
  const int D = dc.lane_offset > 0 ? dc.lane_offset : max_lane_offset(g, b);
  return packed_max_chain(g, PackedLayout{b, cfg.workload.act_bits, D}) >= 1;
}

PeCost sp2_pe_cost(const RunConfig& cfg, const ResourceCosts& k) {
  const int a = cfg.workload.act_bits;
  const Sp2Format f(cfg.workload.weight_bits);
  const int acc = cfg.accelerator.accumulator.bits;
  const int depth = cfg.accelerator.lut_core.pipeline_depth;
  const int sw = a + f.F - 1;  // a shifted term: the largest shift is F - 1 (e = 1)
  const int pw = a + f.F;      // two terms of at most 2^(F-1) x each: below 2^(a+F)

  PeCost p;
  // Each term selects one of 2^m shifts (one of them zero): m levels of 2:1 muxes per output bit.
  const auto shifter = [&](int m) {
    return double(sw) * ceil_div_int(m, k.fabric.mux_levels_per_lut);
  };
  p.lut += shifter(f.m1) + shifter(f.m2);
  p.lut += k.fabric.adder_luts_per_bit * sw;   // term + term; the carry out is bit pw - 1
  p.lut += k.fabric.adder_luts_per_bit * acc;  // accumulator add/subtract
  p.lut += k.lut_core.sign_luts_per_bit * acc + k.lut_core.sign_luts_fixed;
  p.lut += k.lut_core.readout_luts_per_bit * acc;
  p.lut += k.lut_core.pe_control_luts;

  // Registers between the stages, in datapath order: operands (activation, SP2 code), the two
  // shifted terms and the sign, the product and the sign; a deeper pipeline repeats the last.
  const int stage_bits[3] = {a + f.bits, 2 * sw + 1, pw + 1};
  int pipe_bits = 0;
  for (int s = 0; s < depth - 1; ++s) pipe_bits += stage_bits[std::min(s, 2)];
  p.ff += k.fabric.ffs_per_register_bit * (pipe_bits + acc);
  p.ff += k.lut_core.readout_ffs_per_bit * acc;
  p.ff += k.lut_core.pe_control_ffs_per_stage * depth;
  return p;
}

PeCost dsp_pe_cost(const RunConfig& cfg, const ResourceCosts& k) {
  const auto& dc = cfg.accelerator.dsp_core;
  const int a = cfg.workload.act_bits;
  const int b = cfg.workload.weight_bits;
  const int acc = cfg.accelerator.accumulator.bits;
  const bool packed = dsp_core_packed(cfg);
  const int D = packed
                    ? (dc.lane_offset > 0 ? dc.lane_offset
                                          : max_lane_offset(dsp_geometry(cfg.device.dsp_kind), b))
                    : 0;
  const int lanes = packed ? 2 : 1;

  PeCost p;
  p.dsp = k.dsp_core.dsp_per_pe;
  if (packed) p.lut += k.dsp_core.unpack_luts_per_offset_bit * D + k.dsp_core.unpack_luts_fixed;
  p.lut += lanes * (k.fabric.adder_luts_per_bit + k.dsp_core.readout_luts_per_bit) * acc;
  p.ff += lanes * (k.fabric.ffs_per_register_bit + k.dsp_core.readout_ffs_per_bit) * acc;
  // Operand fetch stages outside the slice carry the activation and the (packed) weight operand.
  const int fabric_stages = std::max(0, dc.pipeline_depth - k.dsp_core.internal_pipeline_stages);
  const int operand_bits = a + (packed ? D + b : b);
  p.ff += k.fabric.ffs_per_register_bit * fabric_stages * operand_bits;
  return p;
}

PeCost bitserial_pe_cost(int a, int m1, int acc, Overflow overflow, const ResourceCosts& k) {
  const int sw = a + (1 << m1) - 2;  // the largest shift is F - 1 = 2^m1 - 2
  const int pw = a + (1 << m1);      // a signed product: |x w| < 2^(a + F)
  const auto& c = k.bitserial_core;
  PeCost p;
  p.lut = double(sw) * ceil_div_int(m1, k.fabric.mux_levels_per_lut);
  if (overflow == Overflow::Saturate) {
    // Saturating product by product needs the whole product: a product register.
    p.lut += k.fabric.adder_luts_per_bit * pw;
    p.lut += c.sat_luts_per_acc_bit * acc + c.sat_luts_fixed;
    // Operands (activation, digit), the shifted term and its sign, the product register,
    // accumulator, readout.
    const int bits = (a + m1 + 1) + (sw + 1) + pw + 2 * acc;
    p.ff = k.fabric.ffs_per_register_bit * bits + c.sat_control_ffs;
  } else {
    // Wrapping is modular addition: each digit goes straight into the accumulator. Two operand
    // stages (the second keeps the pipeline depth), the term and its sign, accumulator, readout.
    p.lut += c.luts_per_acc_bit * acc + c.luts_fixed;
    const int bits = 2 * (a + m1 + 1) + (sw + 1) + 2 * acc;
    p.ff = k.fabric.ffs_per_register_bit * bits + c.control_ffs;
  }
  return p;
}

PeCost dsp_actpacked_pe_cost(int a, int wb, int D, int acc, int pipeline_depth,
                             const ResourceCosts& k) {
  PeCost p;
  p.dsp = k.dsp_core.dsp_per_pe;
  p.lut = k.dsp_core.unpack_luts_per_offset_bit * D + k.dsp_core.unpack_luts_fixed;
  p.lut += 2 * (k.fabric.adder_luts_per_bit + k.dsp_core.readout_luts_per_bit) * acc;
  p.ff = 2 * (k.fabric.ffs_per_register_bit + k.dsp_core.readout_ffs_per_bit) * acc;
  // The fabric stage before the slice carries both activations and the weight; the packed A
  // operand itself is wiring.
  const int fabric_stages = std::max(0, pipeline_depth - k.dsp_core.internal_pipeline_stages);
  p.ff += k.fabric.ffs_per_register_bit * fabric_stages * (2 * a + wb);
  return p;
}

PeCost engine_glue_cost(int rows, int cols, int row_bits, int col_bits, int out_bits,
                        const ResourceCosts& k) {
  const auto& g = k.glue;
  PeCost p;
  p.lut = g.luts_fixed + g.luts_per_row * rows + g.luts_per_col * cols +
          g.luts_per_col_output_bit * double(cols) * out_bits;
  // Write enables, the 64-bit load word, operand registers, held column tails, the output.
  const double bits = double(rows + cols + 64) + double(rows) * row_bits +
                      double(cols) * (col_bits + out_bits) + out_bits;
  // Glue FFs are only priced when the cost file prices the glue at all.
  const bool priced =
      g.luts_fixed + g.luts_per_row + g.luts_per_col + g.luts_per_col_output_bit + g.ffs_fixed > 0;
  if (priced) p.ff = k.fabric.ffs_per_register_bit * bits + g.ffs_fixed;
  return p;
}

PeCost bitserial_pe_cost(const RunConfig& cfg, const ResourceCosts& k) {
  const int b = cfg.workload.weight_bits;
  const int m1 = b >= 3 ? Sp2Format(b).m1 : 1;
  return bitserial_pe_cost(cfg.workload.act_bits, m1, cfg.accelerator.accumulator.bits,
                           cfg.accelerator.accumulator.overflow, k);
}

PeCost actpack_pe_cost(const RunConfig& cfg, const ResourceCosts& k) {
  const auto& dc = cfg.accelerator.dsp_core;
  const int a = cfg.workload.act_bits;
  const int b = cfg.workload.weight_bits;
  const int acc = cfg.accelerator.accumulator.bits;
  const DspGeometry g = dsp_geometry(cfg.device.dsp_kind);
  const int D = dc.lane_offset > 0 ? dc.lane_offset : max_act_lane_offset(g, a);
  const bool packed = dc.packing && act_packed_max_chain(g, ActPackLayout{a, b, D}) >= 1;
  if (packed) return dsp_actpacked_pe_cost(a, b, D, acc, dc.pipeline_depth, k);
  // One lane: the unpacked slice with its accumulator and operand stages.
  PeCost p;
  p.dsp = k.dsp_core.dsp_per_pe;
  p.lut = (k.fabric.adder_luts_per_bit + k.dsp_core.readout_luts_per_bit) * acc;
  p.ff = (k.fabric.ffs_per_register_bit + k.dsp_core.readout_ffs_per_bit) * acc;
  const int fabric_stages = std::max(0, dc.pipeline_depth - k.dsp_core.internal_pipeline_stages);
  p.ff += k.fabric.ffs_per_register_bit * fabric_stages * (a + b);
  return p;
}

PeCost vector_lane_cost(int a, const ResourceCosts& k) {
  const auto& v = k.vector;
  PeCost p;
  p.dsp = v.dsp_per_lane;
  p.lut = double(v.product_bits) * ceil_div_int(v.shift_levels, k.fabric.mux_levels_per_lut) +
          v.luts_per_act_bit * a + v.luts_per_lane;
  p.ff = k.fabric.ffs_per_register_bit * (v.ffs_per_act_bit * a + v.ffs_per_lane);
  return p;
}

ResourceEstimate estimate_resources(const RunConfig& cfg, const ResourceCosts& k) {
  ResourceEstimate e;
  e.device = cfg.device.name;
  e.lut_avail = cfg.device.lut;
  e.ff_avail = cfg.device.ff;
  e.dsp_avail = cfg.device.dsp;
  e.bram36_avail = cfg.device.bram36;

  const auto& ac = cfg.accelerator;
  // One line per engine: its kind's PE cost with its own keys and accumulator, plus its glue.
  for (const EngineSpec& sp : engine_specs(ac)) {
    RunConfig one = cfg;
    one.accelerator.lut_core = sp.lut();
    one.accelerator.dsp_core = sp.dsp();
    if (sp.own_accumulator) one.accelerator.accumulator = sp.accumulator;
    const int acc_bits = one.accelerator.accumulator.bits;
    const int64_t n = int64_t(sp.rows) * sp.cols;
    const int b = cfg.workload.weight_bits;
    const int a = cfg.workload.act_bits;
    PeCost p, g;
    if (sp.impl == "lut_sp2" || sp.impl == "lut_sp2_bitserial") {
      p = sp.impl == "lut_sp2" ? sp2_pe_cost(one, k) : bitserial_pe_cost(one, k);
      g = engine_glue_cost(sp.rows, sp.cols, Sp2Format(b).bits, a, acc_bits, k);
    } else {
      const bool actpack = sp.impl == "dsp48_actpack";
      p = actpack ? actpack_pe_cost(one, k) : dsp_pe_cost(one, k);
      const DspGeometry geo = dsp_geometry(cfg.device.dsp_kind);
      bool packed = false;
      int D = 0;
      if (actpack) {
        D = sp.lane_offset > 0 ? sp.lane_offset : max_act_lane_offset(geo, a);
        packed = sp.packing && act_packed_max_chain(geo, ActPackLayout{a, b, D}) >= 1;
      } else if (dsp_core_packed(one)) {
        packed = true;
        D = sp.lane_offset > 0 ? sp.lane_offset : max_lane_offset(geo, b);
      }
      // Packed weights widen the row operand; packed activations the column operand.
      const int row_bits = packed && !actpack ? D + b : b;
      const int col_bits = packed && actpack ? D + a : a;
      g = engine_glue_cost(sp.rows, sp.cols, row_bits, col_bits, (packed ? 2 : 1) * acc_bits, k);
    }
    e.lines.push_back(
        {sp.name, round_up(p.lut * n + g.lut), round_up(p.ff * n + g.ff), p.dsp * n, 0, 0});
  }
  {
    // Every design has the vector engine (graph runs put their Add and pools on it).
    const int lanes = ac.vector.lanes;
    const PeCost p = vector_lane_cost(cfg.workload.act_bits, k);
    e.lines.push_back(
        {"vector", round_up(p.lut * lanes), round_up(p.ff * lanes), p.dsp * lanes, 0, 0});
  }
  e.lines.push_back(
      {"buffers", 0, 0, 0,
       int64_t(ac.buffers.weight_bram36) + ac.buffers.input_bram36 + ac.buffers.output_bram36,
       k.buffers.command_fifo_bram18});
  {
    const int ports = cfg.memory.axi_ports;
    e.lines.push_back({"dma", round_up(k.dma.luts_per_port * ports),
                       round_up(k.dma.ffs_per_port * ports), 0, 0,
                       int64_t(k.dma.bram18_per_port) * ports});
  }
  e.lines.push_back({"control", round_up(k.control.luts), round_up(k.control.ffs),
                     int64_t(k.control.requant_units) * k.control.dsp_per_requant_unit, 0, 0});

  int64_t bram18 = 0;
  for (const auto& l : e.lines) {
    e.lut += l.lut;
    e.ff += l.ff;
    e.dsp += l.dsp;
    e.bram36 += l.bram36;
    bram18 += l.bram18;
  }
  // Two RAMB18 share one RAMB36 site (UG473); an odd half still occupies a whole site.
  e.bram36 += (bram18 + 1) / 2;
  return e;
}

bool ResourceEstimate::fits() const {
  for (const auto& r : resources(*this))
    if (r.used > r.avail) return false;
  return true;
}

std::string ResourceEstimate::binding() const {
  std::string best;
  double best_r = -1;
  for (const auto& r : resources(*this)) {
    const double q = ratio(r.used, r.avail);
    if (q > best_r) best_r = q, best = r.name;
  }
  return best;
}

std::string ResourceEstimate::overfull_message() const {
  std::string s;
  for (const auto& r : resources(*this)) {
    if (r.used <= r.avail) continue;
    std::string pct = "no";
    if (r.avail > 0) {
      // Integer ceiling: 901 of 900 reads 101%, never a misleading 100%.
      const int64_t p = (r.used * 100 + r.avail - 1) / r.avail;
      pct = grouped(p) + "%";
    }
    s += (s.empty() ? "" : "; ") +
         fmt::format("the design needs {} {}, the {} has {} ({})", grouped(r.used), r.noun,
                     device.empty() ? "device" : upper(device), grouped(r.avail), pct);
  }
  return s;
}

nlohmann::json resources_to_json(const ResourceEstimate& e) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& r : resources(e)) {
    const double pct =
        r.avail > 0 ? std::round(1000.0 * double(r.used) / double(r.avail)) / 10.0 : 0.0;
    j[r.name] = {{"used", r.used}, {"available", r.avail}, {"percent", pct}};
  }
  j["binding"] = e.binding();
  j["fits"] = e.fits();
  nlohmann::json br = nlohmann::json::array();
  for (const auto& l : e.lines)
    br.push_back({{"block", l.block},
                  {"lut", l.lut},
                  {"ff", l.ff},
                  {"dsp", l.dsp},
                  {"bram36", l.bram36},
                  {"bram18", l.bram18}});
  j["breakdown"] = br;
  return j;
}

}  // namespace msq
