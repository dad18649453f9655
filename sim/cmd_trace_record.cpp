// msqsim trace record: run a config with verification and write what it ran as a trace directory,
// the golden input of `msqsim regress` (docs/traces.md).
#include <fmt/format.h>

#include <iostream>

#include "models/error.h"
#include "sim/commands.h"
#include "sim/config_loader.h"
#include "sim/session.h"
#include "sim/trace.h"

namespace msq {

namespace {

// Only the hardware part goes into the manifest: a trace carries its own layers, so the workload
// keys would be dead weight that a reader might mistake for what the trace runs.
YAML::Node accelerator_part(const RunConfig& cfg) {
  const YAML::Node full = config_to_yaml(cfg);
  YAML::Node out(YAML::NodeType::Map);
  for (const char* key : {"device", "clock_mhz", "accelerator", "memory"})
    if (full[key]) out[key] = YAML::Clone(full[key]);
  return out;
}

}  // namespace

int cmd_trace_record(const TraceRecordOptions& o) {
  const RunConfig cfg = load_run_config(o.config, o.sets);
  check_trace_destination(o.out);  // before the simulation, which may take minutes
  SessionOptions so;
  so.verify = true;
  so.keep_expected = true;
  Session s;
  try {
    s = run_session(cfg, so, /*layers_only=*/true);  // a version-1 trace: independent layers
  } catch (const InputError& e) {
    throw within_file(o.config, e);  // name the config that asked for the design
  }

  // A golden trace from a cycle model that disagrees with the functional model would enshrine
  // the bug: refuse before anything is written.
  if (s.mismatches > 0 || s.overflow_mismatches > 0) {
    for (size_t l = 0; l < s.verify.size(); ++l) {
      const LayerVerify& v = s.verify[l];
      const std::string& name = s.wl.layers[l].shape.name;
      for (const Mismatch& m : v.first)
        std::cerr << "msqsim: trace record: " << describe(name, m) << "\n";
      if (v.mismatches > int64_t(v.first.size()))
        std::cerr << fmt::format("msqsim: trace record: layer {}: {} more mismatches\n", name,
                                 v.mismatches - int64_t(v.first.size()));
      if (v.expected_overflows != v.got_overflows)
        std::cerr << fmt::format(
            "msqsim: trace record: layer {}: {} accumulator overflows, the functional model "
            "counts {}\n",
            name, v.got_overflows, v.expected_overflows);
    }
    std::cerr << fmt::format(
        "msqsim: trace record: the cycle model and the functional model disagree ({} of {} "
        "outputs differ); nothing written to {}\n",
        s.mismatches, s.outputs_checked, o.out);
    return 1;
  }

  std::vector<TraceLayer> layers;
  for (size_t l = 0; l < s.wl.layers.size(); ++l) {
    TraceLayer t;
    t.name = s.wl.layers[l].shape.name;
    t.layer = s.wl.layers[l];
    t.input = s.wl.inputs[l];
    t.expected = s.expected[l];
    t.expected_cycles = s.sim.layers[l].cycles;
    layers.push_back(std::move(t));
  }
  write_trace(o.out, accelerator_part(s.cfg), layers);

  std::cout << fmt::format("trace record: wrote {} ({} layers, {} outputs)\n", o.out, layers.size(),
                           s.outputs_checked);
  for (size_t l = 0; l < layers.size(); ++l) {
    const LayerResult& r = s.sim.layers[l];
    std::cout << fmt::format("  {:<24} m {} k {} n {}  cycles {}  overflows {}\n", r.name, r.m, r.k,
                             r.n, r.cycles, r.overflows);
  }
  return 0;
}

}  // namespace msq
