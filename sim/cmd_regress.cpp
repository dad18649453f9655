// msqsim regress: replay trace directories through the cycle model and compare every output
// bit-exactly, and each layer's cycles exactly when the trace recorded them (docs/traces.md).
#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "models/accelerator.h"
#include "models/error.h"
#include "sim/commands.h"
#include "sim/config_loader.h"
#include "sim/trace.h"
#include "sim/verify.h"
#include "sim/worker.h"

namespace msq {

namespace {

using nlohmann::json;

// A graph trace: the ops run chained from the trace's input, every op's output tensor compared
// with its expected codes, and the cycles of each op that recorded them.
json replay_graph(const Trace& t, const RunConfig& cfg, json r) {
  std::vector<QuantLayer> layers;
  const Graph g = trace_to_graph(t, layers);
  Workload wl;
  wl.name = t.dir;
  wl.layers = layers;
  SimOptions so;
  so.values = true;
  so.graph = &g;
  so.graph_input = &t.graph.input;
  const SimResult sim = simulate(cfg, wl, so);
  std::vector<const OutTensor*> got(g.tensors.size(), nullptr);
  got[size_t(g.input)] = &sim.tensors[size_t(g.input)];
  r["layers"] = json::array();
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const Op& op = g.ops[i];
    const TraceOp& top = t.graph.ops[i];
    got[size_t(op.output)] = op.layer >= 0                ? &sim.layers[size_t(op.layer)].out
                             : op.kind == OpKind::Flatten ? got[size_t(op.inputs[0])]
                                                          : &sim.tensors[size_t(op.output)];
    json d;
    d["name"] = op.name;
    d["cycles"] = sim.ops[i].cycles;
    d["diffs"] = json::array();
    if (op.layer >= 0) {
      const QuantLayer& L = layers[size_t(op.layer)];
      const TraceLayer* tl = nullptr;
      for (const TraceLayer& x : t.layers)
        if (x.name == op.name) tl = &x;
      const LayerVerify v = compare_outputs(L, tl->expected, *got[size_t(op.output)]);
      d["expected_cycles"] = tl->expected_cycles;
      d["checked"] = v.checked;
      d["mismatches"] = v.mismatches;
      d["overflows"] = sim.layers[size_t(op.layer)].overflows;
      for (const Mismatch& m : v.first) d["diffs"].push_back(describe(op.name, m));
    } else {
      const OutTensor& e = top.expected;
      const OutTensor& y = *got[size_t(op.output)];
      int64_t mism = 0;
      const TensorDesc& td = g.tensors[size_t(op.output)];
      for (size_t j = 0; j < e.data.size(); ++j)
        if (j >= y.data.size() || e.data[j] != y.data[j]) {
          if (mism++ < 5) {
            const int64_t hw = int64_t(td.h) * td.w, jj = int64_t(j);
            d["diffs"].push_back(
                fmt::format("op {} at (b {}, c {}, h {}, w {}): expected {}, got {}", op.name,
                            jj / (hw * td.c), jj / hw % td.c, jj / td.w % td.h, jj % td.w,
                            e.data[j], j < y.data.size() ? y.data[j] : 0));
          }
        }
      d["expected_cycles"] = top.expected_cycles;
      d["checked"] = int64_t(e.data.size());
      d["mismatches"] = mism;
      d["overflows"] = 0;
    }
    r["layers"].push_back(d);
  }
  return r;
}

// Runs one trace; in a forked worker, since each simulation needs a fresh SystemC kernel.
json replay(const std::string& dir, const std::string& fallback_config) {
  const Trace t = read_trace(dir);
  RunConfig cfg;
  json r;
  if (t.config && !t.config.IsNull()) {  // trace.h: a null node when the manifest has none
    const std::string manifest = (std::filesystem::path(dir) / "trace.yaml").string();
    // The config's nodes keep their marks, so its messages name the line in trace.yaml; its keys
    // are under `config` there. Errors in files it names (a device, a network) stay as they are.
    try {
      cfg = load_run_config_node(t.config, manifest, dir, {});
    } catch (const InputError& e) {
      if (e.file() != manifest) throw;
      throw InputError(e.file(), e.line(), e.key().empty() ? "config" : "config." + e.key(),
                       e.detail());
    }
    r["config"] = "the manifest's";
  } else {
    const std::string path =
        fallback_config.empty() ? configs_dir() + "/examples/default.yaml" : fallback_config;
    cfg = load_run_config(path, {});
    r["config"] = path;
  }
  if (t.format == 2) return replay_graph(t, cfg, r);
  Workload wl;
  wl.name = dir;
  for (const TraceLayer& l : t.layers) {
    wl.layers.push_back(l.layer);
    wl.inputs.push_back(l.input);
  }
  SimOptions so;
  so.values = true;
  const SimResult sim = simulate(cfg, wl, so);

  r["layers"] = json::array();
  for (size_t i = 0; i < t.layers.size(); ++i) {
    const TraceLayer& tl = t.layers[i];
    const LayerResult& lr = sim.layers[i];
    const LayerVerify v = compare_outputs(tl.layer, tl.expected, lr.out);
    json d;
    d["name"] = tl.name;
    d["expected_cycles"] = tl.expected_cycles;
    d["cycles"] = lr.cycles;
    d["checked"] = v.checked;
    d["mismatches"] = v.mismatches;
    d["overflows"] = lr.overflows;
    d["diffs"] = json::array();
    for (const Mismatch& m : v.first) d["diffs"].push_back(describe(tl.name, m));
    if (lr.out.data.size() != tl.expected.data.size())
      d["diffs"].push_back(fmt::format("layer {}: {} outputs where the trace has {}", tl.name,
                                       lr.out.data.size(), tl.expected.data.size()));
    r["layers"].push_back(d);
  }
  return r;
}

struct Tally {
  int traces = 0, layers = 0, passed = 0, failed = 0, bad = 0, updated = 0;
};

// Prints one trace's outcome; returns whether it passes (after an update, when asked).
bool report(const std::string& dir, const json& r, bool update, Tally& tally) {
  std::cout << fmt::format("regress {} (config: {})\n", dir, r["config"].get<std::string>());
  bool outputs_ok = true, cycles_ok = true;
  std::vector<int64_t> got;
  std::vector<std::string> details;
  for (const json& d : r["layers"]) {
    const std::string name = d["name"];
    const int64_t exp = d["expected_cycles"], cyc = d["cycles"], mism = d["mismatches"];
    const bool out_ok = mism == 0 && d["diffs"].empty();
    const bool cyc_ok = exp < 0 || exp == cyc;
    outputs_ok = outputs_ok && out_ok;
    cycles_ok = cycles_ok && cyc_ok;
    got.push_back(cyc);
    const std::string cycles_text = exp < 0 ? fmt::format("cycles {} (none recorded)", cyc)
                                            : fmt::format("cycles {} expected {}", cyc, exp);
    std::cout << fmt::format("  {} {:<20} {:<34} outputs {} checked, {} mismatches  overflows {}\n",
                             out_ok && cyc_ok ? "pass" : "FAIL", name, cycles_text,
                             d["checked"].get<int64_t>(), mism, d["overflows"].get<uint64_t>());
    for (const json& m : d["diffs"]) details.push_back(m.get<std::string>());
    if (mism > int64_t(d["diffs"].size()))
      details.push_back(
          fmt::format("layer {}: {} more mismatches", name, mism - int64_t(d["diffs"].size())));
    if (!cyc_ok)
      details.push_back(fmt::format("layer {}: cycles: expected {}, got {}", name, exp, cyc));
  }
  for (const std::string& s : details) std::cout << "    " << s << "\n";

  bool ok = outputs_ok && cycles_ok;
  bool missing = false;
  for (const json& d : r["layers"]) missing = missing || d["expected_cycles"].get<int64_t>() < 0;
  if (update && (!cycles_ok || missing)) {
    if (!outputs_ok) {
      // A timing baseline taken from a model whose values are wrong is not one to keep.
      std::cout << fmt::format("  not updated: {} has output differences\n", dir);
    } else {
      set_expected_cycles(dir, got);
      ++tally.updated;
      for (const json& d : r["layers"]) {
        const int64_t exp = d["expected_cycles"], cyc = d["cycles"];
        if (exp != cyc)
          std::cout << fmt::format("  updated {}: {} -> {}\n", d["name"].get<std::string>(),
                                   exp < 0 ? std::string("none") : std::to_string(exp), cyc);
      }
      ok = true;
    }
  }
  for (const json& d : r["layers"]) {
    ++tally.layers;
    const int64_t exp = d["expected_cycles"], cyc = d["cycles"];
    const bool layer_ok = d["mismatches"].get<int64_t>() == 0 && d["diffs"].empty() &&
                          (exp < 0 || exp == cyc || (ok && update));
    ++(layer_ok ? tally.passed : tally.failed);
  }
  return ok;
}

}  // namespace

