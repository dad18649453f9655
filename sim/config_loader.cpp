#include "sim/config_loader.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <tuple>
#include <unordered_set>
#include <utility>

#include "models/arith/packed_dsp.h"
#include "models/arith/signed_digits.h"
#include "models/config_dir.h"
#include "models/error.h"
#include "models/graph/graph_check.h"
#include "models/hw/engine_registry.h"
#include "models/hw/memory/dram_model.h"
#include "models/plan/mapping_file.h"
#include "models/workload/onnx_import.h"
#include "models/workload/quantize_graph.h"
#include "models/workload_builder.h"
#include "models/yaml_text.h"
#include "sim/onnx_network.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace msq {
namespace {

// ---------------------------------------------------------------------------------------------
// A config tree that remembers where each value came from. yaml-cpp's marks are lost by
// YAML::Clone and are meaningless for nodes parsed from a --set value, so values carry their own
// origin, and --set edits this tree rather than the caller's YAML::Node.

struct Src {
  std::string label;  // a file name, or "--set KEY=VALUE"
  int line = 0;       // 1-based; 0 = none
};

struct TNode {
  YAML::Node node;  // the value (for a mapping, only its kind is used: see kids)
  Src src;          // where the value is
  Src key_src;      // where its key is, for unknown-key messages
  bool is_map = false;
  std::vector<std::pair<std::string, TNode>> kids;  // mapping entries in file order

  // YAML::Node's assignment writes through to the node it refers to, which would edit the
  // caller's tree; rebinding with reset() keeps the tree read-only.
  TNode() = default;
  TNode(const TNode&) = default;
  TNode(TNode&&) = default;
  TNode& operator=(const TNode& o) {
    if (this != &o) {
      node.reset(o.node);
      src = o.src;
      key_src = o.key_src;
      is_map = o.is_map;
      kids = o.kids;
    }
    return *this;
  }
  TNode& operator=(TNode&& o) { return *this = static_cast<const TNode&>(o); }

