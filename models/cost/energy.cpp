#include "models/cost/energy.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>

#include "models/error.h"
#include "models/yaml_text.h"

namespace msq {

const std::vector<EnergyKey>& energy_keys() {
  using E = EnergyCoefficients;
  static const std::vector<EnergyKey> keys = {
      {"lut_core", "pj_per_lut", "pJ", 0, 1e3,
       "Energy of one LUT of a PE's datapath for one operation (registers and clock included); a "
       "PE's LUTs come from the resource model.",
       &E::lut_pj_per_lut},
      {"dsp_core", "pj_per_product_bit", "pJ", 0, 1e3,
       "Energy of a DSP48 multiply per partial-product bit (A width x B width).",
       &E::dsp_pj_per_product_bit},
      {"dsp_core", "pj_per_accumulator_bit", "pJ", 0, 1e3,
       "Energy of the DSP48's 48-bit post-adder per bit, one operation.",
       &E::dsp_pj_per_accumulator_bit},
      {"buffers", "pj_per_read", "pJ", 0, 1e5, "One read access of a BRAM36 port (72 bits).",
       &E::bram_pj_per_read},
      {"buffers", "pj_per_write", "pJ", 0, 1e5, "One write access of a BRAM36 port (72 bits).",
       &E::bram_pj_per_write},
      {"dma", "pj_per_read_byte", "pJ", 0, 1e5,
       "Moving one byte from DRAM to the fabric: the DRAM interface's I/O and termination.",
       &E::dma_pj_per_read_byte},
      {"dma", "pj_per_write_byte", "pJ", 0, 1e5,
       "Moving one byte from the fabric to DRAM: I/O, on-die termination.",
       &E::dma_pj_per_write_byte},
  };
  return keys;
}

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
  return s;
}

}  // namespace

EnergyCoefficients load_energy_costs(const std::string& path) {
  const YAML::Node root = load_yaml_file(path);
  if (!root.IsMap())
    throw InputError(path, yaml_line(root), "",
                     "expected a mapping of energy sections (got " + yaml_got(root) + ")");
  const auto& keys = energy_keys();
  std::vector<std::string> sections;
  for (const EnergyKey& k : keys)
    if (std::find(sections.begin(), sections.end(), k.section) == sections.end())
      sections.push_back(k.section);

  EnergyCoefficients c;
  c.file = path;
  std::set<std::string> seen_sections, seen;
  std::map<std::string, int> section_line;
  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string sec = yaml_key(it->first, path, "");
    if (!seen_sections.insert(sec).second)
      throw InputError(path, yaml_line(it->first), sec, "duplicate section");
    section_line[sec] = yaml_line(it->first);
    if (std::find(sections.begin(), sections.end(), sec) == sections.end())
      throw InputError(path, yaml_line(it->first), sec, unknown_key_what(sec, sections),
                       InputProblem::UnknownKey);
    if (!it->second.IsMap())
      throw InputError(path, yaml_line(it->second), sec,
                       "expected a mapping of coefficients (got " + yaml_got(it->second) + ")");
    std::vector<std::string> names;
    for (const EnergyKey& k : keys)
      if (sec == k.section) names.push_back(k.key);
    for (auto kt = it->second.begin(); kt != it->second.end(); ++kt) {
      const std::string key = yaml_key(kt->first, path, sec);
      const std::string full = sec + "." + key;
      const int line = yaml_line(kt->first);
      if (!seen.insert(full).second) throw InputError(path, line, full, "duplicate key");
      const auto k = std::find_if(keys.begin(), keys.end(),
                                  [&](const EnergyKey& e) { return e.path() == full; });
      if (k == keys.end())
        throw InputError(path, line, full, unknown_key_what(key, names), InputProblem::UnknownKey);
      const YAML::Node e = kt->second;
      if (!e.IsMap())
        throw InputError(path, yaml_line(e), full,
                         "expected {value: NUMBER, source: TEXT} (got " + yaml_got(e) + ")");
      for (auto f = e.begin(); f != e.end(); ++f) {
        const std::string fk = yaml_key(f->first, path, full);
        if (fk != "value" && fk != "source")
          throw InputError(path, yaml_line(f->first), full + "." + fk,
                           unknown_key_what(fk, {"value", "source"}), InputProblem::UnknownKey);
      }
      if (!e["value"]) throw InputError(path, line, full + ".value", "missing");
      if (!e["source"])
        throw InputError(path, line, full + ".source",
                         "missing: every coefficient names where it comes from");
      c.*(k->member) =
          yaml_real(e["value"], path, yaml_line(e["value"]), full + ".value", k->lo, k->hi);
      c.source[full] = yaml_str(e["source"], path, yaml_line(e["source"]), full + ".source");
    }
  }
  for (const EnergyKey& k : keys) {
    if (!seen_sections.count(k.section))
      throw InputError(path, 0, k.section, "missing section (expected " + join(sections) + ")");
    if (!seen.count(k.path()))
      throw InputError(path, section_line[k.section], k.path(), "missing key");
  }
  return c;
}

double BlockEnergy::total() const {
  double t = 0;
  for (const auto& b : by_block) t += b.second;
  return t;
}

void BlockEnergy::add(const std::string& block, double j) {
  for (auto& b : by_block)
    if (b.first == block) {
      b.second += j;
      return;
    }
  by_block.emplace_back(block, j);
}

double op_energy_pj(const OpClass& c, const EnergyCoefficients& k) {
  return c.luts * k.lut_pj_per_lut + double(c.product_bits) * k.dsp_pj_per_product_bit +
         double(c.accumulator_bits) * k.dsp_pj_per_accumulator_bit;
}

