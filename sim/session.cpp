#include "sim/session.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <stdexcept>

#include "models/arith/acc_bound.h"
#include "models/arith/sp2.h"
#include "models/error.h"
#include "models/plan/mapper.h"
#include "models/workload_builder.h"
#include "sim/config_loader.h"
#include "sim/onnx_network.h"

namespace msq {

namespace {
double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The workload and its overflow risk: the part of a design every caller needs.
Design build_design(const RunConfig& cfg, bool values) {
  Design d;
  d.cfg = cfg;
  d.values = values;
  const auto t0 = std::chrono::steady_clock::now();
  const WorkloadConfig& w = cfg.workload;
  if (is_onnx_network(w)) {
    d.imported = import_network(cfg);
    d.wl = onnx_workload(*d.imported, cfg, values);
  } else {
    if (!w.calibration.empty() || !w.sp2_fraction_per_layer.empty() || w.sp2_auto)
      throw InputError(cfg.file, 0,
                       !w.calibration.empty()                ? "workload.calibration"
                       : !w.sp2_fraction_per_layer.empty() ? "workload.sp2_fraction_per_layer"
                                                             : "workload.sp2_auto",
                       "applies to ONNX networks only (workload.network: MODEL.onnx); this "
                       "network has synthetic weights");
    d.wl = build_workload(w.network, session_shapes(cfg), w, cfg.accelerator.accumulator, values);
  }
  d.seconds_build = since(t0);
  const auto t1 = std::chrono::steady_clock::now();
  for (const QuantLayer& l : d.wl.layers) d.risk.push_back(overflow_risk(l));
  d.seconds_check = since(t1);
  return d;
}

// A small unsigned decimal (a row or a column), or -1.
int64_t parse_index(const std::string& s) {
  if (s.empty() || s.size() > 15 || s.find_first_not_of("0123456789") != std::string::npos)
    return -1;
  return std::stoll(s);
}
}  // namespace

OverflowRisk overflow_risk(const QuantLayer& L) {
  OverflowRisk r;
  const int64_t M = L.shape.m(), K = L.shape.k();
  r.from_weights = !L.weights.empty();
  for (int64_t m = 0; m < M; ++m) {
    int need = 0;
    if (r.from_weights) {
      need = acc_bits_l1(L.row(m), K, L.act_bits, L.bias.empty() ? 0 : L.bias[size_t(m)]);
    } else {
      // An SP2 row of b bits has levels up to 2^F: its weights need F + 2 signed bits, not b.
      const int b = L.bits[size_t(m)];
      const int w_bits = L.scheme[size_t(m)] == uint8_t(Scheme::Sp2) ? Sp2Format(b).F + 2 : b;
      need = acc_bits_datatype(K, L.act_bits, w_bits, false) + 1;
    }
    r.bits_needed = std::max(r.bits_needed, need);
    if (need > L.acc_bits) ++r.rows;
  }
  return r;
}

std::vector<LayerShape> session_shapes(const RunConfig& cfg) {
  // The whole network: the builder selects workload.layers itself, seeding each layer by its
  // place in the network so that a layer's data does not depend on which others run.
  WorkloadConfig all = cfg.workload;
  all.layers.clear();
  return load_network(all);
}

Design prepare_design(const RunConfig& cfg, bool values, const ResourceCosts& costs) {
  Design d = build_design(cfg, values);
  const auto t0 = std::chrono::steady_clock::now();
  if (cfg.accelerator.buffers.search) {
    // The split chosen replaces the config's, so that the plans, the simulation, the resources
    // and the resolved config in the report all use it.
    int64_t est = 0;
    d.cfg.accelerator.buffers = search_buffer_split(d.wl.layers, cfg, &est);
    const BufferConfig& b = d.cfg.accelerator.buffers;
    fmt::print(stderr,
               "msqsim: buffer split searched: weight_bram36 {}, input_bram36 {}, output_bram36 "
               "{} (estimated {} cycles)\n",
               b.weight_bram36, b.input_bram36, b.output_bram36, est);
  }
  for (size_t l = 0; l < d.wl.layers.size(); ++l) {
    const QuantLayer& q = d.wl.layers[l];
    // Named as simulate() names it, so that `validate` and `run` refuse a layer in the same words.
    d.plans.push_back(plan_layer(q, d.cfg, fmt::format("layer {} ({})", l, q.shape.name)));
  }
  d.seconds_check += since(t0);
  d.resources = estimate_resources(d.cfg, costs);
  return d;
}

Session simulate_design(Design&& d, const SessionOptions& o) {
  if (o.verify && !d.values)
    throw std::logic_error("simulate_design: verification asked of a design built without values");
  Session s;
  s.cfg = std::move(d.cfg);
  s.wl = std::move(d.wl);
  s.risk = std::move(d.risk);
  s.imported = std::move(d.imported);
  s.seconds_build = d.seconds_build;
  s.seconds_check = d.seconds_check;

  auto t0 = std::chrono::steady_clock::now();
  SimOptions so;
  so.events = o.events;
  so.values = o.verify;
  so.fault = o.fault;
  // prepare_design planned every layer already (with the same config and layers).
  if (d.plans.size() == s.wl.layers.size()) so.plans = &d.plans;
  s.sim = simulate(s.cfg, s.wl, so);
  s.seconds_simulate = since(t0);

  if (o.verify) {
    t0 = std::chrono::steady_clock::now();
    s.verified = true;
    for (size_t l = 0; l < s.wl.layers.size(); ++l) {
      OutTensor ref;
      LayerVerify v = verify_layer(s.wl.layers[l], s.wl.inputs[l], s.sim.layers[l].out,
                                   s.sim.layers[l].overflows, o.keep_expected ? &ref : nullptr);
      s.outputs_checked += v.checked;
      s.mismatches += v.mismatches;
      s.overflow_mismatches += v.expected_overflows != v.got_overflows;
      s.verify.push_back(std::move(v));
      if (o.keep_expected) s.expected.push_back(std::move(ref));
    }
    s.seconds_verify = since(t0);
  }
  return s;
}

Session run_session(const RunConfig& cfg, const SessionOptions& o) {
  return simulate_design(build_design(cfg, o.verify), o);
}

FaultInjection fault_from_env(const Design& d) {
  FaultInjection f;
  const char* env = std::getenv("MSQSIM_FAULT");
  if (!env) return f;
  const std::string spec = env;
  const std::string var = "MSQSIM_FAULT=" + spec;
  // The layer name is everything before the last two colons, so a name may hold colons itself.
  const size_t c2 = spec.rfind(':');
  const size_t c1 =
      c2 == std::string::npos || c2 == 0 ? std::string::npos : spec.rfind(':', c2 - 1);
  const auto& layers = d.wl.layers;
  if (c1 == std::string::npos || c1 == 0)
    throw InputError(fmt::format(
        "{}: expected LAYER:ROW:COLUMN (a layer name, an output channel and an output column, "
        "e.g. {}:0:0)",
        var, layers.empty() ? "conv1" : layers[0].shape.name));
  const std::string name = spec.substr(0, c1);
  const int64_t row = parse_index(spec.substr(c1 + 1, c2 - c1 - 1));
  const int64_t col = parse_index(spec.substr(c2 + 1));
  if (row < 0 || col < 0)
    throw InputError(var + ": ROW and COLUMN must be non-negative integers (LAYER:ROW:COLUMN)");
  const auto it = std::find_if(layers.begin(), layers.end(),
                               [&](const QuantLayer& q) { return q.shape.name == name; });
  if (it == layers.end()) {
    std::string names;
    for (size_t i = 0; i < layers.size() && i < 8; ++i)
      names += (i ? ", " : "") + layers[i].shape.name;
    if (layers.size() > 8) names += fmt::format(", ... ({} layers)", layers.size());
    throw InputError(
        fmt::format("{}: unknown layer '{}': the run's layers are {}", var, name, names));
  }
  const LayerShape& s = it->shape;
  if (row >= s.m())
    throw InputError(fmt::format("{}: row {} is out of range: layer {} has {} rows (0..{})", var,
                                 row, name, s.m(), s.m() - 1));
  if (col >= s.n())
    throw InputError(fmt::format("{}: column {} is out of range: layer {} has {} columns (0..{})",
                                 var, col, name, s.n(), s.n() - 1));
  if (!d.values)
    throw InputError(var +
                     ": this run computes no values (--no-verify or verify: false), so "
                     "there is no output to corrupt");
  f.layer = int(it - layers.begin());
  f.row = row;
  f.col = col;
  return f;
}

}  // namespace msq