  const TNode* find(const std::string& k) const {
    for (const auto& [name, t] : kids)
      if (name == k) return &t;
    return nullptr;
  }
  TNode* find(const std::string& k) {
    return const_cast<TNode*>(static_cast<const TNode*>(this)->find(k));
  }
};

[[noreturn]] void fail(const Src& s, const std::string& key, const std::string& what) {
  throw InputError(s.label, s.line, key, what);
}

[[noreturn]] void fail_unknown_key(const Src& s, const std::string& key, const std::string& what) {
  throw InputError(s.label, s.line, key, what, InputProblem::UnknownKey);
}

[[noreturn]] void expected(const TNode& t, const std::string& key, const std::string& want) {
  fail(t.src, key, "expected " + want + " (got " + yaml_got(t.node) + ")");
}

TNode to_tree(const YAML::Node& n, const std::string& label, bool marks, const std::string& key) {
  TNode t;
  t.node.reset(n);
  t.src = {label, marks ? yaml_line(n) : 0};
  t.key_src = t.src;
  if (!n.IsMap()) return t;
  t.is_map = true;
  // A set, not t.find: a file of 100k keys would otherwise take minutes to reject.
  std::unordered_set<std::string> keys;
  for (auto it = n.begin(); it != n.end(); ++it) {
    const Src ks{label, marks ? yaml_line(it->first) : 0};
    if (!it->first.IsScalar())
      fail(ks, key, "expected plain key names (got " + yaml_got(it->first) + ")");
    const std::string k = it->first.Scalar();
    const std::string full = key.empty() ? k : key + "." + k;
    if (!keys.insert(k).second) fail(ks, full, "duplicate key");
    TNode c = to_tree(it->second, label, marks, full);
    c.key_src = ks;
    // yaml-cpp marks an empty value where the next token starts, often the next line.
    if (c.node.IsNull()) c.src = ks;
    t.kids.emplace_back(k, std::move(c));
  }
  return t;
}

// A file's tree, which must be a mapping; an empty file is an empty mapping.
TNode file_tree(const YAML::Node& n, const std::string& label, const std::string& what) {
  if (n.IsNull() || !n.IsDefined()) {
    TNode t;
    t.is_map = true;
    t.src = t.key_src = {label, 0};
    return t;
  }
  TNode t = to_tree(n, label, true, "");
  if (!t.is_map) expected(t, "", what);
  return t;
}

// ---------------------------------------------------------------------------------------------
// Value conversions: models/yaml_text.h's, at the place the tree remembers for each value.

int64_t get_int(const TNode& t, const std::string& key, int64_t lo, int64_t hi) {
  return yaml_int(t.node, t.src.label, t.src.line, key, lo, hi);
}

uint64_t get_u64(const TNode& t, const std::string& key) {
  return yaml_u64(t.node, t.src.label, t.src.line, key);
}

double get_real(const TNode& t, const std::string& key, double lo, double hi) {
  return yaml_real(t.node, t.src.label, t.src.line, key, lo, hi);
}

// One entry of a per-layer fraction map. `{conv1:0.5}` is YAML for the key "conv1:0.5" with no
// value: the message says so, not only "got nothing".
double layer_fraction(const TNode& v, const std::string& key, const std::string& name) {
  const size_t colon = name.find(':');
  if (v.node.IsNull() && colon != std::string::npos)
    fail(v.key_src, key + "." + name,
         "expected a number in 0..1 (got nothing: YAML reads '" + clip_text(name) +
             "' as one key; write '" + clip_text(name.substr(0, colon)) + ": " +
             clip_text(name.substr(colon + 1)) + "', a space after the colon)");
  return get_real(v, key + "." + name, 0, 1);
}

bool get_bool(const TNode& t, const std::string& key) {
  return yaml_bool(t.node, t.src.label, t.src.line, key);
}

std::string get_str(const TNode& t, const std::string& key, bool allow_empty = false) {
  return yaml_str(t.node, t.src.label, t.src.line, key, allow_empty);
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t b = 0;
  for (size_t e; (e = s.find(sep, b)) != std::string::npos; b = e + 1)
    out.push_back(s.substr(b, e - b));
  out.push_back(s.substr(b));
  return out;
}

std::string nearest(const std::string& k, const std::vector<std::string>& candidates) {
  return nearest_name(k, candidates);
}

// ---------------------------------------------------------------------------------------------
// The schema: one Field per key. Loading, validation, config_to_json/yaml and the docs tables all
// iterate these tables.

template <class T>
struct Field {
  Field(std::string p, std::string ty, std::string r, std::string d)
      : path(std::move(p)), type(std::move(ty)), range(std::move(r)), doc(std::move(d)) {}
  std::string path;  // dotted, relative to T
  std::string type, range, doc;
  std::string default_text;  // docs: overrides the default read from T{}
  bool output_only = false;  // written to JSON, refused as input
  bool special = false;      // loaded by hand (forms other than a plain value), not by the walk
  bool optional = false;     // may be absent from a device or preset file
  std::function<void(T&, const TNode&, const std::string& key)> load;
  std::function<json(const T&)> dump;  // empty: not written
};

// Generic lambdas bind both the const and the non-const struct, so one accessor serves load and
// dump.
#define MSQ_REF(member)  \
  [](auto& c) -> auto& { \
    return c.member;     \
  }

template <class T, class R>
Field<T> f_int(std::string path, R ref, int64_t lo, int64_t hi, std::string doc) {
  Field<T> f(std::move(path), "integer", fmt::format("{} .. {}", lo, hi), std::move(doc));
  f.load = [=](T& c, const TNode& t, const std::string& key) {
    ref(c) = static_cast<std::decay_t<decltype(ref(c))>>(get_int(t, key, lo, hi));
  };
  f.dump = [=](const T& c) { return json(ref(c)); };
  return f;
}

template <class T, class R>
Field<T> f_int_of(std::string path, R ref, std::vector<int> allowed, std::string doc) {
  std::vector<std::string> names;
  for (int a : allowed) names.push_back(std::to_string(a));
  Field<T> f(std::move(path), "integer", join(names, " \\| "), std::move(doc));
  f.load = [=](T& c, const TNode& t, const std::string& key) {
    const int64_t v = get_int(t, key, allowed.front(), allowed.back());
    if (std::find(allowed.begin(), allowed.end(), v) == allowed.end())
      expected(t, key, "one of " + join(names, ", "));
    ref(c) = static_cast<int>(v);
  };
  f.dump = [=](const T& c) { return json(ref(c)); };
  return f;
}

template <class T, class R>
Field<T> f_u64(std::string path, R ref, std::string doc) {
  Field<T> f(std::move(path), "integer", "0 .. 2^64-1", std::move(doc));
  f.load = [=](T& c, const TNode& t, const std::string& key) { ref(c) = get_u64(t, key); };
  f.dump = [=](const T& c) { return json(ref(c)); };
  return f;
}

template <class T, class R>
Field<T> f_real(std::string path, R ref, double lo, double hi, std::string doc) {
  Field<T> f(std::move(path), "number", fmt::format("{} .. {}", lo, hi), std::move(doc));
  f.load = [=](T& c, const TNode& t, const std::string& key) { ref(c) = get_real(t, key, lo, hi); };
  f.dump = [=](const T& c) { return json(ref(c)); };
  return f;
}

template <class T, class R>
Field<T> f_bool(std::string path, R ref, std::string doc) {
  Field<T> f(std::move(path), "boolean", "true \\| false", std::move(doc));
  f.load = [=](T& c, const TNode& t, const std::string& key) { ref(c) = get_bool(t, key); };
  f.dump = [=](const T& c) { return json(ref(c)); };
  return f;
}

template <class T, class R>
Field<T> f_str(std::string path, R ref, std::string doc, bool allow_empty = false) {
  Field<T> f(std::move(path), "string", "", std::move(doc));
  f.load = [=](T& c, const TNode& t, const std::string& key) {
    ref(c) = get_str(t, key, allow_empty);
  };
  f.dump = [=](const T& c) { return json(ref(c)); };
  return f;
}

template <class T, class R, class E>
Field<T> f_choice(std::string path, R ref, std::vector<std::pair<std::string, E>> opts,
                  std::string doc) {
  std::vector<std::string> names;
  for (const auto& o : opts) names.push_back(o.first);
  Field<T> f(std::move(path), "choice", join(names, " \\| "), std::move(doc));
  f.load = [=](T& c, const TNode& t, const std::string& key) {
    if (t.node.IsScalar())
      for (const auto& [name, v] : opts)
        if (t.node.Scalar() == name) {
          ref(c) = v;
          return;
        }
    expected(t, key, "one of " + join(names, ", "));
  };
  f.dump = [=](const T& c) {
    for (const auto& [name, v] : opts)
      if (ref(c) == v) return json(name);
    return json(nullptr);
  };
  return f;
}

template <class T, class R>
Field<T> f_strlist(std::string path, R ref, std::string doc) {
  Field<T> f(std::move(path), "list of strings", "", std::move(doc));
  f.load = [=](T& c, const TNode& t, const std::string& key) {
    if (!t.node.IsSequence()) expected(t, key, "a list of names, e.g. [conv1, fc]");
    std::vector<std::string> v;
    for (const auto& e : t.node) {
      if (!e.IsScalar() || e.Scalar().empty())
        expected(t, key, "a list of names, e.g. [conv1, fc]");
      v.push_back(e.Scalar());
    }
    ref(c) = std::move(v);
  };
  f.dump = [=](const T& c) { return json(ref(c)); };
  return f;
}

// A field of an inner struct as a field of an outer one, under `prefix`.
template <class Outer, class Inner, class R>
Field<Outer> lift(const std::string& prefix, const Field<Inner>& f, R ref) {
  Field<Outer> g(prefix + f.path, f.type, f.range, f.doc);
  g.default_text = f.default_text;
  g.output_only = f.output_only;
  g.optional = f.optional;
  g.load = [=](Outer& c, const TNode& t, const std::string& key) { f.load(ref(c), t, key); };
  if (f.dump) g.dump = [=](const Outer& c) { return f.dump(ref(c)); };
  return g;
}

const std::vector<Field<DeviceConfig>>& device_table() {
  using D = DeviceConfig;
  static const std::vector<Field<D>> t = [] {
    std::vector<Field<D>> v;
    v.push_back(f_str<D>("name", MSQ_REF(name), "Part name, lower case (e.g. xc7z020)."));
    v.push_back(
        f_str<D>("board", MSQ_REF(board), "Boards that carry the part (informative).", true));
    v.back().optional = true;
    v.push_back(f_int<D>("lut", MSQ_REF(lut), 1, 10'000'000, "LUT6 available to the design."));
    v.push_back(f_int<D>("ff", MSQ_REF(ff), 1, 20'000'000, "Flip-flops available."));
    v.push_back(f_int<D>("bram36", MSQ_REF(bram36), 1, 100'000, "36 Kb block RAMs available."));
    v.push_back(f_int<D>("dsp", MSQ_REF(dsp), 1, 100'000, "DSP slices available."));
    v.push_back(f_choice<D>("dsp_type", MSQ_REF(dsp_kind),
                            std::vector<std::pair<std::string, DspKind>>{
                                {"DSP48E1", DspKind::DSP48E1}, {"DSP48E2", DspKind::DSP48E2}},
                            "DSP slice family: DSP48E1 (7-series, 25x18) or DSP48E2 "
                            "(UltraScale+, 27x18)."));
    // The AXI HP limits are optional so that device mappings written before them still load;
    // without them memory.axi_* are not checked against the device.
    v.push_back(f_int<D>("axi_hp_ports", MSQ_REF(axi_hp_ports), 0, 64,
                         "PL-to-PS high-performance AXI ports (memory.axi_ports may not exceed "
                         "it); 0 = not checked."));
    v.back().optional = true;
    v.push_back(f_int<D>("axi_hp_width_bits", MSQ_REF(axi_hp_width_bits), 0, 1024,
                         "Widest AXI HP port (memory.axi_width_bits may not exceed it); 0 = not "
                         "checked."));
    v.back().optional = true;
    v.push_back(f_real<D>("axi_hp_clock_mhz", MSQ_REF(axi_hp_clock_mhz), 0, 10'000,
                          "Fastest AXI HP port clock in MHz (memory.axi_clock_mhz may not exceed "
                          "it; memory.clip_axi_clock clips the fabric clock to it); 0 = not "
                          "checked."));
    v.back().optional = true;
    v.push_back(f_real<D>("static_power_w", MSQ_REF(static_power_w), 0, 1000,
                          "Static power of the device in W, for the energy model "
                          "(docs/energy.md); 0 = not known (no static energy)."));
    v.back().optional = true;
    return v;
  }();
  return t;
}

const std::vector<Field<DramConfig>>& dram_table() {
  using D = DramConfig;
  static const std::vector<Field<D>> t = [] {
    std::vector<Field<D>> v;
    v.push_back(f_str<D>("name", MSQ_REF(preset), "Preset name (the file's stem)."));
    v.push_back(f_real<D>("clock_mhz", MSQ_REF(clock_mhz), 100, 4000,
                          "Command clock in MHz; data moves on both edges."));
    v.push_back(f_int<D>("data_width_bits", MSQ_REF(data_width_bits), 8, 1024, "Data bus width."));
    v.push_back(f_int<D>("channels", MSQ_REF(channels), 1, 16, "Independent channels."));
    v.push_back(f_int<D>("banks", MSQ_REF(banks), 1, 128, "Banks per rank."));
    v.push_back(f_int<D>("rows", MSQ_REF(rows), 1, 1 << 24, "Rows per bank."));
    v.push_back(f_int<D>("row_bytes", MSQ_REF(row_bytes), 64, 1 << 20,
                         "Bytes of one row across the bus width (the rank's page size)."));
    v.push_back(f_int<D>("burst_length", MSQ_REF(burst_length), 1, 32, "Beats per burst."));
    v.push_back(f_int<D>("tRCD", MSQ_REF(tRCD), 1, 1000, "Activate to read/write, in tCK."));
    v.push_back(f_int<D>("tRP", MSQ_REF(tRP), 1, 1000, "Precharge to activate, in tCK."));
    v.push_back(f_int<D>("CL", MSQ_REF(CL), 1, 1000, "Read to first data (CAS latency), in tCK."));
    v.push_back(f_int<D>("tRAS", MSQ_REF(tRAS), 1, 1000, "Activate to precharge, in tCK."));
    v.push_back(f_int<D>("tRFC", MSQ_REF(tRFC), 1, 100'000, "Refresh cycle time, in tCK."));
    v.push_back(f_int<D>("tREFI", MSQ_REF(tREFI), 1, 10'000'000, "Refresh interval, in tCK."));
    v.push_back(f_int<D>("tCCD", MSQ_REF(tCCD), 1, 100,
                         "Column to column, in tCK (tCCD_S with bank groups)."));
    // Turnaround and bank-group timing: optional, 0 = not modelled (docs/memory.md).
    const auto opt = [&](const char* key, auto ref, int lo, int hi, const char* doc) {
      v.push_back(f_int<D>(key, ref, lo, hi, doc));
      v.back().optional = true;
    };
    opt("bank_groups", MSQ_REF(bank_groups), 1, 16,
        "Bank groups (DDR4); consecutive bursts alternate groups; must divide banks. Default 1.");
    opt("tCCD_L", MSQ_REF(tCCD_L), 0, 100,
        "Column to column within a bank group, in tCK; 0 = tCCD.");
    opt("tRRD", MSQ_REF(tRRD), 0, 1000,
        "Activate to activate (tRRD_S with bank groups), in tCK; 0 = not modelled.");
    opt("tRRD_L", MSQ_REF(tRRD_L), 0, 1000,
        "Activate to activate within a bank group, in tCK; 0 = tRRD.");
    opt("tFAW", MSQ_REF(tFAW), 0, 10'000,
        "Window holding at most four activates, in tCK; 0 = not modelled.");
    opt("CWL", MSQ_REF(CWL), 0, 1000, "Write command to first write data, in tCK; 0 = CL.");
    opt("tWTR", MSQ_REF(tWTR), 0, 1000,
        "End of write data to a read command (tWTR_S with bank groups), in tCK; 0 = not "
        "modelled.");
    opt("tWTR_L", MSQ_REF(tWTR_L), 0, 1000,
        "End of write data to a read in the same bank group, in tCK; 0 = tWTR.");
    opt("tRTW", MSQ_REF(tRTW), 0, 1000,
        "Read command to write command, in tCK (JEDEC: RL + BL/2 + 2 - WL); 0 = not modelled.");
    opt("tWR", MSQ_REF(tWR), 0, 1000,
        "End of write data to precharge (write recovery), in tCK; 0 = not modelled.");
    // Data-sheet currents of one chip for the energy model (docs/energy.md); optional, 0 = no
    // DRAM energy.
    v.push_back(f_int_of<D>("device_width_bits", MSQ_REF(device_width_bits), {4, 8, 16, 32},
                            "DQ bits of one chip; the bus has data_width_bits / this chips. "
                            "Default 16."));
    v.back().optional = true;
    const auto cur = [&](const char* key, auto ref, double hi, const char* doc) {
      v.push_back(f_real<D>(key, ref, 0, hi, doc));
      v.back().optional = true;
    };
    cur("VDD", MSQ_REF(VDD), 5, "Core supply of one chip in V (energy model); 0 = not given.");
    cur("IDD0", MSQ_REF(IDD0), 10'000, "One-bank activate-precharge current, mA.");
    cur("IDD2N", MSQ_REF(IDD2N), 10'000, "Precharge standby current, mA.");
    cur("IDD3N", MSQ_REF(IDD3N), 10'000, "Active standby current, mA.");
    cur("IDD4R", MSQ_REF(IDD4R), 10'000, "Burst read current, mA.");
    cur("IDD4W", MSQ_REF(IDD4W), 10'000, "Burst write current, mA.");
    cur("IDD5B", MSQ_REF(IDD5B), 10'000, "Burst refresh current, mA.");
    cur("VPP", MSQ_REF(VPP), 5, "DDR4 word-line supply in V; 0 = none.");
    cur("IPP0", MSQ_REF(IPP0), 10'000, "DDR4 activate-precharge VPP current, mA.");
    cur("IPP3N", MSQ_REF(IPP3N), 10'000, "DDR4 standby VPP current, mA.");
    cur("IPP5B", MSQ_REF(IPP5B), 10'000, "DDR4 burst refresh VPP current, mA.");
    return v;
  }();
  return t;
}

// An engine list entry with every key its kind reads.
json engine_to_json(const EngineSpec& e) {
  json o = {{"impl", e.impl}, {"name", e.name}};
  const EngineKind* kind = find_engine_kind(e.impl);
  const std::vector<std::string> keys =
      kind ? kind->keys : std::vector<std::string>{"rows", "cols", "pipeline_depth"};
  for (const std::string& k : keys) {
    if (k == "rows") o[k] = e.rows;
    if (k == "cols") o[k] = e.cols;
    if (k == "pipeline_depth") o[k] = e.pipeline_depth;
    if (k == "packing") o[k] = e.packing;
    if (k == "lane_offset") o[k] = e.lane_offset;
    if (k == "drain_cycles") o[k] = e.drain_cycles;
  }
  if (e.own_accumulator)
    o["accumulator"] = {
        {"bits", e.accumulator.bits},
        {"overflow", e.accumulator.overflow == Overflow::Wrap ? "wrap" : "saturate"}};
  return o;
}

const std::vector<Field<RunConfig>>& run_table() {
  using C = RunConfig;
  static const std::vector<Field<C>> t = [] {
    std::vector<Field<C>> v;
    auto dev = [](auto& c) -> auto& {
      return c.device;
    };
    auto dram = [](auto& c) -> auto& {
      return c.memory.dram;
    };

    v.push_back(f_str<C>("file", MSQ_REF(file), "The config file the run was loaded from."));
    v.back().output_only = true;

    Field<C> device("device", "string or mapping", "",
                    "A device name (configs/devices/NAME.yaml), a path to a device .yaml "
                    "(relative to the config), or a mapping of the device keys below; a "
                    "mapping whose `name` is a known device starts from that device's file.");
    device.special = true;
    device.default_text = RunConfig{}.device.name;
    v.push_back(device);
    for (const auto& f : device_table()) {
      v.push_back(lift<C>("device.", f, dev));
      v.back().special = true;
      v.back().default_text = "from the device file";
    }

    v.push_back(f_real<C>("clock_mhz", MSQ_REF(clock_mhz), 1, 1000, "Fabric clock in MHz."));

    const std::string lc = "accelerator.lut_core.", dc = "accelerator.dsp_core.";
    v.push_back(f_int<C>(lc + "rows", MSQ_REF(accelerator.lut_core.rows), 1, 4096,
                         "Rows of SP2 shift-add PEs."));
    v.push_back(f_int<C>(lc + "cols", MSQ_REF(accelerator.lut_core.cols), 1, 4096,
                         "Columns of SP2 shift-add PEs."));
    v.push_back(f_int<C>(lc + "pipeline_depth", MSQ_REF(accelerator.lut_core.pipeline_depth), 1, 64,
                         "Cycles from the first operand in to the first sum out."));
    v.push_back(f_int<C>(dc + "rows", MSQ_REF(accelerator.dsp_core.rows), 1, 4096,
                         "Rows of DSP48 slices."));
    v.push_back(f_int<C>(dc + "cols", MSQ_REF(accelerator.dsp_core.cols), 1, 4096,
                         "Columns of DSP48 slices."));
    v.push_back(f_int<C>(dc + "pipeline_depth", MSQ_REF(accelerator.dsp_core.pipeline_depth), 1, 64,
                         "Cycles from operands in to product out (A/B, M, P registers)."));
    v.push_back(f_bool<C>(dc + "packing", MSQ_REF(accelerator.dsp_core.packing),
                          "Pack two low-bit products sharing an activation into one DSP."));
    v.push_back(f_int<C>(dc + "lane_offset", MSQ_REF(accelerator.dsp_core.lane_offset), 0, 26,
                         "D, the bit offset of the high packed lane; 0 = the smallest that "
                         "keeps the lanes apart."));
    v.push_back(f_int<C>(dc + "drain_cycles", MSQ_REF(accelerator.dsp_core.drain_cycles), 0, 64,
                         "Cycles to unpack the packed accumulator into the row sums."));
    v.push_back(f_int<C>("accelerator.vector.lanes", MSQ_REF(accelerator.vector.lanes), 1, 4096,
                         "Lanes of the vector engine that runs a graph's add, pooling and concat "
                         "ops (values per cycle)."));
    v.push_back(f_int<C>("accelerator.vector.pipeline_depth",
                         MSQ_REF(accelerator.vector.pipeline_depth), 1, 64,
                         "Cycles from the vector engine's first operand in to its first result "
                         "out."));

    v.push_back(f_int<C>("accelerator.accumulator.bits", MSQ_REF(accelerator.accumulator.bits), 8,
                         64, "Accumulator width (two's complement)."));
    v.push_back(f_choice<C>("accelerator.accumulator.overflow",
                            MSQ_REF(accelerator.accumulator.overflow),
                            std::vector<std::pair<std::string, Overflow>>{
                                {"wrap", Overflow::Wrap}, {"saturate", Overflow::Saturate}},
                            "What an accumulator does on overflow (each overflow is counted)."));
    // accelerator.engines: the engines as a list, each by its `impl`. An entry's keys are loaded
    // by the fields of the old spelling's section (lut_core for lut_sp2-like keys, dsp_core for
    // the others), so both spellings check a value the same way.
    {
      const auto field_for = [](const std::vector<Field<C>>& all,
                                const std::string& key) -> const Field<C>* {
        for (const char* sec : {"accelerator.dsp_core.", "accelerator.lut_core."})
          for (const Field<C>& f : all)
            if (f.path == sec + key) return &f;
        return nullptr;
      };
      const std::vector<Field<C>> all = v;  // the fields so far: the sections above
      Field<C> eng(
          "accelerator.engines", "list of engines", "1..16 entries",
          "The compute engines, each a mapping of `impl` (" +
              [] {
                std::string d;
                for (const EngineKind& k : engine_kinds())
                  d += (d.empty() ? "" : "; ") + std::string(k.impl) + ": " + k.doc;
                return d;
              }() +
              "), an optional `name`, that kind's keys (rows, cols, pipeline_depth; "
              "the DSP kinds also packing, lane_offset, drain_cycles) and an optional "
              "`accumulator: {bits, overflow}` of its own, e.g. `[{impl: lut_sp2, "
              "rows: 32, cols: 32}, {impl: dsp48, packing: true}]`. Rows go to the "
              "engines that can run them, balanced by throughput (docs/config.md, "
              "Engines). The old spelling (lut_core and dsp_core) gives the same two "
              "engines; a config uses one spelling.");
      eng.default_text =
          "[lut_sp2 named lut_core from lut_core, dsp48 named dsp_core from dsp_core]";
      eng.load = [all, field_for](C& c, const TNode& t, const std::string& key) {
        const std::string want =
            "a list of engines, e.g. [{impl: lut_sp2, rows: 32}, {impl: dsp48, packing: true}]";
        if (t.node.IsSequence() && t.node.size() == 0)
          fail(t.src, key, "expected " + want + " (got an empty list)");
        if (!t.node.IsSequence()) expected(t, key, want);
        if (t.node.size() > 16)
          fail(t.src, key, fmt::format("expected at most 16 engines (got {})", t.node.size()));
        std::vector<std::string> impls;
        for (const EngineKind& k : engine_kinds()) impls.push_back(k.impl);
        std::vector<EngineSpec> specs;
        for (size_t i = 0; i < t.node.size(); ++i) {
          const std::string at = fmt::format("{}[{}]", key, i);
          const TNode e = to_tree(t.node[i], t.src.label, t.src.line > 0, at);
          if (!e.is_map) expected(e, at, "a mapping of impl: and the engine's keys");
          const TNode* impl = e.find("impl");
          if (!impl)
            fail(e.src, at + ".impl", "missing: the engine's kind, one of " + join(impls, ", "));
          const std::string name = get_str(*impl, at + ".impl");
          const EngineKind* kind = find_engine_kind(name);
          if (!kind) {
            const std::string hint = nearest(name, impls);
            fail(impl->src, at + ".impl",
                 "expected one of " + join(impls, ", ") + " (got " + clip_text(name) + ")" +
                     // The vector engine runs the graph's other ops, beside the list.
                     (name == "vector" ? "; the vector engine is not a compute engine: give it "
                                         "as accelerator.vector (lanes, pipeline_depth)"
                      : hint.empty()   ? ""
                                       : "; did you mean '" + hint + "'?"));
          }
          // The entry's keys go through the old spelling's fields into a scratch config.
          C scratch;
          const EngineSpec& d = kind->defaults;
          scratch.accelerator.lut_core = d.lut();
          scratch.accelerator.dsp_core = d.dsp();
          EngineSpec s = d;
          s.impl = kind->impl;
          s.name = d.name;
          for (const EngineSpec& o : specs)
            if (o.name == s.name) s.name = fmt::format("{}{}", kind->impl, i);
          for (const auto& [k, kid] : e.kids) {
            if (k == "impl") continue;
            if (k == "name") {
              s.name = get_str(kid, at + ".name");
              if (s.name.empty() || s.name.find_first_of(" ,.\t") != std::string::npos)
                fail(kid.src, at + ".name",
                     "expected a name without spaces, commas or dots (got " + clip_text(s.name) +
                         ")");
              continue;
            }
            if (k == "accumulator") {
              if (!kid.is_map) expected(kid, at + ".accumulator", "a mapping of bits, overflow");
              scratch.accelerator.accumulator = c.accelerator.accumulator;
              for (const auto& [ak, av] : kid.kids) {
                const Field<C>* f = nullptr;
                for (const Field<C>& g : all)
                  if (g.path == "accelerator.accumulator." + ak) f = &g;
                if (!f)
                  fail(av.key_src, at + ".accumulator." + ak,
                       "unknown key, expected one of bits, overflow");
                f->load(scratch, av, at + ".accumulator." + ak);
              }
              s.own_accumulator = true;
              s.accumulator = scratch.accelerator.accumulator;
              continue;
            }
            const bool known =
                std::find(kind->keys.begin(), kind->keys.end(), k) != kind->keys.end();
            const Field<C>* f = known ? field_for(all, k) : nullptr;
            if (!f) {
              std::vector<std::string> keys = {"impl", "name"};
              keys.insert(keys.end(), kind->keys.begin(), kind->keys.end());
              keys.push_back("accumulator");
              fail(kid.key_src, at + "." + k,
                   "unknown key for a " + std::string(kind->impl) + " engine, expected one of " +
                       join(keys, ", "));
            }
            f->load(scratch, kid, at + "." + k);
          }
          // Read the keys back from whichever section they went to.
          const LutCoreConfig& l = scratch.accelerator.lut_core;
          const DspCoreConfig& dc = scratch.accelerator.dsp_core;
          const auto pick = [&](const char* k, int lv, int dv, int def) {
            if (!e.find(k)) return def;
            return field_for(all, k)->path.rfind("accelerator.dsp_core.", 0) == 0 ? dv : lv;
          };
          s.rows = pick("rows", l.rows, dc.rows, d.rows);
          s.cols = pick("cols", l.cols, dc.cols, d.cols);
          s.pipeline_depth =
              pick("pipeline_depth", l.pipeline_depth, dc.pipeline_depth, d.pipeline_depth);
          if (e.find("packing")) s.packing = dc.packing;
          if (e.find("lane_offset")) s.lane_offset = dc.lane_offset;
          if (e.find("drain_cycles")) s.drain_cycles = dc.drain_cycles;
          for (const EngineSpec& o : specs)
            if (o.name == s.name)
              fail(e.src, at + ".name", "duplicate engine name " + clip_text(s.name));
          specs.push_back(s);
        }
        c.accelerator.engines = std::move(specs);
      };
      eng.dump = [](const C& c) {
        json a = json::array();
        for (const EngineSpec& e : engine_specs(c.accelerator)) a.push_back(engine_to_json(e));
        return a;
      };
      v.push_back(eng);
    }
    const std::string bf = "accelerator.buffers.";
    v.push_back(f_int<C>(bf + "weight_bram36", MSQ_REF(accelerator.buffers.weight_bram36), 1,
                         100'000, "BRAM36 blocks of the weight buffer."));
    v.push_back(f_int<C>(bf + "input_bram36", MSQ_REF(accelerator.buffers.input_bram36), 1, 100'000,
                         "BRAM36 blocks of the input buffer."));
    v.push_back(f_int<C>(bf + "output_bram36", MSQ_REF(accelerator.buffers.output_bram36), 1,
                         100'000, "BRAM36 blocks of the output buffer."));
    v.push_back(f_bool<C>(bf + "double_buffer", MSQ_REF(accelerator.buffers.double_buffer),
                          "Split each buffer in two halves so that DMA overlaps compute."));
    v.push_back(
        f_bool<C>(bf + "search", MSQ_REF(accelerator.buffers.search),
                  "Choose how weight_bram36 + input_bram36 + output_bram36 BRAM36 are split "
                  "among the three buffers: the split (in steps of a sixteenth of the sum) "
                  "with the least estimated cycles over the network's layers "
                  "(docs/mapping.md); the resolved config shows the split used."));
    const std::string sc = "accelerator.scheduler.";
    v.push_back(f_bool<C>(sc + "spill", MSQ_REF(accelerator.scheduler.spill),
                          "SP2 rows may run on the DSP core when the LUT core is the bottleneck."));
    v.push_back(f_int<C>(sc + "tile_n", MSQ_REF(accelerator.scheduler.tile_n), 0, 1 << 30,
                         "Output columns per tile; 0 = the largest that fits the buffers."));
    v.push_back(f_int<C>(sc + "tile_k", MSQ_REF(accelerator.scheduler.tile_k), 0, 1 << 30,
                         "Reduction depth per tile; 0 = the largest that fits the buffers."));
    v.push_back(f_choice<C>(
        sc + "mapping", MSQ_REF(accelerator.scheduler.mapping),
        std::vector<std::pair<std::string, MappingMode>>{{"fixed", MappingMode::Fixed},
                                                         {"search", MappingMode::Search},
                                                         {"given", MappingMode::Given}},
        "How each layer is tiled (docs/mapping.md): `fixed`, the largest k tile and pixel tile "
        "that fit, loops pixel tile > k tile > all rows; `search`, the pixel, k and "
        "output-channel tiles, loop order and buffer reuse with the fewest estimated cycles "
        "(never more than the fixed rule's estimate), grouped convolutions with several groups "
        "per row block; `given`, the tiles of mapping_file per layer (layers it does not give: "
        "the search). tile_n and tile_k cap the tiles of fixed and search."));
    v.push_back(f_str<C>(sc + "mapping_file", MSQ_REF(accelerator.scheduler.mapping_file),
                         "mapping: given: a CSV of per-layer tiles (layer, tile_m, k_channels, "
                         "tile_rows; optional tile_cols, order, lut_share, keep levels), relative "
                         "to the config (from --set, to the working directory; docs/mapping.md, "
                         "\"A given mapping\").",
                         true));
    v.push_back(f_choice<C>(
        sc + "balance", MSQ_REF(accelerator.scheduler.balance),
        std::vector<std::pair<std::string, BalanceMode>>{{"fixed", BalanceMode::Fixed},
                                                         {"per_layer", BalanceMode::PerLayer}},
        "How rows are split between the engines: `fixed`, by each row's scheme (and spill's "
        "rule); `per_layer`, the number of SP2 rows moved to the fixed-point engine chosen per "
        "layer by the estimated cycles of the whole layer, memory included (fixed-point rows "
        "never move to the SP2 engine); with another engine list, rows moved between engines "
        "that can run them (docs/mapping.md)."));

    Field<C> model(
        "memory.model", "choice", join(dram_model_names(), " \\| "),
        "The DRAM model (docs/memory.md): " + [] {
          std::string d;
          for (const auto& n : dram_model_names())
            d += (d.empty() ? "" : " ") + ("`" + n + "`: " + dram_model_doc(n));
          return d;
        }());
    model.load = [](C& c, const TNode& t, const std::string& key) {
      const auto names = dram_model_names();
      if (!t.node.IsScalar() ||
          std::find(names.begin(), names.end(), t.node.Scalar()) == names.end())
        expected(t, key, "one of " + join(names, ", "));
      c.memory.model = t.node.Scalar();
    };
    model.dump = [](const C& c) { return json(c.memory.model); };
    v.push_back(model);

    Field<C> preset("memory.preset", "string", "",
                    "A DRAM preset name (configs/memory/NAME.yaml) or a path to a preset "
                    ".yaml; it fills memory.dram, whose keys then override it.");
    preset.special = true;
    preset.dump = [](const C& c) { return json(c.memory.dram.preset); };
    v.push_back(preset);
    for (const auto& f : dram_table()) {
      if (f.path == "name") continue;
      v.push_back(lift<C>("memory.dram.", f, dram));
      v.back().default_text = "from the preset";
    }
    v.push_back(f_int<C>("memory.axi_ports", MSQ_REF(memory.axi_ports), 1, 16,
                         "AXI HP ports the DMA uses in parallel."));
    v.push_back(
        f_int_of<C>("memory.axi_width_bits", MSQ_REF(memory.axi_width_bits), {32, 64, 128},
                    "Data width of each AXI port, at the port clock (memory.axi_clock_mhz)."));
    v.push_back(f_real<C>("memory.axi_clock_mhz", MSQ_REF(memory.axi_clock_mhz), 0, 1000,
                          "Clock of the AXI ports in MHz; 0 = the fabric clock. Above the "
                          "device's axi_hp_clock_mhz it is refused."));
    v.push_back(f_bool<C>("memory.clip_axi_clock", MSQ_REF(memory.clip_axi_clock),
                          "When the ports follow the fabric clock and it exceeds the device's "
                          "axi_hp_clock_mhz, run them at that limit (with a warning). Off by "
                          "default: the ports then run at the fabric clock unchecked."));
    v.push_back(f_int<C>("memory.dma_setup_cycles", MSQ_REF(memory.dma_setup_cycles), 0, 100'000,
                         "Fabric cycles to issue one DMA descriptor."));
    for (const char* s : {"weights", "inputs", "outputs"}) {
      Field<C> f(std::string("memory.streams.") + s, "list of integers", "0 .. axi_ports-1",
                 std::string("AXI ports (0-based) the ") + s +
                     " stream is bound to; empty = striped over every port, one transfer at a "
                     "time with the other unbound streams. Streams on disjoint ports overlap.");
      auto ref = [s](auto& c) -> auto& {
        return s[0] == 'w'   ? c.memory.streams.weights
               : s[0] == 'i' ? c.memory.streams.inputs
                             : c.memory.streams.outputs;
      };
      f.default_text = "[]";
      f.load = [ref](C& c, const TNode& t, const std::string& key) {
        if (!t.node.IsSequence()) expected(t, key, "a list of AXI port numbers, e.g. [0]");
        std::vector<int> v;
        for (const auto& e : t.node)
          v.push_back(int(get_int(to_tree(e, t.src.label, true, key), key, 0, 63)));
        ref(c) = std::move(v);
      };
      f.dump = [ref](const C& c) { return json(ref(c)); };
      v.push_back(f);
    }

    v.push_back(f_str<C>("workload.network", MSQ_REF(workload.network),
                         "A network name (configs/workloads/NAME.yaml), or a path to a network "
                         ".yaml, a SCALE-Sim topology .csv or a trained ONNX model .onnx "
                         "(relative to the config; docs/import.md)."));
    v.push_back(f_str<C>("workload.network_path", MSQ_REF(workload.network_path),
                         "The network file that `network` resolved to."));
    v.back().output_only = true;
    v.push_back(
        f_int<C>("workload.batch", MSQ_REF(workload.batch), 1, 4096, "Images per inference."));
    v.push_back(f_real<C>("workload.sp2_fraction", MSQ_REF(workload.sp2_fraction), 0, 1,
                          "Fraction of each layer's rows quantized as SP2."));
    v.push_back(f_real<C>("workload.fixed8_fraction", MSQ_REF(workload.fixed8_fraction), 0, 1,
                          "Fraction of rows at 8-bit fixed point (RMSMP multi-precision); "
                          "sp2_fraction + fixed8_fraction <= 1, the rest are low-bit fixed."));
    v.push_back(f_int<C>("workload.weight_bits", MSQ_REF(workload.weight_bits), 3, 8,
                         "Bits of the low-precision rows, SP2 and fixed (SP2 needs 3..8)."));
    v.push_back(f_int<C>("workload.act_bits", MSQ_REF(workload.act_bits), 1, 16,
                         "Activation bits (unsigned codes)."));
    v.push_back(f_u64<C>("workload.seed", MSQ_REF(workload.seed),
                         "Seed of the synthetic weights and inputs."));
    v.push_back(f_bool<C>("workload.last_layer_accumulators",
                          MSQ_REF(workload.last_layer_accumulators),
                          "The final layer (the classifier) emits raw accumulators."));
    v.push_back(f_strlist<C>("workload.layers", MSQ_REF(workload.layers),
                             "Run only these layers, by name; empty = all."));
    v.push_back(f_str<C>("workload.calibration", MSQ_REF(workload.calibration),
                         "ONNX networks: calibration images, a float32 [N, C, H, W] .npy "
                         "(relative to the config; from --set, to the working directory); empty: "
                         "synthetic activation ranges.",
                         true));
    v.push_back(f_str<C>("workload.eval_images", MSQ_REF(workload.eval_images),
                         "ONNX networks: images `run` also feeds the float network, a float32 "
                         "[N, C, H, W] .npy, for the accuracy report when --eval is not given "
                         "(relative to the config; from --set, to the working directory).",
                         true));
    v.push_back(f_str<C>("workload.eval_labels", MSQ_REF(workload.eval_labels),
                         "ONNX networks: the int64 [N] labels of eval_images (top-1 accuracy); "
                         "needs eval_images.",
                         true));
    v.push_back(f_str<C>("workload.calibration_path", MSQ_REF(workload.calibration_path),
                         "The calibration file that `calibration` resolved to."));
    v.back().output_only = true;
    {
      Field<C> f("workload.sp2_fraction_per_layer", "mapping of layer name to number", "0 .. 1",
                 "The SP2 fraction of the named layers, overriding sp2_fraction and (ONNX "
                 "networks) sp2_auto.");
      f.default_text = "{}";
      f.load = [](C& c, const TNode& t, const std::string& key) {
        if (!t.is_map) expected(t, key, "a mapping of layer names to fractions, e.g. {conv1: 0}");
        std::map<std::string, double> m;
        for (const auto& [name, v] : t.kids) m[name] = layer_fraction(v, key, name);
        c.workload.sp2_fraction_per_layer = std::move(m);
      };
      f.dump = [](const C& c) { return json(c.workload.sp2_fraction_per_layer); };
      v.push_back(f);
    }
    {
      Field<C> f("workload.fixed8_fraction_per_layer", "mapping of layer name to number", "0 .. 1",
                 "The 8-bit fixed-point fraction of the named layers, overriding fixed8_fraction "
                 "(a layer's sp2 + fixed8 fractions <= 1).");
      f.default_text = "{}";
      f.load = [](C& c, const TNode& t, const std::string& key) {
        if (!t.is_map) expected(t, key, "a mapping of layer names to fractions, e.g. {conv1: 0}");
        std::map<std::string, double> m;
        for (const auto& [name, v] : t.kids) m[name] = layer_fraction(v, key, name);
        c.workload.fixed8_fraction_per_layer = std::move(m);
      };
      f.dump = [](const C& c) { return json(c.workload.fixed8_fraction_per_layer); };
      v.push_back(f);
    }
    v.push_back(f_bool<C>("workload.sp2_auto", MSQ_REF(workload.sp2_auto),
                          "ONNX networks: each layer's SP2 fraction is the share of its rows "
                          "whose SP2 error is below their fixed-point error, clamped to "
                          "[sp2_auto_min, sp2_auto_max]."));
    v.push_back(f_real<C>("workload.sp2_auto_min", MSQ_REF(workload.sp2_auto_min), 0, 1,
                          "Lower bound of a layer's SP2 fraction in sp2_auto mode."));
    v.push_back(f_real<C>("workload.sp2_auto_max", MSQ_REF(workload.sp2_auto_max), 0, 1,
                          "Upper bound of a layer's SP2 fraction in sp2_auto mode."));
    // energy: the cost file, then any of its coefficients overridden (docs/energy.md).
    Field<C> costs("energy.costs", "string", "",
                   "An energy cost file name (configs/energy/NAME.yaml) or a path to one; "
                   "empty = by the device's DSP family (xc7 for DSP48E1, xcup for DSP48E2). The "
                   "energy.SECTION.KEY keys below override its coefficients.");
    costs.special = true;
    costs.default_text = "\"\" (by device)";
    costs.dump = [](const C& c) { return json(c.energy.costs); };
    v.push_back(costs);
    for (const EnergyKey& k : energy_keys()) {
      Field<C> f("energy." + k.path(), "number", fmt::format("{} .. {}", k.lo, k.hi),
                 std::string(k.doc) + " In " + k.unit + ".");
      f.default_text = "from the cost file";
      f.load = [k](C& c, const TNode& t, const std::string& key) {
        c.energy.k.*(k.member) = get_real(t, key, k.lo, k.hi);
        c.energy.k.source[k.path()] =
            t.src.line > 0 ? fmt::format("{}:{} ({})", t.src.label, t.src.line, key) : t.src.label;
      };
      f.dump = [k](const C& c) { return json(c.energy.k.*(k.member)); };
      v.push_back(f);
    }

    v.push_back(f_bool<C>("verify", MSQ_REF(verify),
                          "Check every output of the cycle model against the functional model."));
    return v;
  }();
  return t;
}

// ---------------------------------------------------------------------------------------------
// Walking a tree against a table.

template <class T>
const Field<T>* find_field(const std::vector<Field<T>>& table, const std::string& path) {
  for (const auto& f : table)
    if (f.path == path && !f.output_only) return &f;
  return nullptr;
}

template <class T>
bool is_section(const std::vector<Field<T>>& table, const std::string& path) {
  for (const auto& f : table)
    if (!f.output_only && f.path.size() > path.size() &&
        f.path.compare(0, path.size(), path) == 0 && f.path[path.size()] == '.')
      return true;
  return false;
}

// The keys one level below `prefix` ("" = the top).
template <class T>
std::vector<std::string> child_keys(const std::vector<Field<T>>& table, const std::string& prefix) {
  std::vector<std::string> out;
  const std::string p = prefix.empty() ? "" : prefix + ".";
  for (const auto& f : table) {
    if (f.output_only || f.path.compare(0, p.size(), p) != 0) continue;
    const std::string rest = f.path.substr(p.size());
    const std::string k = rest.substr(0, rest.find('.'));
    if (std::find(out.begin(), out.end(), k) == out.end()) out.push_back(k);
  }
  return out;
}

template <class T>
std::string unknown_key_text(const std::vector<Field<T>>& table, const std::string& prefix,
                             const std::string& k, const std::string& shown_prefix) {
  const auto keys = child_keys(table, prefix);
  std::string s = "unknown key, expected one of " + join(keys, ", ");
  std::string hint = nearest(k, keys);
  if (!hint.empty()) {
    hint = shown_prefix + (prefix.empty() ? "" : prefix + ".") + hint;
  } else {
    // A right key at the wrong level (e.g. `rows` at the top) names its full path.
    for (const auto& f : table) {
      if (f.output_only) continue;
      const auto parts = split(f.path, '.');
      for (size_t i = 0; i < parts.size() && hint.empty(); ++i)
        if (parts[i] == k) hint = shown_prefix + join({parts.begin(), parts.begin() + i + 1}, ".");
      if (!hint.empty()) break;
    }
  }
  if (!hint.empty()) s += " (did you mean '" + hint + "'?)";
  return s;
}

// Loads every key of `map` (at `prefix` of the table) into `c`. Keys in `skip` are left to the
// caller; `seen` collects the loaded paths; `shown` prefixes keys in messages.
template <class T>
void walk(const std::vector<Field<T>>& table, const TNode& map, const std::string& prefix, T& c,
          const std::set<std::string>& skip, std::set<std::string>* seen,
          const std::string& shown = "") {
  for (const auto& [k, t] : map.kids) {
    const std::string full = prefix.empty() ? k : prefix + "." + k;
    if (skip.count(full)) continue;
    if (const Field<T>* f = find_field(table, full)) {
      f->load(c, t, shown + full);
      if (seen) seen->insert(full);
    } else if (is_section(table, full)) {
      if (!t.is_map)
        expected(t, shown + full, "a mapping of " + join(child_keys(table, full), ", "));
      walk(table, t, full, c, skip, seen, shown);
    } else {
      fail_unknown_key(t.key_src, shown + full, unknown_key_text(table, prefix, k, shown));
    }
  }
}

template <class T>
void require_all(const std::vector<Field<T>>& table, const std::set<std::string>& seen,
                 const Src& src, const std::string& shown, const std::string& why) {
  for (const auto& f : table)
    if (!f.optional && !f.output_only && !seen.count(f.path))
      fail(src, shown + f.path, "missing" + why);
}

bool looks_like_path(const std::string& s) {
  const auto ends = [&](const char* e) {
    const std::string x(e);
    return s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0;
  };
  return s.find('/') != std::string::npos || ends(".yaml") || ends(".yml") || ends(".csv") ||
         ends(".onnx");
}

std::vector<std::string> stems_in(const std::string& dir, const std::string& ext) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ext) out.push_back(e.path().stem().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string resolve(const std::string& base_dir, const std::string& p) {
  const fs::path path(p);
  return (path.is_absolute() ? path : fs::path(base_dir.empty() ? "." : base_dir) / path)
      .lexically_normal()
      .string();
}

// A device, preset or network named by `value` at `t`: a name in configs_dir()/SUB/NAME.EXT or a
// path relative to base_dir. Missing files are errors of the referring key.
std::string find_named_file(const TNode& t, const std::string& key, const std::string& value,
                            const std::string& base_dir, const std::string& sub,
                            const std::string& what) {
  const std::string dir = configs_dir() + "/" + sub;
  std::error_code ec;
  if (looks_like_path(value)) {
    const std::string p = resolve(base_dir, value);
    if (!fs::is_regular_file(p, ec))
      fail(t.src, key,
           "expected an existing " + what + " file (got " + clip_text(value) + ": no file " +
               clip_text(p, 200) + ")");
    return p;
  }
  const std::string p = dir + "/" + value + ".yaml";
  if (!fs::is_regular_file(p, ec)) {
    const auto known = stems_in(dir, ".yaml");
    std::string hint = nearest(value, known);
    fail(t.src, key,
         "expected a " + what + " name (" + join(known, ", ") + ") or a path to a .yaml" +
             (sub == "workloads" ? " or .csv" : "") + " file (got " + clip_text(value) + ")" +
             (hint.empty() ? "" : "; did you mean '" + hint + "'?"));
  }
  return p;
}

DeviceConfig read_device_file(const std::string& path) {
  const TNode t = file_tree(load_yaml_file(path), path, "a mapping of device keys");
  DeviceConfig d;
  std::set<std::string> seen;
  walk(device_table(), t, "", d, {}, &seen);
  require_all(device_table(), seen, t.src, "", " (a device file gives every device key)");
  return d;
}

DramConfig read_preset_file(const std::string& path) {
  const TNode t = file_tree(load_yaml_file(path), path, "a mapping of DRAM keys");
  DramConfig d;
  std::set<std::string> seen;
  walk(dram_table(), t, "", d, {}, &seen);
  require_all(dram_table(), seen, t.src, "", " (a preset gives every DRAM key)");
  if (d.banks % d.bank_groups) {
    const TNode* g = t.find("bank_groups");
    fail(g ? g->src : t.src, "bank_groups",
         fmt::format("expected a divisor of banks ({}) (got {})", d.banks, d.bank_groups));
  }
  return d;
}

void load_device(const TNode* t, RunConfig& c, const std::string& base_dir) {
  const std::string dir = configs_dir() + "/devices";
  if (!t) {
    TNode none;
    none.src = {"(default)", 0};
    c.device = read_device_file(
        find_named_file(none, "device", c.device.name, base_dir, "devices", "device"));
    return;
  }
  if (t->node.IsScalar()) {
    const std::string s = get_str(*t, "device");
    c.device = read_device_file(find_named_file(*t, "device", s, base_dir, "devices", "device"));
    return;
  }
  if (!t->is_map)
    expected(*t, "device", "a device name, a path to a device .yaml, or a mapping of device keys");
  std::error_code ec;
  const TNode* name = t->find("name");
  const std::string base = name && name->node.IsScalar() ? name->node.Scalar() : "";
  const bool known = !base.empty() && !looks_like_path(base) &&
                     fs::is_regular_file(dir + "/" + base + ".yaml", ec);
  if (known) c.device = read_device_file(dir + "/" + base + ".yaml");
  std::set<std::string> seen;
  walk(device_table(), *t, "", c.device, {}, &seen, "device.");
  if (!known)
    require_all(device_table(), seen, t->src, "device.",
                " (device.name '" + base + "' is not a known device (" +
                    join(stems_in(dir, ".yaml"), ", ") + "), so the mapping gives every key)");
}

void load_preset(const TNode* t, RunConfig& c, const std::string& base_dir) {
  TNode none;
  none.src = {"(default)", 0};
  const TNode& at = t ? *t : none;
  const std::string name = t ? get_str(*t, "memory.preset") : c.memory.dram.preset;
  c.memory.dram =
      read_preset_file(find_named_file(at, "memory.preset", name, base_dir, "memory", "preset"));
}

// The energy cost file: named by energy.costs, else by the device's DSP family.
void load_energy(const TNode* t, RunConfig& c, const std::string& base_dir) {
  TNode none;
  none.src = {"(default)", 0};
  const TNode& at = t ? *t : none;
  std::string name = t ? get_str(*t, "energy.costs") : "";
  if (name.empty()) name = c.device.dsp_kind == DspKind::DSP48E1 ? "xc7" : "xcup";
  const std::string path = find_named_file(at, "energy.costs", name, base_dir, "energy", "cost");
  c.energy.costs = looks_like_path(name) ? fs::absolute(path).lexically_normal().string() : name;
  c.energy.k = load_energy_costs(path);
}

const TNode* find_path(const TNode& root, const std::string& path) {
  const TNode* cur = &root;
  for (const auto& part : split(path, '.')) {
    if (!cur->is_map) return nullptr;
    cur = cur->find(part);
    if (!cur) return nullptr;
  }
  return cur;
}

void apply_set(TNode& root, const std::string& s) {
  const Src src{set_label(s), 0};
  const size_t eq = s.find('=');
  if (eq == std::string::npos || eq == 0)
    fail(src, "",
         "expected KEY=VALUE with KEY a dotted config key, e.g. "
         "workload.sp2_fraction=0.6 (got " +
             clip_text(s) + ")");
  const std::string key = s.substr(0, eq), val = s.substr(eq + 1);
  const auto& table = run_table();
  if (!find_field(table, key) && !is_section(table, key)) {
    const auto parts = split(key, '.');
    std::string prefix;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      const std::string next = prefix.empty() ? parts[i] : prefix + "." + parts[i];
      if (!is_section(table, next)) break;
      prefix = next;
    }
    const size_t depth = prefix.empty() ? 0 : split(prefix, '.').size();
    std::string leaf = prefix.empty() ? parts[depth] : prefix + "." + parts[depth];
    // `accelerator.engines[0].rows` or `accelerator.engines.0.rows`: a list is set whole.
    const std::string bare = leaf.substr(0, leaf.find('['));
    if (const auto* f = find_field(table, bare); f && f->type.rfind("list", 0) == 0)
      fail_unknown_key(src, key,
                       "unknown key: " + bare + " is a list (" + f->type +
                           "): --set replaces it whole (--set '" + bare +
                           "=[...]'), its entries cannot be set one by one");
    // workload.sp2_fraction_per_layer.conv1: "a single value with no keys inside" was wrong.
    if (const auto* f = find_field(table, leaf); f && f->type.rfind("mapping", 0) == 0)
      fail_unknown_key(src, key,
                       "unknown key: " + leaf + " is a mapping (" + f->type +
                           "): --set replaces it whole (--set '" + leaf +
                           "={NAME: VALUE, ...}'), its entries cannot be set one by one");
    if (find_field(table, leaf))
      fail_unknown_key(src, key, "unknown key: " + leaf + " is a single value with no keys inside");
    fail_unknown_key(src, key, unknown_key_text(table, prefix, parts[depth], ""));
  }
  YAML::Node value;
  try {
    value = load_yaml_text(val, src.label, key);
  } catch (const YAML::ParserException& e) {
    fail(src, key, "expected a YAML value (got " + clip_text(val) + ": " + e.msg + ")");
  }
  // A file named on the command line is relative to where the command runs, not to the config.
  if (value.IsScalar() && is_relative_file_value(key, value.Scalar()))
    value.reset(YAML::Node(fs::absolute(value.Scalar()).lexically_normal().string()));
  TNode v = to_tree(value, src.label, false, key);
  v.key_src = src;

  const auto parts = split(key, '.');
  TNode* cur = &root;
  std::string at;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    at = at.empty() ? parts[i] : at + "." + parts[i];
    TNode* next = cur->find(parts[i]);
    if (!next) {
      TNode m;
      m.is_map = true;
      m.src = m.key_src = src;
      cur->kids.emplace_back(parts[i], std::move(m));
      next = &cur->kids.back().second;
    } else if (!next->is_map) {
      // `device: xc7z020` and `--set device.dsp=200`: the name becomes the mapping's base.
      if (at == "device" && next->node.IsScalar() && !looks_like_path(next->node.Scalar())) {
        TNode name = *next;
        next->is_map = true;
        next->node.reset(YAML::Node(YAML::NodeType::Map));
        next->kids.clear();
        next->kids.emplace_back("name", std::move(name));
      } else {
        expected(*next, at, "a mapping, so that --set " + key + " can go into it");
      }
    }
    cur = next;
  }
  if (TNode* old = cur->find(parts.back())) {
    *old = std::move(v);
  } else {
    cur->kids.emplace_back(parts.back(), std::move(v));
  }
}

// ---------------------------------------------------------------------------------------------
// Networks.

struct NetworkFile {
  std::string name;
  std::vector<LayerShape> layers;
  std::vector<Src> at;            // where each layer is, for messages
  std::vector<std::string> keys;  // and its key ("layers[3]", or the CSV's layer name)
};

std::pair<int, int> get_pair(const TNode& t, const std::string& key, int lo, int hi) {
  if (t.node.IsSequence()) {
    if (t.node.size() != 2) expected(t, key, fmt::format("an integer or [h, w] in {}..{}", lo, hi));
    const int a = int(get_int(to_tree(t.node[0], t.src.label, true, key), key, lo, hi));
    const int b = int(get_int(to_tree(t.node[1], t.src.label, true, key), key, lo, hi));
    return {a, b};
  }
  const int a = int(get_int(t, key, lo, hi));
  return {a, a};
}

void check_layer(const LayerShape& l, const TNode& t, const std::string& key) {
  const auto bad = [&](const std::string& why) { fail(t.src, key, why); };
  if (l.in_c % l.groups || l.out_c % l.groups)
    bad(
        fmt::format("expected groups to divide the input and output channels (got groups {} "
                    "for {} -> {} channels)",
                    l.groups, l.in_c, l.out_c));
  if (l.in_h + 2 * l.ph < l.kh || l.in_w + 2 * l.pw < l.kw)
    bad(
        fmt::format("expected the kernel to fit the padded input (got kernel {}x{} on {}x{} "
                    "with padding {}x{})",
                    l.kh, l.kw, l.in_h, l.in_w, l.ph, l.pw));
}

// One entry of a network file's `layers:` list: a conv / fc layer or a graph op.
struct NetEntry {
  std::string name;
  OpKind kind = OpKind::Conv;
  std::vector<std::string> inputs;  // producer names ("input": the network input)
  bool has_inputs = false;
  bool has_input_shape = false;  // conv / fc: `input:` given
  int kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0;
  int layer = -1;  // conv / fc: index into NetworkFile::layers
  Src at;
  std::string key;
};

// The graph part of a network file: a graph when any entry has `inputs:` or is not conv / fc.
struct NetGraph {
  bool graph = false;
  std::vector<NetEntry> entries;
  std::vector<int> input;  // network input [C, H, W]
};

OpKind op_kind_of(const std::string& ty, bool& ok) {
  ok = true;
  for (OpKind k : {OpKind::Conv, OpKind::Fc, OpKind::Add, OpKind::MaxPool, OpKind::AvgPool,
                   OpKind::GlobalAvgPool, OpKind::Concat, OpKind::Flatten})
    if (ty == op_kind_name(k)) return k;
  ok = false;
  return OpKind::Conv;
}

NetworkFile read_network_yaml(const std::string& path, NetGraph* graph_out = nullptr) {
  const TNode root = file_tree(load_yaml_file(path), path, "a mapping with name and layers");
  NetworkFile nf;
  NetGraph ng;
  const std::vector<std::string> top{"name", "source", "input", "layers"};
  for (const auto& [k, t] : root.kids)
    if (std::find(top.begin(), top.end(), k) == top.end())
      fail_unknown_key(t.key_src, k, unknown_key_what(k, top));
  const TNode* name = root.find("name");
  if (!name) fail(root.src, "name", "missing");
  nf.name = get_str(*name, "name");
  if (const TNode* s = root.find("source")) get_str(*s, "source");
  const TNode* layers = root.find("layers");
  if (!layers) fail(root.src, "layers", "missing");
  if (!layers->node.IsSequence() || layers->node.size() == 0)
    expected(*layers, "layers", "a non-empty list of layers");
  constexpr int kMax = 1 << 20;
  if (const TNode* in = root.find("input")) {
    if (!in->node.IsSequence() || in->node.size() != 3)
      expected(*in, "input", "[C, H, W] (the network input)");
    for (size_t d = 0; d < 3; ++d)
      ng.input.push_back(int(get_int(to_tree(in->node[d], path, true, "input"), "input", 1, kMax)));
    ng.graph = true;
  }

  const std::vector<std::string> keys{"name",   "type",   "input",   "inputs", "out_channels",
                                      "kernel", "stride", "padding", "groups"};
  std::set<std::string> names;
  std::vector<TNode> trees;
  for (size_t i = 0; i < layers->node.size(); ++i) {
    const std::string lk = fmt::format("layers[{}]", i);
    trees.push_back(to_tree(layers->node[i], path, true, lk));
    const TNode& t = trees.back();
    if (!t.is_map) expected(t, lk, "a mapping of " + join(keys, ", "));
    const TNode* ty = t.find("type");
    bool ok = false;
    if (ty && ty->node.IsScalar()) {
      const OpKind k = op_kind_of(ty->node.Scalar(), ok);
      if (ok && k != OpKind::Conv && k != OpKind::Fc) ng.graph = true;
    }
    if (t.find("inputs")) ng.graph = true;
  }
  for (size_t i = 0; i < trees.size(); ++i) {
    const std::string lk = fmt::format("layers[{}]", i);
    const TNode& t = trees[i];
    for (const auto& [k, v] : t.kids)
      if (std::find(keys.begin(), keys.end(), k) == keys.end())
        fail_unknown_key(v.key_src, lk + "." + k, unknown_key_what(k, keys));
    const auto need = [&](const std::string& k) -> const TNode& {
      const TNode* v = t.find(k);
      if (!v) fail(t.src, lk + "." + k, "missing");
      return *v;
    };
    NetEntry e;
    e.at = t.src;
    e.name = get_str(need("name"), lk + ".name");
    if (!names.insert(e.name).second)
      fail(need("name").src, lk + ".name",
           "expected a unique layer name (got " + clip_text(e.name) + " again)");
    if (ng.graph && e.name == "input")
      fail(need("name").src, lk + ".name",
           "expected a name other than 'input' (in a graph, inputs: [input] is the network input)");
    e.key = lk + " (" + clip_text(e.name) + ")";
    const TNode& type = need("type");
    bool ok = false;
    e.kind = op_kind_of(type.node.IsScalar() ? type.node.Scalar() : "", ok);
    if (!ok)
      expected(type, lk + ".type",
               "one of conv, fc, add, maxpool, avgpool, global_avgpool, concat, flatten");
    if (const TNode* in = t.find("inputs")) {
      e.has_inputs = true;
      if (in->node.IsScalar()) {
        e.inputs.push_back(get_str(*in, lk + ".inputs"));
      } else {
        if (!in->node.IsSequence() || in->node.size() == 0)
          expected(*in, lk + ".inputs", "a name or a non-empty list of names of earlier layers");
        for (size_t j = 0; j < in->node.size(); ++j)
          e.inputs.push_back(get_str(to_tree(in->node[j], path, true, lk), lk + ".inputs"));
      }
    }
    const auto allow_only = [&](const std::vector<std::string>& ok_keys, const std::string& what) {
      for (const auto& [k, v] : t.kids)
        if (std::find(ok_keys.begin(), ok_keys.end(), k) == ok_keys.end())
          fail(v.key_src, lk + "." + k, "unexpected for " + what);
    };
    if (e.kind == OpKind::Conv || e.kind == OpKind::Fc) {
      LayerShape l;
      l.name = e.name;
      l.type = e.kind == OpKind::Conv ? LayerType::Conv : LayerType::Fc;
      l.out_c = int(get_int(need("out_channels"), lk + ".out_channels", 1, kMax));
      const TNode* in = ng.graph ? t.find("input") : &need("input");
      e.has_input_shape = in != nullptr;
      if (l.type == LayerType::Fc) {
        for (const char* k : {"kernel", "stride", "padding", "groups"})
          if (const TNode* v = t.find(k))
            fail(v->key_src, lk + "." + k,
                 "unexpected for an fc layer (fc has input and out_channels)");
        if (in) l.in_c = int(get_int(*in, lk + ".input", 1, kMax));
      } else {
        if (in) {
          if (!in->node.IsSequence() || in->node.size() != 3)
            expected(*in, lk + ".input", "[C, H, W] for a conv layer");
          int* dims[3] = {&l.in_c, &l.in_h, &l.in_w};
          for (int d = 0; d < 3; ++d)
            *dims[d] = int(get_int(to_tree(in->node[d], path, true, lk), lk + ".input", 1, kMax));
        }
        std::tie(l.kh, l.kw) = get_pair(need("kernel"), lk + ".kernel", 1, 1024);
        if (const TNode* s = t.find("stride"))
          std::tie(l.sh, l.sw) = get_pair(*s, lk + ".stride", 1, 1024);
        if (const TNode* p = t.find("padding"))
          std::tie(l.ph, l.pw) = get_pair(*p, lk + ".padding", 0, 1024);
        if (const TNode* g = t.find("groups")) l.groups = int(get_int(*g, lk + ".groups", 1, kMax));
        if (in) check_layer(l, t, lk);
      }
      e.layer = int(nf.layers.size());
      nf.layers.push_back(l);
      nf.at.push_back(t.src);
      nf.keys.push_back(e.key);
    } else if (e.kind == OpKind::MaxPool || e.kind == OpKind::AvgPool) {
      allow_only({"name", "type", "inputs", "kernel", "stride", "padding"},
                 std::string("a ") + op_kind_name(e.kind) + " (it has kernel, stride, padding)");
      std::tie(e.kh, e.kw) = get_pair(need("kernel"), lk + ".kernel", 1, 1024);
      if (const TNode* s = t.find("stride"))
        std::tie(e.sh, e.sw) = get_pair(*s, lk + ".stride", 1, 1024);
      if (const TNode* p = t.find("padding"))
        std::tie(e.ph, e.pw) = get_pair(*p, lk + ".padding", 0, 1024);
    } else {
      allow_only({"name", "type", "inputs"},
                 std::string("a ") + op_kind_name(e.kind) + " (it has only name, type, inputs)");
    }
    ng.entries.push_back(std::move(e));
  }
  if (ng.graph) {
    // Producers by name; every op's inputs default to the previous entry (the first: the input).
    std::map<std::string, int> index;
    for (size_t i = 0; i < ng.entries.size(); ++i) index[ng.entries[i].name] = int(i);
    for (size_t i = 0; i < ng.entries.size(); ++i) {
      NetEntry& e = ng.entries[i];
      if (!e.has_inputs) e.inputs = {i == 0 ? std::string("input") : ng.entries[i - 1].name};
      for (const std::string& n : e.inputs)
        if (n != "input" && !index.count(n)) {
          const std::vector<std::string> all(names.begin(), names.end());
          const std::string hint = nearest(n, all);
          fail(e.at, e.key + ".inputs",
               "reads " + clip_text(n) +
                   ", which no layer of the network produces (a dangling "
                   "input)" +
                   (hint.empty() ? "" : "; did you mean '" + hint + "'?"));
        }
    }
    // A cycle first (it would otherwise show as an input listed after its reader).
    std::vector<int> state(ng.entries.size(), 0), stack;
    std::function<void(int)> visit = [&](int i) {
      state[size_t(i)] = 1;
      stack.push_back(i);
      for (const std::string& n : ng.entries[size_t(i)].inputs) {
        if (n == "input") continue;
        const int j = index[n];
        if (state[size_t(j)] == 1) {
          std::string loop;
          for (size_t k = std::find(stack.begin(), stack.end(), j) - stack.begin();
               k < stack.size(); ++k)
            loop += clip_text(ng.entries[size_t(stack[k])].name) + " -> ";
          const NetEntry& e = ng.entries[size_t(i)];
          fail(e.at, e.key + ".inputs",
               "the inputs form a cycle (" + loop + clip_text(ng.entries[size_t(j)].name) + ")");
        }
        if (state[size_t(j)] == 0) visit(j);
      }
      stack.pop_back();
      state[size_t(i)] = 2;
    };
    for (size_t i = 0; i < ng.entries.size(); ++i)
      if (state[i] == 0) visit(int(i));
    for (size_t i = 0; i < ng.entries.size(); ++i)
      for (const std::string& n : ng.entries[i].inputs)
        if (n != "input" && index[n] >= int(i))
          fail(ng.entries[i].at, ng.entries[i].key + ".inputs",
               "reads " + clip_text(n) +
                   ", which is listed after it (list each layer after the "
                   "layers it reads)");
    // Shapes, in file order: each op's output from its inputs.
    if (ng.input.empty()) {
      const NetEntry& e0 = ng.entries[0];
      if (e0.layer < 0 || !ng.entries[0].has_input_shape)
        fail(e0.at, e0.key + ".input",
             "missing: give the network input as the top-level input: [C, H, W] or as the first "
             "layer's input");
      const LayerShape& l = nf.layers[size_t(e0.layer)];
      ng.input = {l.in_c, l.in_h, l.in_w};
      if (l.type == LayerType::Fc) ng.input = {l.in_c, 1, 1};
    }
    std::map<std::string, TensorDesc> shape;
    TensorDesc in;
    in.name = "input";
    in.c = ng.input[0], in.h = ng.input[1], in.w = ng.input[2];
    shape["input"] = in;
    for (NetEntry& e : ng.entries) {
      std::vector<const TensorDesc*> ins;
      for (const std::string& n : e.inputs) ins.push_back(&shape[n]);
      Op op;
      op.name = e.name;
      op.kind = e.kind;
      op.kh = e.kh, op.kw = e.kw, op.sh = e.sh, op.sw = e.sw, op.ph = e.ph, op.pw = e.pw;
      QuantLayer q;
      const TensorDesc& x = *ins[0];
      if (e.layer >= 0) {
        LayerShape& l = nf.layers[size_t(e.layer)];
        const auto mismatch = [&](const std::string& want) {
          fail(e.at, e.key + ".input",
               fmt::format("expected {} (the shape of {}, which it reads) (got {})", want,
                           clip_text(e.inputs[0]),
                           l.type == LayerType::Fc
                               ? std::to_string(l.in_c)
                               : fmt::format("[{}, {}, {}]", l.in_c, l.in_h, l.in_w)));
        };
        if (e.inputs.size() != 1)
          fail(e.at, e.key + ".inputs",
               fmt::format("expected one input for a {} layer (got {})", op_kind_name(e.kind),
                           e.inputs.size()));
        if (l.type == LayerType::Fc) {
          const int64_t k = int64_t(x.c) * x.h * x.w;
          if (e.has_input_shape && l.in_c != k) mismatch(std::to_string(k));
          if (k > kMax) fail(e.at, e.key, "expected at most 2^20 inputs for an fc layer");
          l.in_c = int(k);
        } else {
          if (e.has_input_shape && (l.in_c != x.c || l.in_h != x.h || l.in_w != x.w))
            mismatch(fmt::format("[{}, {}, {}]", x.c, x.h, x.w));
          l.in_c = x.c, l.in_h = x.h, l.in_w = x.w;
          check_layer(l, trees[size_t(&e - ng.entries.data())], e.key);
        }
        q.shape = l;
        q.shape.batch = 1;
      }
      TensorDesc o;
      try {
        o = infer_output(op, ins, e.layer >= 0 ? &q : nullptr);
      } catch (const InputError& err) {
        fail(e.at, e.key, err.detail());
      }
      // A pool or concat has no layer shape for read_network's size check; its tensors are
      // allocated whole, so an input of 10^15 values failed the run with std::bad_alloc.
      for (const TensorDesc* t : ins)
        if (int64_t(t->c) * t->h * t->w > kMaxLayerElements)
          fail(e.at, e.key,
               fmt::format("expected at most 2^40 values per image in {} (got [{}, {}, {}])",
                           clip_text(t->name), t->c, t->h, t->w));
      if (int64_t(o.c) * o.h * o.w > kMaxLayerElements)
        fail(e.at, e.key,
             fmt::format("expected at most 2^40 output values per image (got [{}, {}, {}])", o.c,
                         o.h, o.w));
      o.name = e.name;
      shape[e.name] = o;
    }
  }
  if (graph_out) *graph_out = std::move(ng);
  return nf;
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// SCALE-Sim's two topology formats, read as SCALE-Sim reads them. The conv format: one header
// line, then "name, ifmap h, ifmap w, filter h, filter w, channels, filters, stride," with no
// padding (SCALE-Sim's ifmap sizes already include any padding). The GEMM format: header
// "Layer, M, N, K," then one GEMM per row, the product of an M x K input and a K x N weight
// matrix. SCALE-Sim runs it as a conv of N filters with one output per row of the input; msqsim
// runs the same GEMM as a 1x1 conv of N filters over an M x 1 input of K channels (msqsim's M, the
// weight rows, is SCALE-Sim's N; its N, the output columns, is SCALE-Sim's M).
NetworkFile read_network_csv(const std::string& path) {
  require_readable_file(path);
  std::ifstream in(path);
  if (!in) throw InputError(path, 0, "", "cannot read the file");
  static const std::vector<std::string> conv_cols{"Layer name",    "IFMAP Height", "IFMAP Width",
                                                  "Filter Height", "Filter Width", "Channels",
                                                  "Num Filter",    "Strides"};
  static const std::vector<std::string> gemm_cols{"Layer", "M", "N", "K"};
  NetworkFile nf;
  nf.name = fs::path(path).stem().string();
  std::set<std::string> names;
  std::string line;
  const std::vector<std::string>* cols = nullptr;  // the format, set by the header
  for (int ln = 1; std::getline(in, line); ++ln) {
    if (trim(line).empty()) continue;
    auto cells = split(line, ',');
    for (auto& c : cells) c = trim(c);
    while (!cells.empty() && cells.back().empty()) cells.pop_back();
    if (!cols) {
      std::vector<std::string> h = cells;
      for (auto& c : h) std::transform(c.begin(), c.end(), c.begin(), ::tolower);
      if (h.size() == conv_cols.size() && h[0] == "layer name")
        cols = &conv_cols;
      else if (h == std::vector<std::string>{"layer", "m", "n", "k"})
        cols = &gemm_cols;
      else
        fail({path, ln}, "",
             "expected a SCALE-Sim header, '" + join(conv_cols, ", ") + ",' (conv layers) or '" +
                 join(gemm_cols, ", ") + ",' (GEMMs) (got " + clip_text(trim(line)) + ")");
      continue;
    }
    const bool gemm = cols == &gemm_cols;
    if (cells.size() != cols->size())
      fail({path, ln}, "",
           fmt::format("expected {} comma-separated columns ({}) (got {})", cols->size(),
                       join(*cols, ", "), cells.size()));
    LayerShape l;
    l.name = cells[0];
    if (l.name.empty()) fail({path, ln}, (*cols)[0], "expected a layer name (got nothing)");
    int v[8] = {};
    for (size_t c = 1; c < cols->size(); ++c) {
      const std::string& s = cells[c];
      const auto r = std::from_chars(s.data(), s.data() + s.size(), v[c]);
      if (r.ec != std::errc() || r.ptr != s.data() + s.size() || v[c] < 1 || v[c] > (1 << 20))
        fail({path, ln}, clip_text(l.name) + "." + (*cols)[c],
             "expected an integer in 1..1048576 (got " + (s.empty() ? "nothing" : clip_text(s)) +
                 ")");
    }
    if (!names.insert(l.name).second)
      fail({path, ln}, (*cols)[0],
           "expected a unique layer name (got " + clip_text(l.name) + " again)");
    if (gemm) {
      l.in_h = v[1], l.out_c = v[2], l.in_c = v[3];
    } else {
      l.in_h = v[1], l.in_w = v[2], l.kh = v[3], l.kw = v[4], l.in_c = v[5], l.out_c = v[6];
      l.sh = l.sw = v[7];
    }
    TNode at;
    at.src = {path, ln};
    check_layer(l, at, clip_text(l.name));
    nf.layers.push_back(l);
    nf.at.push_back(at.src);
    nf.keys.push_back(clip_text(l.name));
  }
  if (nf.layers.empty()) fail({path, 0}, "", "expected at least one layer (got none)");
  return nf;
}

// The Conv and Gemm layers of an ONNX model (the other ops are not layers of the table).
NetworkFile read_network_onnx(const std::string& path) {
  NetworkFile nf;
  const FloatGraph g = import_onnx(path);
  nf.name = g.name;
  for (const LayerShape& l : onnx_layer_shapes(g)) {
    nf.layers.push_back(l);
    nf.at.push_back(Src{path, 0});
    nf.keys.push_back("layer '" + l.name + "'");
  }
  return nf;
}

NetworkFile check_network_size(NetworkFile nf, int batch);

// Reads a network and checks that each layer, at `batch`, and the whole network are small enough
// for the simulator's 64-bit counts.
NetworkFile read_network(const std::string& path, int batch, NetGraph* graph = nullptr) {
  const std::string ext = fs::path(path).extension().string();
  if (ext == ".csv") return check_network_size(read_network_csv(path), batch);
  if (ext == ".onnx") return check_network_size(read_network_onnx(path), batch);
  // A run reads its network YAML more than once (loading the config checks it, building the
  // design reads its graph); parsing it is a third of a timing-only run, so a file that has not
  // changed since is parsed once per process.
  struct Parsed {
    fs::file_time_type mtime;
    uintmax_t size = 0;
    NetworkFile nf;
    NetGraph graph;
  };
  static std::map<std::string, Parsed> cache;
  static std::mutex cache_mutex;
  std::error_code ec1, ec2;
  const auto mtime = fs::last_write_time(path, ec1);
  const auto size = fs::file_size(path, ec2);
  if (!ec1 && !ec2) {
    std::lock_guard<std::mutex> lock(cache_mutex);
    const auto it = cache.find(path);
    if (it != cache.end() && it->second.mtime == mtime && it->second.size == size) {
      if (graph) *graph = it->second.graph;
      return check_network_size(it->second.nf, batch);
    }
  }
  NetGraph g;
  NetworkFile nf = read_network_yaml(path, &g);
  if (!ec1 && !ec2) {
    std::lock_guard<std::mutex> lock(cache_mutex);
    cache[path] = Parsed{mtime, size, nf, g};
  }
  if (graph) *graph = std::move(g);
  return check_network_size(std::move(nf), batch);
}

// Checks that each layer, at `batch`, and the whole network are small enough for the simulator's
// 64-bit counts.
NetworkFile check_network_size(NetworkFile nf, int batch) {
  int64_t total = 0;
  for (size_t i = 0; i < nf.layers.size(); ++i) {
    LayerShape l = nf.layers[i];
    l.batch = batch;
    const std::string why = layer_size_problem(l);
    if (!why.empty()) fail(nf.at[i], nf.keys[i], why + "; the simulator cannot count that high");
    total += l.macs();
    if (total > (int64_t(1) << 60))
      fail(nf.at[i], nf.keys[i],
           fmt::format("expected a network of at most 2^60 multiply-accumulates at batch {} (the "
                       "layers up to this one already have {})",
                       batch, total));
  }
  return nf;
}

// ---------------------------------------------------------------------------------------------

void put_json(json& j, const std::string& path, const json& v) {
  j[json::json_pointer("/" + join(split(path, '.'), "/"))] = v;
}

YAML::Node json_to_yaml(const json& v) {
  if (v.is_boolean()) return YAML::Node(v.get<bool>());
  if (v.is_number_unsigned()) return YAML::Node(v.get<uint64_t>());
  if (v.is_number_integer()) return YAML::Node(v.get<int64_t>());
  // fmt prints the shortest text that reads back to the same double.
  if (v.is_number_float()) return YAML::Node(fmt::format("{}", v.get<double>()));
  if (v.is_array()) {
    YAML::Node n(YAML::NodeType::Sequence);
    for (const auto& e : v) n.push_back(json_to_yaml(e));
    return n;
  }
  if (v.is_object()) {
    YAML::Node n(YAML::NodeType::Map);
    for (auto it = v.begin(); it != v.end(); ++it) n[it.key()] = json_to_yaml(it.value());
    return n;
  }
  if (v.is_null()) return YAML::Node(YAML::NodeType::Null);
  return YAML::Node(v.get<std::string>());
}

void yaml_put(YAML::Node node, const std::vector<std::string>& parts, size_t i,
              const YAML::Node& v) {
  if (i + 1 == parts.size()) {
    node[parts[i]] = v;
    return;
  }
  yaml_put(node[parts[i]], parts, i + 1, v);
}

std::string md_escape(std::string s) {
  std::string out;
  for (char ch : s) out += ch == '|' ? std::string("\\|") : std::string(1, ch);
  return out;
}

template <class T>
std::string md_table(const std::vector<Field<T>>& table, bool show_default) {
  std::string s = show_default
                      ? "| key | type | default | range | meaning |\n|---|---|---|---|---|\n"
                      : "| key | type | range | meaning |\n|---|---|---|---|\n";
  const T defaults{};
  for (const auto& f : table) {
    std::string type = f.type + (f.output_only ? " (output only)" : "");
    std::string def = f.default_text;
    if (def.empty() && f.dump) {
      const json d = f.dump(defaults);
      def =
          d.is_string() ? (d.get<std::string>().empty() ? "\"\"" : d.get<std::string>()) : d.dump();
    }
    if (show_default)
      s += fmt::format("| `{}` | {} | {} | {} | {} |\n", f.path, type, md_escape(def), f.range,
                       f.doc);
    else
      s += fmt::format("| `{}` | {} | {} | {}{} |\n", f.path, type, f.range, f.doc,
                       f.optional ? " Optional." : "");
  }
  return s;
}

// Memory keys checked against each other and against the device's AXI HP limits, reported at the
// key that breaks them.
void check_memory(const TNode& root, RunConfig& c, const std::string& label) {
  const auto at = [&](const std::string& key) {
    const TNode* t = find_path(root, key);
    return t ? t->src : Src{label, 0};
  };
  MemoryConfig& m = c.memory;
  const DeviceConfig& d = c.device;
  if (m.dram.banks % m.dram.bank_groups) {
    // Blame the key the config gives; a preset's own pair is checked when the preset is read.
    const bool banks_given =
        !find_path(root, "memory.dram.bank_groups") && find_path(root, "memory.dram.banks");
    if (banks_given)
      fail(at("memory.dram.banks"), "memory.dram.banks",
           fmt::format("expected a multiple of memory.dram.bank_groups ({}) (got {})",
                       m.dram.bank_groups, m.dram.banks));
    fail(at("memory.dram.bank_groups"), "memory.dram.bank_groups",
         fmt::format("expected a divisor of memory.dram.banks ({}) (got {})", m.dram.banks,
                     m.dram.bank_groups));
  }
  const std::string dev = "the " + d.name + " (device.axi_hp_";
  if (d.axi_hp_ports > 0 && m.axi_ports > d.axi_hp_ports)
    fail(at("memory.axi_ports"), "memory.axi_ports",
         fmt::format("expected at most {} AXI HP ports, the limit of {}ports) (got {})",
                     d.axi_hp_ports, dev, m.axi_ports));
  if (d.axi_hp_width_bits > 0 && m.axi_width_bits > d.axi_hp_width_bits)
    fail(at("memory.axi_width_bits"), "memory.axi_width_bits",
         fmt::format("expected at most {} bits, the widest AXI HP port of {}width_bits) (got {})",
                     d.axi_hp_width_bits, dev, m.axi_width_bits));
  if (d.axi_hp_clock_mhz > 0 && m.axi_clock_mhz > d.axi_hp_clock_mhz)
    fail(at("memory.axi_clock_mhz"), "memory.axi_clock_mhz",
         fmt::format("expected at most {} MHz, the fastest AXI HP port clock of {}clock_mhz) "
                     "(got {})",
                     d.axi_hp_clock_mhz, dev, m.axi_clock_mhz));
  if (m.clip_axi_clock && m.axi_clock_mhz == 0 && d.axi_hp_clock_mhz > 0 &&
      c.clock_mhz > d.axi_hp_clock_mhz) {
    m.axi_clock_clipped_from = c.clock_mhz;
    m.axi_clock_mhz = d.axi_hp_clock_mhz;
  }
  const std::pair<const char*, const std::vector<int>*> streams[] = {
      {"memory.streams.weights", &m.streams.weights},
      {"memory.streams.inputs", &m.streams.inputs},
      {"memory.streams.outputs", &m.streams.outputs}};
  for (const auto& [key, ports] : streams)
    for (int p : *ports)
      if (p >= m.axi_ports)
        fail(at(key), key,
             fmt::format("expected AXI port numbers 0 .. {} (memory.axi_ports is {}) (got {})",
                         m.axi_ports - 1, m.axi_ports, p));
}

}  // namespace

std::string set_label(const std::string& set) {
  return "--set " + clip_text(set, 80);
}

std::string config_warnings(const RunConfig& c) {
  if (c.memory.axi_clock_clipped_from <= 0) return "";
  return fmt::format(
      "warning: {}: the AXI ports run at {} MHz, the {}'s AXI HP limit, not at the {} MHz fabric "
      "clock (memory.clip_axi_clock)",
      c.file, c.memory.axi_clock_mhz, c.device.name, c.memory.axi_clock_clipped_from);
}

std::string configs_dir() {
  return find_configs_dir();
}

namespace {

// Bit widths an engine kind cannot take, refused at the key that sets them.
void check_engine_widths(const TNode& root, const RunConfig& c, const std::string& label) {
  const std::vector<EngineSpec> engines = engine_specs(c.accelerator);
  const auto of_kind = [&](const char* impl) -> const EngineSpec* {
    for (const EngineSpec& e : engines)
      if (e.impl == impl) return &e;
    return nullptr;
  };
  const EngineSpec* actpack = of_kind("dsp48_actpack");
  const auto& w = c.workload;
  const auto at = [&](const char* key) {
    const TNode* t = find_path(root, key);
    if (!t) t = find_path(root, "accelerator.engines");
    return t ? t->src : Src{label, 0};
  };
  if (of_kind("lut_sp2_bitserial") && w.sp2_fraction > 0 && w.weight_bits >= 3 &&
      !bitserial_sp2_bits_ok(w.weight_bits))
    fail(at("workload.weight_bits"), "workload.weight_bits",
         fmt::format("a lut_sp2_bitserial engine takes SP2 rows of 3..7 bits: its digits are a "
                     "sign and a {}-bit shift (0..{}), and {}-bit SP2 weights need shifts up to {} "
                     "(got weight_bits {} with sp2_fraction {}; use weight_bits <= 7 or impl "
                     "lut_sp2)",
                     kBitSerialShiftBits, kBitSerialMaxShift, w.weight_bits,
                     sp2_max_digit_shift(w.weight_bits), w.weight_bits, w.sp2_fraction));
  if (actpack && actpack->packing) {
    const DspGeometry g = dsp_geometry(c.device.dsp_kind);
    const char* dsp = c.device.dsp_kind == DspKind::DSP48E1 ? "DSP48E1" : "DSP48E2";
    const auto chain = [&](int act_bits) {
      const int D =
          actpack->lane_offset > 0 ? actpack->lane_offset : max_act_lane_offset(g, act_bits);
      return act_packed_max_chain(g, ActPackLayout{act_bits, w.weight_bits, D});
    };
    if (chain(w.act_bits) < 1) {
      int fits = 0;
      for (int a = w.act_bits - 1; a >= 1 && !fits; --a)
        if (chain(a) >= 1) fits = a;
      const bool by_offset = actpack->lane_offset > 0;
      const char* key = by_offset ? "accelerator.dsp_core.lane_offset" : "workload.act_bits";
      // Given in the engines list, the offset is named where the user wrote it.
      const bool in_list =
          by_offset && !find_path(root, key) && find_path(root, "accelerator.engines");
      Src where = at(key);
      if (in_list && where.line > 0) {
        const YAML::Node list = find_path(root, "accelerator.engines")->node;
        if (list.IsSequence() && list.size() > 1 && list[1].IsMap() && list[1]["lane_offset"])
          where.line = list[1]["lane_offset"].Mark().line + 1;
      }
      fail(where, in_list ? "accelerator.engines[1].lane_offset" : key,
           fmt::format("a dsp48_actpack engine packs two activations into the {}'s {}-bit A "
                       "port, A = (x_hi << D) + x_lo; {}-bit activations with {}-bit weights{} "
                       "leave no safe chain (got act_bits {}; use {}packing: false or impl "
                       "dsp48)",
                       dsp, g.a_bits, w.act_bits, w.weight_bits,
                       by_offset ? fmt::format(" and D = {}", actpack->lane_offset) : std::string(),
                       w.act_bits, fits ? fmt::format("act_bits <= {}, ", fits) : std::string()));
    }
  }
}

// workload.sp2_fraction_per_layer and fixed8_fraction_per_layer, checked against the network's
// layers here (not when the network is quantized or built) so that the message names the line of
// the entry, and validate sees it. Their sum per layer is checked with the other keys.
void per_layer_fraction_check(const TNode& root, const RunConfig& c, const std::string& network,
                              const std::vector<std::string>& names) {
  const bool onnx = is_onnx_network(c.workload);
  for (const char* key :
       {"workload.sp2_fraction_per_layer", "workload.fixed8_fraction_per_layer"}) {
    const TNode* t = find_path(root, key);
    if (!t) continue;
    for (const auto& [name, kid] : t->kids) {
      if (std::find(names.begin(), names.end(), name) != names.end()) continue;
      const std::string hint = nearest(name, names);
      std::string some;
      for (size_t i = 0; i < names.size() && i < 6; ++i) some += (i ? ", " : "") + names[i];
      fail(kid.key_src, std::string(key) + "." + name,
           std::string(onnx ? "expected a Conv or Gemm layer of " : "expected a layer of ") +
               clip_text(network) + " (got " + clip_text(name) + ")" +
               (hint.empty() ? "" : "; did you mean '" + hint + "'?") +
               " (its first layers: " + some + ")");
    }
  }
}

// mapping: given needs its file, and the file's layers must be the network's; read it here so that
// `validate` reports a bad file, not a run halfway through (models/plan/mapping_file.h).
void given_mapping_check(const TNode& root, RunConfig& c, const std::string& label,
                         const std::string& base_dir, const std::vector<std::string>& names) {
  SchedulerConfig& sc = c.accelerator.scheduler;
  const char* key = "accelerator.scheduler.mapping_file";
  const TNode* t = find_path(root, key);
  const Src src = t ? t->src : Src{label, 0};
  if (sc.mapping != MappingMode::Given) {
    if (!sc.mapping_file.empty())
      fail(src, key,
           "used only with accelerator.scheduler.mapping: given (got mapping_file " +
               clip_text(sc.mapping_file) + " without it)");
    return;
  }
  if (sc.mapping_file.empty())
    fail(src, key, "expected a mapping file (CSV) for accelerator.scheduler.mapping: given");
  const std::string p = resolve(base_dir, sc.mapping_file);
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) {
    // A relative path in the file is the config's: say so when the name is a file of the working
    // directory, the usual mistake.
    const bool relative = fs::path(sc.mapping_file).is_relative();
    const bool here = relative && fs::is_regular_file(sc.mapping_file, ec) &&
                      !fs::equivalent(sc.mapping_file, p, ec);
    fail(src, key,
         "expected an existing mapping file (got " + clip_text(sc.mapping_file) + ": " +
             (fs::is_directory(p, ec) ? clip_text(p, 200) + " is a directory"
              : fs::exists(p, ec)     ? clip_text(p, 200) + " is not a regular file"
                                      : "no file " + clip_text(p, 200)) +
             (relative ? ", relative to the config's directory" : "") +
             (here ? "; for the working directory's, give " +
                         clip_text(fs::absolute(sc.mapping_file).lexically_normal().string(), 200)
                   : std::string()) +
             ")");
  }
  sc.mapping_file = fs::absolute(p).lexically_normal().string();
  check_given_mapping(sc.mapping_file, names, c.workload.layers);
}

}  // namespace

bool is_relative_file_value(const std::string& key, const std::string& value) {
  const bool name_or_path = key == "device" || key == "memory.preset" ||
                            key == "workload.network" || key == "energy.costs";
  const bool path_only = key == "accelerator.scheduler.mapping_file" ||
                         key == "workload.calibration" || key == "workload.eval_images" ||
                         key == "workload.eval_labels";
  return (name_or_path || path_only) && !value.empty() && (path_only || looks_like_path(value)) &&
         fs::path(value).is_relative();
}

RunConfig load_run_config_node(const YAML::Node& root_node, const std::string& label,
                               const std::string& base_dir, const std::vector<std::string>& sets) {
  check_yaml_tree(root_node, label);  // a tree parsed by the caller has not been bounded yet
  TNode root = file_tree(root_node, label, "a mapping of config keys");
  for (const auto& s : sets) apply_set(root, s);

  RunConfig c;
  c.file = label;
  load_device(root.find("device"), c, base_dir);
  load_preset(find_path(root, "memory.preset"), c, base_dir);
  load_energy(find_path(root, "energy.costs"), c, base_dir);
  walk(run_table(), root, "", c, {"device", "memory.preset", "energy.costs"}, nullptr);
  check_memory(root, c, label);

  // One spelling of the engines' keys per config, so that no value silently overrides another.
  // When one side comes from --set and the other from the file, the message is about the --set
  // (what the user just typed) and says what to type instead.
  if (const TNode* list = find_path(root, "accelerator.engines"))
    for (const char* old_key : {"accelerator.lut_core", "accelerator.dsp_core"})
      if (const TNode* t = find_path(root, old_key)) {
        const auto by_set = [](const Src& s) { return s.label.rfind("--set ", 0) == 0; };
        const auto where = [](const Src& s) {
          return s.line > 0 ? fmt::format("{}:{}", s.label, s.line) : s.label;
        };
        const bool lut = std::string(old_key) == "accelerator.lut_core";
        if (by_set(list->key_src) && !by_set(t->key_src))
          throw InputError(
              list->key_src.label, 0, "accelerator.engines",
              fmt::format("the config gives the engines in the old spelling ({} at {}), which "
                          "cannot be mixed with the list: change them by the old keys ({}.rows=N "
                          "and the like), or write accelerator.engines into the config in place "
                          "of accelerator.lut_core and accelerator.dsp_core",
                          old_key, where(t->key_src), old_key),
              InputProblem::MixedSpelling);
        if (by_set(t->key_src) && !by_set(list->key_src))
          throw InputError(
              t->key_src.label, 0, old_key,
              fmt::format("the config gives the engines as a list (accelerator.engines at {}), "
                          "so the old spelling's keys do not apply: give the whole list instead, "
                          "every entry with its keys, e.g. accelerator.engines=[{{impl: lut_sp2, "
                          "rows: 32, cols: 32}}, {{impl: dsp48, rows: 16, cols: 16}}]",
                          where(list->key_src)),
              InputProblem::MixedSpelling);
        throw InputError(t->key_src.label, t->key_src.line, old_key,
                         std::string("the engines are given as a list (accelerator.engines), so "
                                     "this key of the old spelling is ambiguous: give its values "
                                     "in the list entry, e.g. accelerator.engines: [{impl: ") +
                             (lut ? "lut_sp2, name: lut_core" : "dsp48, name: dsp_core") +
                             ", rows: ...}, ...]",
                         InputProblem::MixedSpelling);
      }

  // Checks across keys, reported at the key that breaks them.
  auto& w = c.workload;
  if (w.sp2_fraction + w.fixed8_fraction > 1.0 + 1e-12) {
    const TNode* t8 = find_path(root, "workload.fixed8_fraction");
    const TNode* t = t8 ? t8 : find_path(root, "workload.sp2_fraction");
    fail(t ? t->src : Src{label, 0}, t8 ? "workload.fixed8_fraction" : "workload.sp2_fraction",
         fmt::format("expected sp2_fraction + fixed8_fraction <= 1 (got {} + {})", w.sp2_fraction,
                     w.fixed8_fraction));
  }
  // A layer's mix: its own fractions where given, else the global ones (sp2_auto's fraction is
  // known only from the weights, so there the 8-bit share is cut to what it leaves).
  for (const auto* per : {&w.sp2_fraction_per_layer, &w.fixed8_fraction_per_layer})
    for (const auto& kv : *per) {
      const auto s = w.sp2_fraction_per_layer.find(kv.first);
      const auto f = w.fixed8_fraction_per_layer.find(kv.first);
      const bool own_sp2 = s != w.sp2_fraction_per_layer.end();
      if (!own_sp2 && w.sp2_auto) continue;
      const double r = own_sp2 ? s->second : w.sp2_fraction;
      const double f8 = f != w.fixed8_fraction_per_layer.end() ? f->second : w.fixed8_fraction;
      if (r + f8 <= 1.0 + 1e-12) continue;
      const std::string key =
          (per == &w.fixed8_fraction_per_layer ? "workload.fixed8_fraction_per_layer."
                                               : "workload.sp2_fraction_per_layer.") +
          kv.first;
      const TNode* t = find_path(root, key);
      if (!t)
        t = find_path(root, per == &w.fixed8_fraction_per_layer
                                ? "workload.fixed8_fraction_per_layer"
                                : "workload.sp2_fraction_per_layer");
      const bool own_f8 = f != w.fixed8_fraction_per_layer.end();
      fail(t ? t->src : Src{label, 0}, key,
           fmt::format("expected {} + {} <= 1 (got {} + {})",
                       per == &w.sp2_fraction_per_layer ? "a fraction" : "sp2_fraction",
                       per == &w.fixed8_fraction_per_layer ? "a fraction"
                       : own_f8                            ? "the layer's fixed8_fraction_per_layer"
                                                           : "fixed8_fraction",
                       r, f8));
    }

  check_engine_widths(root, c, label);

  const TNode* net = find_path(root, "workload.network");
  TNode none;
  none.src = {label, 0};
  w.network_path = fs::absolute(find_named_file(net ? *net : none, "workload.network", w.network,
                                                base_dir, "workloads", "network"))
                       .lexically_normal()
                       .string();
  if (w.sp2_auto_min > w.sp2_auto_max) {
    const TNode* t = find_path(root, "workload.sp2_auto_max");
    fail(t ? t->src : Src{label, 0}, "workload.sp2_auto_max",
         fmt::format("expected sp2_auto_min <= sp2_auto_max (got {} > {})", w.sp2_auto_min,
                     w.sp2_auto_max));
  }
  // The keys of an imported network's weights (workload.network: MODEL.onnx), refused on another
  // network here, at their line (the network is built long after the file is read). A config
  // msqsim wrote (optimize --out, a trace's manifest) holds every key at its default: a default
  // is not a choice.
  if (!is_onnx_network(w))
    for (const auto& [key, given, why] :
         {std::tuple{"workload.calibration", !w.calibration.empty(),
                     "it sets the activation ranges from the float network's values"},
          std::tuple{"workload.sp2_auto", w.sp2_auto,
                     "it picks each layer's SP2 fraction from the trained weights"},
          std::tuple{"workload.sp2_auto_min", w.sp2_auto_min != 0.0, "it bounds sp2_auto"},
          std::tuple{"workload.sp2_auto_max", w.sp2_auto_max != 1.0, "it bounds sp2_auto"},
          std::tuple{"workload.eval_images", !w.eval_images.empty(),
                     "it compares the integer network with its float original"},
          std::tuple{"workload.eval_labels", !w.eval_labels.empty(),
                     "it compares the integer network with its float original"}}) {
      if (!given) continue;
      const TNode* t = find_path(root, key);
      fail(t ? t->src : Src{label, 0}, key,
           std::string("applies to ONNX networks only (workload.network: MODEL.onnx): ") + why +
               "; this network has synthetic weights");
    }
  // Input files of an ONNX run (calibration, eval images and labels): resolved against the
  // config and checked to exist here, so that validate reports them with their line.
  for (auto [key, given, path, want] :
       {std::tuple{"workload.calibration", &w.calibration, &w.calibration_path,
                   "an existing .npy file of float32 images [N, C, H, W]"},
        std::tuple{"workload.eval_images", &w.eval_images, &w.eval_images_path,
                   "an existing .npy file of float32 images [N, C, H, W]"},
        std::tuple{"workload.eval_labels", &w.eval_labels, &w.eval_labels_path,
                   "an existing .npy file of int64 labels [N]"}}) {
    if (given->empty()) continue;
    const TNode* t = find_path(root, key);
    const Src at = t ? t->src : Src{label, 0};
    const std::string p = resolve(base_dir, *given);
    std::error_code ec;
    if (!fs::is_regular_file(p, ec))
      fail(at, key,
           std::string("expected ") + want + " (got " + clip_text(*given) +
               (fs::is_directory(p, ec) ? ", a directory" : ": no file " + clip_text(p, 200)) +
               ")");
    *path = fs::absolute(p).lexically_normal().string();
  }
  if (!w.eval_labels.empty() && w.eval_images.empty()) {
    const TNode* t = find_path(root, "workload.eval_labels");
    fail(t ? t->src : Src{label, 0}, "workload.eval_labels",
         "expected workload.eval_images too: the labels are those of its images");
  }
  // Read the network now so that a broken network file or an unknown layer name is reported by
  // validate, not halfway through a run.
  const NetworkFile nf = read_network(w.network_path, w.batch);
  std::vector<std::string> names;
  for (const auto& l : nf.layers) names.push_back(l.name);
  given_mapping_check(root, c, label, base_dir, names);
  per_layer_fraction_check(root, c, nf.name, names);
  if (!w.layers.empty()) {
    const TNode* t = find_path(root, "workload.layers");
    for (const auto& want : w.layers)
      if (std::find(names.begin(), names.end(), want) == names.end()) {
        const std::string hint = nearest(want, names);
        fail(t ? t->src : Src{label, 0}, "workload.layers",
             "expected layer names of " + clip_text(nf.name) + " (got " + clip_text(want) + ")" +
                 (hint.empty() ? "" : "; did you mean '" + hint + "'?"));
      }
  }
  return c;
}

RunConfig load_run_config(const std::string& path, const std::vector<std::string>& sets) {
  const YAML::Node root = load_yaml_file(path);
  return load_run_config_node(root, path, fs::path(path).parent_path().string(), sets);
}

nlohmann::json config_to_json(const RunConfig& c) {
  json j = json::object();
  // The engines list always; the old spelling's keys only for a config given in it (with a list
  // they would show values no engine uses).
  const bool list = !c.accelerator.engines.empty();
  for (const auto& f : run_table()) {
    if (!f.dump) continue;
    if (list && (f.path.rfind("accelerator.lut_core.", 0) == 0 ||
                 f.path.rfind("accelerator.dsp_core.", 0) == 0))
      continue;
    put_json(j, f.path, f.dump(c));
  }
  return j;
}

YAML::Node config_to_yaml(const RunConfig& c) {
  YAML::Node root(YAML::NodeType::Map);
  // A config takes one spelling of the engines: the one it was given in.
  const bool named = !c.accelerator.engines.empty();
  const auto old_spelling = [](const std::string& p) {
    return p.rfind("accelerator.lut_core.", 0) == 0 || p.rfind("accelerator.dsp_core.", 0) == 0;
  };
  for (const auto& f : run_table()) {
    if (!f.dump || f.output_only) continue;
    if (named ? old_spelling(f.path) : f.path == "accelerator.engines") continue;
    json v = f.dump(c);
    // A network given by a relative path would resolve against a different base when reloaded.
    if (f.path == "workload.network" && looks_like_path(c.workload.network) &&
        !c.workload.network_path.empty())
      v = c.workload.network_path;
    for (const auto& [key, path] :
         {std::pair{"workload.calibration", &c.workload.calibration_path},
          std::pair{"workload.eval_images", &c.workload.eval_images_path},
          std::pair{"workload.eval_labels", &c.workload.eval_labels_path}})
      if (f.path == key && !path->empty()) v = *path;
    yaml_put(root, split(f.path, '.'), 0, json_to_yaml(v));
  }
  return root;
}

namespace {
std::string network_path(const WorkloadConfig& w) {
  if (!w.network_path.empty()) return w.network_path;
  TNode none;
  none.src = {"workload", 0};
  return find_named_file(none, "workload.network", w.network, ".", "workloads", "network");
}
}  // namespace

NetworkSpec load_network_spec(const WorkloadConfig& w) {
  const std::string path = network_path(w);
  NetGraph ng;
  NetworkFile nf = read_network(path, w.batch, &ng);
  NetworkSpec spec;
  for (LayerShape& l : nf.layers) {
    l.batch = w.batch;
    spec.layers.push_back(l);
  }
  spec.graph = ng.graph;
  if (!ng.graph) return spec;
  Graph& g = spec.skeleton;
  g.name = nf.name;
  std::map<std::string, int> tensor;
  TensorDesc in;
  in.name = "input";
  in.b = w.batch, in.c = ng.input[0], in.h = ng.input[1], in.w = ng.input[2];
  g.tensors.push_back(in);
  g.input = 0;
  tensor["input"] = 0;
  std::vector<char> read(ng.entries.size() + 1, 0);
  for (const NetEntry& e : ng.entries) {
    Op op;
    op.name = e.name;
    op.kind = e.kind;
    op.layer = e.layer;
    op.kh = e.kh, op.kw = e.kw, op.sh = e.sh, op.sw = e.sw, op.ph = e.ph, op.pw = e.pw;
    std::vector<const TensorDesc*> ins;
    for (const std::string& n : e.inputs) {
      op.inputs.push_back(tensor.at(n));
      read[size_t(tensor.at(n))] = 1;
      ins.push_back(&g.tensors[size_t(tensor.at(n))]);
    }
    QuantLayer q;
    if (e.layer >= 0) q.shape = spec.layers[size_t(e.layer)];
    TensorDesc o = infer_output(op, ins, e.layer >= 0 ? &q : nullptr);
    o.name = e.name;
    op.output = int(g.tensors.size());
    tensor[e.name] = op.output;
    g.tensors.push_back(o);
    g.ops.push_back(op);
  }
  for (size_t t = 1; t < g.tensors.size(); ++t)
    if (!read[t]) g.outputs.push_back(int(t));
  return spec;
}

std::vector<LayerShape> load_network(const WorkloadConfig& w) {
  const std::string path = network_path(w);
  NetworkFile nf = read_network(path, w.batch);
  std::vector<LayerShape> out;
  for (auto& l : nf.layers) {
    if (!w.layers.empty() && std::find(w.layers.begin(), w.layers.end(), l.name) == w.layers.end())
      continue;
    l.batch = w.batch;
    out.push_back(l);
  }
  if (out.empty())
    throw InputError(path, 0, "workload.layers",
                     "expected names of layers in the network (got none of them)");
  return out;
}

std::string config_reference_markdown() {
  std::string s;
  s += "### Run config keys\n\n";
  s += md_table(run_table(), true);
  s += "\n### Device file keys (configs/devices/NAME.yaml)\n\n";
  s += md_table(device_table(), false);
  s += "\n### DRAM preset keys (configs/memory/NAME.yaml)\n\n";
  s += md_table(dram_table(), false);
  return s;
}

}  // namespace msq