DramEnergy dram_energy(const DramActions& a, const DramPowerSpec& s) {
  DramEnergy e;
  if (!s.given()) return e;
  // mA x V x ns = pJ; x 1e-12 = J.
  const double t = s.tck_ns, n = double(s.devices), pj = 1e-12;
  const auto pos = [](double v) { return v > 0 ? v : 0.0; };
  const double act =
      pos(s.idd0 - s.idd3n) * s.vdd * s.tRAS * t + pos(s.ipp0 - s.ipp3n) * s.vpp * s.tRAS * t;
  const double pre = pos(s.idd0 - s.idd2n) * s.vdd * s.tRP * t;
  e.act_pre = (double(a.activates) * act + double(a.precharges) * pre) * n * pj;
  e.read = double(a.reads) * pos(s.idd4r - s.idd3n) * s.vdd * s.burst_cycles * t * n * pj;
  e.write = double(a.writes) * pos(s.idd4w - s.idd3n) * s.vdd * s.burst_cycles * t * n * pj;
  e.refresh = double(a.refreshes) *
              (pos(s.idd5b - s.idd3n) * s.vdd + pos(s.ipp5b - s.ipp3n) * s.vpp) * s.tRFC * t * n *
              pj;
  // mA x V x s = mJ.
  e.background = (s.idd3n * s.vdd * a.active_s + s.idd2n * s.vdd * a.precharged_s +
                  s.ipp3n * s.vpp * (a.active_s + a.precharged_s)) *
                 n * 1e-3;
  return e;
}

namespace {
void count_action(std::vector<ActionTotal>& v, const std::string& action, int64_t n, double j) {
  for (ActionTotal& a : v)
    if (a.action == action) {
      a.count += n;
      a.energy_j += j;
      return;
    }
  v.push_back({action, n, j});
}
}  // namespace

EnergyResult compute_energy(const RunActions& run, const EnergyCoefficients& k,
                            const DramPowerSpec& dram) {
  EnergyResult r;
  r.latency_s = run.clock_mhz > 0 ? double(run.total_cycles) / (run.clock_mhz * 1e6) : 0.0;
  const DramEnergy d = dram_energy(run.dram, dram);
  r.dram_modelled = dram.given();
  r.dram = run.dram;
  r.dram_act_pre_j = d.act_pre, r.dram_read_j = d.read, r.dram_write_j = d.write;
  r.dram_refresh_j = d.refresh, r.dram_background_j = d.background;
  r.static_j = run.static_power_w * r.latency_s;

  int64_t bytes = 0, cycles = 0;
  for (const LayerActions& l : run.layers) {
    bytes += l.dram_read_bytes + l.dram_write_bytes;
    cycles += l.cycles;
  }
  // Commands that move data follow the bytes; refresh and standby follow time.
  const double dram_commands = d.act_pre + d.read + d.write;
  const double dram_time = d.refresh + d.background;
  for (const LayerActions& l : run.layers) {
    LayerEnergy le;
    le.name = l.name;
    for (const OpClass& c : l.ops) {
      const double j = double(c.ops) * op_energy_pj(c, k) * 1e-12;
      le.blocks.add(c.block, j);
      count_action(r.actions, c.block + ".op", c.ops, j);
    }
    const double reads = double(l.bram_reads) * k.bram_pj_per_read * 1e-12;
    const double writes = double(l.bram_writes) * k.bram_pj_per_write * 1e-12;
    le.blocks.add("buffers", reads + writes);
    count_action(r.actions, "buffers.read", l.bram_reads, reads);
    count_action(r.actions, "buffers.write", l.bram_writes, writes);
    const double rd = double(l.dram_read_bytes) * k.dma_pj_per_read_byte * 1e-12;
    const double wr = double(l.dram_write_bytes) * k.dma_pj_per_write_byte * 1e-12;
    le.blocks.add("dma", rd + wr);
    count_action(r.actions, "dma.read_byte", l.dram_read_bytes, rd);
    count_action(r.actions, "dma.write_byte", l.dram_write_bytes, wr);
    const double byte_share =
        bytes > 0 ? double(l.dram_read_bytes + l.dram_write_bytes) / double(bytes) : 0.0;
    const double cycle_share = cycles > 0 ? double(l.cycles) / double(cycles) : 0.0;
    le.blocks.add("dram", dram_commands * byte_share + dram_time * cycle_share);
    le.blocks.add("static", r.static_j * cycle_share);
    le.total_j = le.blocks.total();
    for (const auto& [b, j] : le.blocks.by_block) r.blocks.add(b, j);
    r.layers.push_back(std::move(le));
  }
  // A run without layers still has its DRAM and static energy.
  if (run.layers.empty()) {
    r.blocks.add("dram", d.total());
    r.blocks.add("static", r.static_j);
  }
  // The DRAM's commands: activates and precharges share one figure, as DRAMPower reports them.
  count_action(r.actions, "dram.ACT+PRE", run.dram.activates + run.dram.precharges, d.act_pre);
  count_action(r.actions, "dram.RD", run.dram.reads, d.read);
  count_action(r.actions, "dram.WR", run.dram.writes, d.write);
  count_action(r.actions, "dram.REF", run.dram.refreshes, d.refresh);
  r.total_j = r.blocks.total();
  r.dynamic_j = r.total_j - r.static_j;
  r.j_per_frame = run.batch > 0 ? r.total_j / run.batch : 0.0;
  r.avg_power_w = r.latency_s > 0 ? r.total_j / r.latency_s : 0.0;
  r.gops_per_w = r.total_j > 0 ? 2.0 * double(run.macs) / r.total_j / 1e9 : 0.0;
  return r;
}

}  // namespace msq