int cmd_regress(const RegressOptions& o) {
  // A --config given is loaded once up front, used or not: a missing or broken one was ignored
  // without a word when every trace carried its own config.
  if (!o.config.empty()) (void)load_run_config(o.config, {});
  Tally tally;
  for (const std::string& dir : o.dirs) {
    ++tally.traces;
    json r;
    try {
      r = json::parse(run_in_child([&] { return replay(dir, o.config).dump(); }));
    } catch (const WorkerError& e) {
      // Every trace is tried, so one bad directory does not hide the results of the others.
      if (e.exit_code() == 2) {
        ++tally.bad;
        std::cerr << "msqsim: regress: " << e.what() << "\n";
        continue;
      }
      throw std::runtime_error(fmt::format("regress {}: {}", dir, e.what()));
    }
    report(dir, r, o.update, tally);
  }
  std::cout << fmt::format("regress: {} trace{}, {} layers: {} passed, {} failed{}{}\n",
                           tally.traces, tally.traces == 1 ? "" : "s", tally.layers, tally.passed,
                           tally.failed, tally.bad ? fmt::format(", {} unreadable", tally.bad) : "",
                           tally.updated ? fmt::format(", {} updated", tally.updated) : "");
  if (tally.bad) return 2;
  return tally.failed ? 1 : 0;
}

}  // namespace msq
