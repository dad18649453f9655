// msqsim trace record: run a config with verification and write what it ran as a trace directory,
// the golden input of `msqsim regress` (docs/traces.md).
#include <fmt/format.h>

#include <iostream>

#include "models/error.h"
#include "models/reference/graph_reference.h"
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
    // A graph network (all of it) gives a graph trace (format 2), else independent layers.
    s = run_session(cfg, so);
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
  TraceGraph tg;
  if (s.graph_run) {
    // Layers in graph order, each with the input its producer wrote (so that its directory is
    // a layer as format 1 has it), and every op with its expected output.
    const Graph& g = s.graph;
    tg.input = s.graph_input;
    tg.input_zero = g.tensors[size_t(g.input)].zero_point;
    tg.input_scale = g.tensors[size_t(g.input)].scale;
    for (size_t i = 0; i < g.ops.size(); ++i) {
      const Op& op = g.ops[i];
      TraceOp to;
      to.name = op.name;
      to.kind = op.kind;
      for (int t : op.inputs) to.inputs.push_back(g.tensors[size_t(t)].name);
      to.kh = op.kh, to.kw = op.kw, to.sh = op.sh, to.sw = op.sw, to.ph = op.ph, to.pw = op.pw;
      to.mult_a = op.mult_a, to.mult_b = op.mult_b, to.shift = op.shift;
      to.lo = op.lo, to.hi = op.hi;
      to.zero_point = g.tensors[size_t(op.output)].zero_point;
      to.scale = g.tensors[size_t(op.output)].scale;
      if (op.layer >= 0) {
        const QuantLayer& L = s.wl.layers[size_t(op.layer)];
        to.in_zero = L.in_zero, to.lo = L.lo, to.hi = L.hi;
        TraceLayer t;
        t.name = L.shape.name;
        t.layer = L;
        t.input = layer_input(s.expected_tensors[size_t(op.inputs[0])], L.shape);
        t.expected = s.expected[size_t(op.layer)];
        t.expected_cycles = s.sim.layers[size_t(op.layer)].cycles;
        layers.push_back(std::move(t));
      } else {
        to.expected = s.expected_tensors[size_t(op.output)];
        to.expected_cycles = s.sim.ops[i].cycles;
      }
      tg.ops.push_back(std::move(to));
    }
  } else {
    // A format-1 layer has no zero points and no clamp: a layer that needs them (an imported
    // network's) was written, and its own regress then failed on every clamped value.
    for (const QuantLayer& L : s.wl.layers)
      if (L.in_zero != 0 || L.out_zero != 0 || L.lo != 0 ||
          (L.output == OutputKind::Activations &&
           L.hi_code() != int32_t((int64_t(1) << L.act_bits) - 1)))
        throw InputError(
            o.config, 0, "workload.network",
            fmt::format(
                "layer '{}' has input zero point {}, output zero point {} and "
                "clamp [{}, {}]; a trace of independent layers (format 1) "
                "holds none of them and would not replay (record the whole network, without "
                "workload.layers: a graph trace holds them)",
                clip_text(L.shape.name), L.in_zero, L.out_zero, L.lo, L.hi_code()));
    for (size_t l = 0; l < s.wl.layers.size(); ++l) {
      TraceLayer t;
      t.name = s.wl.layers[l].shape.name;
      t.layer = s.wl.layers[l];
      t.input = s.wl.inputs[l];
      t.expected = s.expected[l];
      t.expected_cycles = s.sim.layers[l].cycles;
      layers.push_back(std::move(t));
    }
  }
  write_trace(o.out, accelerator_part(s.cfg), layers, s.graph_run ? &tg : nullptr);

  std::cout << fmt::format(
      "trace record: wrote {} ({}{} layers, {} outputs)\n", o.out,
      s.graph_run ? fmt::format("a graph of {} ops, ", s.graph.ops.size()) : "", layers.size(),
      s.outputs_checked);
  for (size_t l = 0; l < layers.size(); ++l) {
    const LayerResult& r = s.sim.layers[l];
    std::cout << fmt::format("  {:<24} m {} k {} n {}  cycles {}  overflows {}\n", r.name, r.m, r.k,
                             r.n, r.cycles, r.overflows);
  }
  return 0;
}

}  // namespace msq
