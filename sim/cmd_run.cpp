// msqsim run: check a design as `validate` does, simulate it, print the table, write the reports,
// exit 1 on any mismatch (and, with --fail-on-overflow, on accumulator overflows).
#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <utility>
#include <vector>

#include "models/error.h"
#include "models/resource_model.h"
#include "models/stats/vcd_writer.h"
#include "sim/atomic_file.h"
#include "sim/commands.h"
#include "sim/config_loader.h"
#include "sim/energy_report.h"
#include "sim/onnx_network.h"
#include "sim/report.h"
#include "sim/session.h"

namespace msq {

void check_design(const DesignOptions& o, Design& d, FaultInjection& fault) {
  RunConfig cfg = load_run_config(o.config, o.sets);
  if (const std::string w = config_warnings(cfg); !w.empty()) std::cerr << "msqsim: " << w << "\n";
  cfg.verify = cfg.verify && o.verify;
  try {
    d = prepare_design(cfg, cfg.verify, shipped_resource_costs());
  } catch (const InputError& e) {
    // A design that cannot run a layer: say which config asked for it.
    throw within_file(o.config, e);
  }
  fault = fault_from_env(d);
}

int check_fit(const DesignOptions& o, const Design& d) {
  // A design that cannot be built on the device has timing that means nothing.
  if (d.resources.fits()) return 0;
  if (!o.allow_overfull) {
    std::cerr << "msqsim: " << o.config
              << ": the design does not fit the device: " << d.resources.overfull_message()
              << " (--allow-overfull goes on anyway)\n";
    return 1;
  }
  std::cerr << "msqsim: warning: " << o.config
            << ": the design does not fit the device, allowed by --allow-overfull: "
            << d.resources.overfull_message() << "\n";
  return 0;
}

namespace {

// Two outputs on one path left only the last one written, and an output on an input replaced it
// (`run c.yaml --json c.yaml` overwrote the config with its report).
void check_output_paths(const RunOptions& o,
                        const std::vector<std::pair<std::string, std::string>>& inputs) {
  const auto same = [](const std::string& a, const std::string& b) {
    std::error_code ea, eb;
    const std::filesystem::path pa = std::filesystem::weakly_canonical(a, ea);
    const std::filesystem::path pb = std::filesystem::weakly_canonical(b, eb);
    return !ea && !eb && pa == pb;
  };
  const std::vector<std::pair<std::string, std::string>> outs{
      {"--json", o.json}, {"--csv", o.csv}, {"--timeline", o.timeline}, {"--vcd", o.vcd}};
  for (size_t i = 0; i < outs.size(); ++i) {
    if (outs[i].second.empty()) continue;
    for (size_t j = i + 1; j < outs.size(); ++j)
      if (!outs[j].second.empty() && same(outs[i].second, outs[j].second))
        throw InputError(outs[i].second, 0, outs[j].first,
                         "is also " + outs[i].first + "'s file: give each output its own file");
    for (const auto& [what, in] : inputs) check_not_input(outs[i].second, outs[i].first, in, what);
  }
}

}  // namespace

int cmd_run(const RunOptions& o) {
  check_output_paths(
      o, {{"config", o.config}, {"--eval images", o.eval}, {"--eval-labels file", o.eval_labels}});
  // The reports are written after the simulation: a path that cannot take them must stop the run
  // before it, not throw its result away.
  for (const std::string* out : {&o.json, &o.csv, &o.timeline, &o.vcd})
    if (!out->empty()) check_writable(*out);
  Design d;
  SessionOptions so;
  check_design(o, d, so.fault);
  check_output_paths(
      o, {{"network file (workload.network)", d.cfg.workload.network_path},
          {"calibration file (workload.calibration)", d.cfg.workload.calibration_path}});
  // --eval wins over the config's workload.eval_images (and its labels go with it).
  const bool from_config = o.eval.empty() && !d.cfg.workload.eval_images_path.empty();
  const std::string eval = from_config ? d.cfg.workload.eval_images_path : o.eval;
  const std::string eval_labels = from_config ? d.cfg.workload.eval_labels_path : o.eval_labels;
  const std::string eval_key = from_config ? "workload.eval_images" : "--eval";
  const std::string labels_key = from_config ? "workload.eval_labels" : "--eval-labels";
  if (from_config)
    check_output_paths(o, {{"eval images (workload.eval_images)", eval},
                           {"eval labels (workload.eval_labels)", eval_labels}});
  if (!o.eval.empty() && !d.imported)
    throw InputError(o.eval, 0, "--eval",
                     "compares an imported network with its float original: it needs an ONNX "
                     "network (workload.network: MODEL.onnx)");
  if (d.imported && d.imported->calibration.empty())
    std::cerr << "msqsim: warning: " << o.config
              << ": no workload.calibration: the activation ranges are synthetic (calibrated on "
              << d.imported->calibration_images << " seeded random images)\n";
  if (const int rc = check_fit(o, d)) return rc;
  so.verify = d.values;
  std::unique_ptr<EventSink> events;
  if (!o.timeline.empty() || !o.vcd.empty())
    events = std::make_unique<EventSink>(o.timeline_layers);
  so.events = events.get();
  const nlohmann::json resources = resources_to_json(d.resources);
  // The --eval images and labels are read before simulating: a wrong shape or label count was
  // found only after the whole run.
  int n = 0;
  std::vector<float> images;
  std::vector<int64_t> labels;
  if (d.imported && !eval.empty()) {
    images = read_images(eval, eval_key, d.imported->fg, &n);
    if (!eval_labels.empty()) labels = read_labels(eval_labels, labels_key, *d.imported, n);
  }
  Session s;
  try {
    s = simulate_design(std::move(d), so);
  } catch (const InputError& e) {
    throw within_file(o.config, e);
  }

  // An ONNX network: calibration, per-layer quantization error and, with --eval, float agreement.
  std::vector<Accuracy> accuracy;
  if (s.imported && !eval.empty()) {
    const std::vector<int64_t>* lp = eval_labels.empty() ? nullptr : &labels;
    try {
      accuracy.push_back(evaluate(*s.imported, images, n, lp));
      for (double r : {0.0, 1.0}) accuracy.push_back(evaluate_mix(*s.imported, r, images, n, lp));
    } catch (const InputError& e) {
      if (!e.file().empty()) throw;
      throw InputError(eval, 0, eval_key, e.detail());
    }
  }
  print_report(std::cout, s, resources);
  if (s.imported) {
    print_imported(std::cout, *s.imported);
    print_accuracy(std::cout, accuracy);
  }
  // The JSON report is only built when asked for: it is an eighth of a timing-only run.
  if (!o.json.empty()) {
    nlohmann::json report = report_json(s, resources);
    if (s.imported) {
      report.update(imported_json(*s.imported));
      if (!accuracy.empty()) report["accuracy"] = accuracy_json(accuracy);
    }
    write_file_atomic(o.json, report.dump(2) + "\n");
  }
  if (!o.csv.empty()) write_file_atomic(o.csv, report_csv(s));
  if (events && !o.timeline.empty()) {
    const std::string text = events->to_json("msqsim run " + o.config);
    write_file_atomic(o.timeline, text);
    std::cout << fmt::format("timeline: {} ({} spans on {} tracks, {:.1f} MB)\n", o.timeline,
                             events->spans().size(), events->tracks().size(),
                             double(text.size()) / 1e6);
  }
  if (events && !o.vcd.empty()) {
    VcdInfo info;
    const std::string text = to_vcd(*events, "msqsim run " + o.config, &info);
    write_file_atomic(o.vcd, text);
    std::cout << fmt::format("vcd: {} ({} signals, {} value changes, {:.1f} MB)\n", o.vcd,
                             info.signals, info.changes, double(text.size()) / 1e6);
  }

  // Overflows pass verification (the functional model wraps or saturates the same way), so they
  // are said here, whatever the verification found.
  const std::vector<uint64_t> ovf = layer_overflows(s);
  const std::string warning = overflow_warning(s.wl, s.risk, s.verified ? &ovf : nullptr);
  if (!warning.empty()) std::cerr << "msqsim: " << warning << "\n";

  if (s.graph_run && s.first_bad_op >= 0) {
    // Values flow through the graph, so one wrong value shows in every later tensor: the first
    // op that differs is where to look.
    std::cerr << "msqsim: verify: first difference: " << describe_first_bad(s) << "\n";
    for (size_t i = 0; i < s.op_verify.size(); ++i)
      if (s.op_verify[i].mismatches)
        std::cerr << fmt::format("msqsim: verify: op {}: {} of {} values differ\n",
                                 s.graph.ops[i].name, s.op_verify[i].mismatches,
                                 s.op_verify[i].checked);
    std::cerr << fmt::format("msqsim: verification failed: {} of {} outputs differ\n", s.mismatches,
                             s.outputs_checked);
    return 1;
  }
  if (s.mismatches > 0 || s.overflow_mismatches > 0) {
    for (size_t l = 0; l < s.verify.size(); ++l) {
      const LayerVerify& v = s.verify[l];
      for (const Mismatch& m : v.first)
        std::cerr << "msqsim: verify: " << describe(s.wl.layers[l].shape.name, m) << "\n";
      if (v.mismatches > int64_t(v.first.size()))
        std::cerr << fmt::format("msqsim: verify: layer {}: {} more mismatches\n",
                                 s.wl.layers[l].shape.name, v.mismatches - int64_t(v.first.size()));
      if (v.expected_overflows != v.got_overflows)
        std::cerr << fmt::format(
            "msqsim: verify: layer {}: {} accumulator overflows, the functional model counts {}\n",
            s.wl.layers[l].shape.name, v.got_overflows, v.expected_overflows);
    }
    std::cerr << fmt::format("msqsim: verification failed: {} of {} outputs differ\n", s.mismatches,
                             s.outputs_checked);
    return 1;
  }
  if (o.fail_on_overflow && !warning.empty()) {
    uint64_t counted = 0;
    int64_t at_risk = 0;
    for (uint64_t v : ovf) counted += v;
    for (const OverflowRisk& r : s.risk) at_risk += r.rows;
    // With values, only overflows that happened fail the run; without, the estimate has to do.
    if (s.verified && counted > 0) {
      std::cerr << fmt::format("msqsim: {}: {} accumulator overflows (--fail-on-overflow)\n",
                               o.config, counted);
      return 1;
    }
    if (!s.verified && at_risk > 0) {
      std::cerr << fmt::format(
          "msqsim: {}: {} rows could overflow the {}-bit accumulator; no values were computed "
          "to count them (--fail-on-overflow)\n",
          o.config, at_risk, s.cfg.accelerator.accumulator.bits);
      return 1;
    }
  }
  return 0;
}

}  // namespace msq
