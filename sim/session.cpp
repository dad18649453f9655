#include "sim/session.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <new>
#include <stdexcept>

#include "models/arith/acc_bound.h"
#include "models/arith/sp2.h"
#include "models/error.h"
#include "models/graph/graph_build.h"
#include "models/graph/graph_check.h"
#include "models/plan/mapper.h"
#include "models/reference/graph_reference.h"
#include "models/workload_builder.h"
#include "sim/config_loader.h"
#include "sim/onnx_network.h"

namespace msq {

namespace {
double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// A run with values holds every layer's input codes and output values at once. Where that is
// more than the machine's memory, the allocations are granted (overcommit) and the kernel kills
// the process halfway: a batch of 4096 on a 64x224x224 layer grew to 24 GB before it died.
// The estimate is a lower bound (one 2-byte input and one 8-byte output per layer), so a run
// that fits is never refused.
void check_value_memory(const WorkloadConfig& w, const NetworkSpec& spec) {
  double bytes = 0;
  for (const LayerShape& l : spec.layers)
    bytes += double(std::max(l.batch, 1)) *
             (double(l.in_c) * l.in_h * l.in_w * 2 + double(l.out_c) * l.out_h() * l.out_w() * 8);
  const double ram = double(::sysconf(_SC_PHYS_PAGES)) * double(::sysconf(_SC_PAGE_SIZE));
  if (ram > 0 && bytes > ram)
    throw InputError(w.network_path, 0, "workload.batch",
                     fmt::format("the run's values need at least {:.1f} GB (every layer's input "
                                 "and output at batch {}), more than this machine's {:.1f} GB "
                                 "of memory: lower workload.batch, or simulate timing only "
                                 "(run --no-verify)",
                                 bytes / 1e9, w.batch, ram / 1e9));
}

// The workload and its overflow risk: the part of a design every caller needs.
Design build_design_values(const RunConfig& cfg, bool values, bool layers_only) {
  Design d;
  d.cfg = cfg;
  d.values = values;
  const auto t0 = std::chrono::steady_clock::now();
  const WorkloadConfig& w = cfg.workload;
  if (is_onnx_network(w)) {
    d.imported = import_network(cfg);
    if (w.layers.empty() && !layers_only) {
      // The whole network runs as the graph a network file builds: chained in both models, its
      // Add and pools on the vector engine, every tensor verified.
      d.graph_run = true;
      d.graph = d.imported->qn.graph;
      d.wl = onnx_graph_workload(*d.imported, values);
      try {
        check_graph(d.graph, d.wl.layers);
      } catch (const InputError& e) {
        throw InputError(w.network_path, 0, e.key(), e.detail());
      }
      if (values) {
        const TensorDesc& in = d.graph.tensors[size_t(d.graph.input)];
        d.graph_input = quantize_input(in, d.imported->images.data(), in.b);
      }
    } else {
      // A subset of layers runs as independent layers, each fed its chained input codes.
      d.wl = onnx_workload(*d.imported, cfg, values);
    }
  } else {
    // The whole network: the builder selects workload.layers itself, seeding each layer by its
    // place in the network so that a layer's data does not depend on which others run.
    WorkloadConfig all = w;
    all.layers.clear();
    const NetworkSpec spec = load_network_spec(all);
    if (values) check_value_memory(w, spec);
    d.wl = build_workload(w.network, spec.layers, w, cfg.accelerator.accumulator, values);
    // A subset of a graph's layers runs as independent layers (docs/config.md, "Network files").
    if (spec.graph && w.layers.empty() && !layers_only) {
      d.graph_run = true;
      // The builder gives the last conv / fc of the file raw accumulators; in a graph that layer
      // may feed a pool or an add, which read activations, so only a network output keeps them.
      for (const Op& op : spec.skeleton.ops) {
        const auto& outs = spec.skeleton.outputs;
        if (op.layer >= 0 && std::find(outs.begin(), outs.end(), op.output) == outs.end())
          d.wl.layers[size_t(op.layer)].output = OutputKind::Activations;
      }
      d.graph = synthetic_graph(spec.skeleton, d.wl.layers, w.act_bits);
      try {
        check_graph(d.graph, d.wl.layers);
      } catch (const InputError& e) {
        throw InputError(w.network_path, 0, e.key(), e.detail());
      }
      if (values) {
        const TensorDesc& in = d.graph.tensors[size_t(d.graph.input)];
        d.graph_input = synthetic_input(w.seed, in.b, in.c, in.h, in.w, w.act_bits);
      }
    }
  }
  d.seconds_build = since(t0);
  const auto t1 = std::chrono::steady_clock::now();
  for (const QuantLayer& l : d.wl.layers) d.risk.push_back(overflow_risk(l));
  d.seconds_check = since(t1);
  return d;
}

// Every tensor is allocated whole: a network within the count limits (2^40 values per tensor) can
// still need more memory than the machine has, which is the input's size, not a simulator fault.
Design build_design(const RunConfig& cfg, bool values, bool layers_only) {
  try {
    return build_design_values(cfg, values, layers_only);
  } catch (const std::bad_alloc&) {
    throw InputError(cfg.workload.network_path.empty() ? cfg.file : cfg.workload.network_path, 0,
                     "workload.network",
                     "its tensors do not fit in this machine's memory (lower workload.batch or "
                     "the layer sizes)");
  }
}

// Every tensor of a graph run against the functional model's run of the same graph on the same
// input: per op its count of differing values and the first one's coordinates; per Conv / Fc
// layer the contract's LayerVerify as well (row = channel, column = pixel).
void verify_graph(Session& s, const ActTensor& input, bool keep_expected) {
  const Graph& g = s.graph;
  GraphValues ref = run_graph_functional(g, s.wl.layers, input);
  s.verify.assign(s.wl.layers.size(), LayerVerify{});
  s.op_verify.assign(g.ops.size(), OpVerify{});
  if (keep_expected) s.expected.assign(s.wl.layers.size(), OutTensor{});
  // The cycle model's values of tensor t (a Flatten's are its input's).
  std::vector<const OutTensor*> got(g.tensors.size(), nullptr);
  got[size_t(g.input)] = &s.sim.tensors[size_t(g.input)];
  for (const Op& op : g.ops)
    got[size_t(op.output)] = op.layer >= 0                ? &s.sim.layers[size_t(op.layer)].out
                             : op.kind == OpKind::Flatten ? got[size_t(op.inputs[0])]
                                                          : &s.sim.tensors[size_t(op.output)];
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const Op& op = g.ops[i];
    const TensorDesc& d = g.tensors[size_t(op.output)];
    const OutTensor& e = ref.tensors[size_t(op.output)];
    const OutTensor& y = *got[size_t(op.output)];
    OpVerify& v = s.op_verify[i];
    LayerVerify lv;
    v.checked = int64_t(e.data.size());
    const int64_t hw = int64_t(d.h) * d.w;
    for (size_t j = 0; j < e.data.size(); ++j) {
      if (j < y.data.size() && e.data[j] == y.data[j]) continue;
      const int64_t gv = j < y.data.size() ? y.data[j] : 0;
      if (v.mismatches++ == 0) {
        const int64_t jj = int64_t(j);
        v.w = int(jj % d.w), v.h = int(jj / d.w % d.h), v.c = int(jj / hw % d.c);
        v.b = int(jj / (hw * d.c));
        v.expected = e.data[j], v.got = gv;
      }
      if (op.layer >= 0 && lv.first.size() < 5) {
        const int64_t jj = int64_t(j);
        Mismatch m;
        m.b = int(jj / (hw * d.c));
        m.row = jj / hw % d.c;
        m.y = int(jj / d.w % d.h), m.x = int(jj % d.w);
        m.col = int64_t(m.b) * hw + int64_t(m.y) * d.w + m.x;
        m.expected = e.data[j], m.got = gv;
        lv.first.push_back(m);
      }
    }
    if (v.mismatches && s.first_bad_op < 0) s.first_bad_op = int(i);
    s.outputs_checked += v.checked;
    s.mismatches += v.mismatches;
    if (op.layer >= 0) {
      lv.checked = v.checked;
      lv.mismatches = v.mismatches;
      lv.expected_overflows = ref.overflows[i];
      lv.got_overflows = s.sim.layers[size_t(op.layer)].overflows;
      s.overflow_mismatches += lv.expected_overflows != lv.got_overflows;
      s.verify[size_t(op.layer)] = std::move(lv);
      if (keep_expected) s.expected[size_t(op.layer)] = ref.tensors[size_t(op.output)];
    }
  }
  if (keep_expected) s.expected_tensors = std::move(ref.tensors);
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

Design prepare_design(const RunConfig& cfg, bool values, const ResourceCosts& costs,
                      bool layers_only) {
  Design d = build_design(cfg, values, layers_only);
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
  if (d.cfg.accelerator.scheduler.mapping == MappingMode::Given) {
    std::vector<std::string> searched;
    for (size_t l = 0; l < d.plans.size(); ++l)
      if (!d.plans[l].map.given) searched.push_back(d.wl.layers[l].shape.name);
    if (!searched.empty())
      fmt::print(stderr, "msqsim: {} gives no mapping for {} of the {} layers ({}{}): searched\n",
                 d.cfg.accelerator.scheduler.mapping_file, searched.size(), d.plans.size(),
                 searched[0], searched.size() > 1 ? ", ..." : "");
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
  s.graph_run = d.graph_run;
  s.graph = std::move(d.graph);
  SimOptions so;
  if (s.graph_run) {
    so.graph = &s.graph;
    so.graph_input = &d.graph_input;
  }
  so.events = o.events;
  so.values = o.verify;
  so.fault = o.fault;
  // prepare_design planned every layer already (with the same config and layers).
  if (d.plans.size() == s.wl.layers.size()) so.plans = &d.plans;
  s.sim = simulate(s.cfg, s.wl, so);
  s.seconds_simulate = since(t0);

  // Engines with accumulators of their own: each row of the reference sums in the registers of
  // the engine that ran it.
  const std::vector<EngineSpec> specs = engine_specs(s.cfg.accelerator);
  for (size_t l = 0; l < s.wl.layers.size(); ++l) {
    QuantLayer& L = s.wl.layers[l];
    const std::vector<int8_t>& re = s.sim.layers[l].row_engine;
    bool differs = false;
    for (size_t m = 0; m < re.size() && !differs; ++m) {
      const EngineSpec& e = specs[size_t(re[m])];
      differs = e.own_accumulator &&
                (e.accumulator.bits != L.acc_bits || e.accumulator.overflow != L.overflow);
    }
    if (!differs) continue;
    L.row_acc_bits.resize(re.size());
    L.row_overflow.resize(re.size());
    for (size_t m = 0; m < re.size(); ++m) {
      const EngineSpec& e = specs[size_t(re[m])];
      L.row_acc_bits[m] = uint8_t(e.own_accumulator ? e.accumulator.bits : L.acc_bits);
      L.row_overflow[m] = uint8_t(e.own_accumulator ? e.accumulator.overflow : L.overflow);
    }
  }

  if (o.verify && s.graph_run) {
    t0 = std::chrono::steady_clock::now();
    s.verified = true;
    verify_graph(s, d.graph_input, o.keep_expected);
    if (o.keep_expected) s.graph_input = std::move(d.graph_input);
    s.seconds_verify = since(t0);
  } else if (o.verify) {
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

Session run_session(const RunConfig& cfg, const SessionOptions& o, bool layers_only) {
  return simulate_design(build_design(cfg, o.verify, layers_only), o);
}

std::string describe_first_bad(const Session& s) {
  if (s.first_bad_op < 0) return "";
  const Op& op = s.graph.ops[size_t(s.first_bad_op)];
  const OpVerify& v = s.op_verify[size_t(s.first_bad_op)];
  return fmt::format("op {} ({}) tensor {} at (b {}, c {}, h {}, w {}): expected {}, got {}",
                     op.name, op_kind_name(op.kind), s.graph.tensors[size_t(op.output)].name, v.b,
                     v.c, v.h, v.w, v.expected, v.got);
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
