#include "sim/sweep.h"

#include <fmt/format.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "models/error.h"
#include "models/resource_model.h"
#include "models/yaml_text.h"
#include "sim/atomic_file.h"
#include "sim/config_loader.h"
#include "sim/csv.h"
#include "sim/onnx_network.h"
#include "sim/report.h"
#include "sim/session.h"
#include "sim/worker.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace msq {

namespace {

// A value as --set takes it: YAML in flow style, so that lists and maps stay on one line.
std::string flow_text(const YAML::Node& n) {
  if (n.IsScalar()) return n.Scalar();
  YAML::Emitter e;
  e.SetMapFormat(YAML::Flow);
  e.SetSeqFormat(YAML::Flow);
  e << n;
  return e.c_str();
}

// The value a list entry sets, for finding repeats: the number for a number (0.5 and 0.50 set
// the same), else the text.
std::string value_key(const std::string& v) {
  char* end = nullptr;
  const double x = std::strtod(v.c_str(), &end);
  if (!v.empty() && *end == '\0' && std::isfinite(x)) return fmt::format("#{}", x == 0 ? 0.0 : x);
  return "=" + v;
}

std::string resolve_value(const std::string& key, const std::string& value, const fs::path& dir) {
  if (is_relative_file_value(key, value)) return (dir / value).lexically_normal().string();
  return value;
}

int decimals(const std::string& s) {
  if (s.find_first_of("eE") != std::string::npos) return -1;
  const size_t dot = s.find('.');
  return dot == std::string::npos ? 0 : int(s.size() - dot - 1);
}

double number(const std::string& s, const char* what) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != s.size() || !std::isfinite(v))
    throw InputError(fmt::format("bad range: {} must be a number (got {})", what, clip_text(s)));
  return v;
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  std::replace(s.begin(), s.end(), '\r', ' ');
  return s;
}

// The value columns after id, status and the axes; their order is part of the CSV format.
const std::vector<std::string>& value_columns() {
  // clang-format off
  static const std::vector<std::string> c = {
      "device_name",
      "lut", "lut_avail", "lut_percent", "ff", "ff_avail", "ff_percent",
      "dsp", "dsp_avail", "dsp_percent", "bram36", "bram36_avail", "bram36_percent",
      "binding", "fits",
      "cycles", "latency_ms", "gops", "frames_per_s",
      "lut_core_utilization", "dsp_core_utilization", "dram_bytes", "macs",
      "energy_j_per_frame", "avg_power_w", "gops_per_w",
      "cosine", "top1_agreement", "top1_accuracy",
      "message"};
  // clang-format on
  return c;
}

std::string percent(int64_t used, int64_t avail) {
  return avail > 0 ? fmt::format("{:.1f}", 100.0 * double(used) / double(avail)) : "";
}

std::string constraint_violation(const ResourceEstimate& e, const SweepConstraints& c) {
  if (c.fits && !e.fits()) return "does not fit: " + e.overfull_message();
  const auto over = [](int64_t used, int64_t avail, double limit) {
    return limit >= 0 && avail > 0 && 100.0 * double(used) / double(avail) > limit;
  };
  if (over(e.lut, e.lut_avail, c.max_lut_percent))
    return fmt::format("LUT use {}% exceeds max_lut_percent {}", percent(e.lut, e.lut_avail),
                       c.max_lut_percent);
  if (over(e.dsp, e.dsp_avail, c.max_dsp_percent))
    return fmt::format("DSP use {}% exceeds max_dsp_percent {}", percent(e.dsp, e.dsp_avail),
                       c.max_dsp_percent);
  return "";
}

// Cells for one point; `est` and `total` may be absent (a config that did not load, a run that
// failed).
std::vector<std::string> row_cells(const DesignPoint& p, const std::string& status,
                                   const std::string& device, const ResourceEstimate* est,
                                   const json* total, const std::string& message) {
  std::vector<std::string> c;
  c.push_back(std::to_string(p.id));
  c.push_back(status);
  c.insert(c.end(), p.values.begin(), p.values.end());
  c.push_back(device);
  if (est) {
    const auto res = [&](int64_t used, int64_t avail) {
      c.push_back(std::to_string(used));
      c.push_back(std::to_string(avail));
      c.push_back(percent(used, avail));
    };
    res(est->lut, est->lut_avail);
    res(est->ff, est->ff_avail);
    res(est->dsp, est->dsp_avail);
    res(est->bram36, est->bram36_avail);
    c.push_back(est->binding());
    c.push_back(est->fits() ? "true" : "false");
  } else {
    c.insert(c.end(), 14, "");
  }
  if (total) {
    const json& t = *total;
    c.push_back(std::to_string(t.at("cycles").get<int64_t>()));
    c.push_back(fmt::format("{:.6f}", t.at("latency_ms").get<double>()));
    c.push_back(fmt::format("{:.3f}", t.at("gops").get<double>()));
    c.push_back(fmt::format("{:.3f}", t.at("frames_per_s").get<double>()));
    c.push_back(fmt::format("{:.4f}", t.at("lut_core_utilization").get<double>()));
    c.push_back(fmt::format("{:.4f}", t.at("dsp_core_utilization").get<double>()));
    c.push_back(std::to_string(t.at("dram_bytes").get<int64_t>()));
    c.push_back(std::to_string(t.at("macs").get<int64_t>()));
    // Points of a results file written before the energy model have no energy.
    if (const auto e = t.find("energy"); e != t.end()) {
      c.push_back(fmt::format("{:.6g}", e->at("j_per_frame").get<double>()));
      c.push_back(fmt::format("{:.4f}", e->at("avg_power_w").get<double>()));
      c.push_back(fmt::format("{:.3f}", e->at("gops_per_w").get<double>()));
    } else {
      c.insert(c.end(), 3, "");
    }
    // Only ONNX points of a sweep with `eval:` have an accuracy (labels for top1_accuracy).
    const auto a = t.find("accuracy");
    const auto num = [&](const char* k, const char* f) {
      const auto v = a == t.end() ? t.end() : a->find(k);
      c.push_back(a == t.end() || v == a->end() || v->is_null()
                      ? ""
                      : fmt::format(fmt::runtime(f), v->get<double>()));
    };
    num("cosine_mean", "{:.5f}");
    num("top1_agreement", "{:.4f}");
    num("top1_int", "{:.4f}");
  } else {
    c.insert(c.end(), 14, "");
  }
  c.push_back(one_line(message));
  return c;
}

bool is_id(const std::string& s) {
  return !s.empty() && s.size() < 19 && s.find_first_not_of("0123456789") == std::string::npos;
}

double cell_num(const std::vector<std::string>& row, int col) {
  if (col < 0 || row[size_t(col)].empty()) return 0;
  try {
    return std::stod(row[size_t(col)]);
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The sweep file

std::vector<std::string> range_values(const std::string& from_s, const std::string& to_s,
                                      const std::string& step_s) {
  const double from = number(from_s, "from"), to = number(to_s, "to"),
               step = number(step_s, "step");
  if (!(step > 0)) throw InputError(fmt::format("bad range: step must be > 0 (got {})", step_s));
  if (to < from)
    throw InputError(fmt::format("bad range: to ({}) is below from ({})", to_s, from_s));
  // The tolerance absorbs (to - from) / step landing just under an integer, e.g. 0.3 / 0.1.
  const double span = std::floor((to - from) / step + 1e-9);
  if (span >= 100000)
    throw InputError(fmt::format("bad range: {} values, at most 100000", span + 1));
  int d = std::max(decimals(from_s), decimals(step_s));
  if (decimals(from_s) < 0 || decimals(step_s) < 0) d = 12;
  std::vector<std::string> v;
  for (int64_t i = 0; i <= int64_t(span); ++i) {
    const double x = from + double(i) * step;
    std::string s = fmt::format("{:.{}f}", x, d);
    if (decimals(from_s) < 0 || decimals(step_s) < 0) {
      // Exponent notation names no precision: keep 12 decimals, drop the noise zeros.
      if (s.find('.') != std::string::npos) {
        s.erase(s.find_last_not_of('0') + 1);
        if (s.back() == '.') s.pop_back();
      }
    }
    if (s.find_first_not_of("-0.") == std::string::npos) s = fmt::format("{:.{}f}", 0.0, d);
    v.push_back(s);
  }
  return v;
}

SweepSpec load_sweep(const std::string& path) {
  SweepSpec s;
  s.file = path;
  const YAML::Node root = load_yaml_file(path);
  const auto fail = [&](const YAML::Node& at, const std::string& key, const std::string& what) {
    return InputError(path, yaml_line(at), key, what);
  };
  // The sweep file's schema: its keys, and those of its sub-mappings. Checked by the checks every
  // loader shares (models/yaml_text.h), so a sweep's errors read as a config's do.
  static const std::vector<std::string> kTop{"name",        "base",   "axes", "set",
                                             "constraints", "verify", "eval"};
  static const std::vector<std::string> kEval{"images", "labels"};
  static const std::vector<std::string> kConstraints{"fits", "max_lut_percent", "max_dsp_percent"};
  static const std::vector<std::string> kRange{"from", "to", "step"};
  if (!root.IsMap())
    yaml_expected(root, path, yaml_line(root), "",
                  "a mapping of name, base, axes, set, constraints, verify");
  const fs::path dir = fs::absolute(path).parent_path();
  s.name = fs::path(path).stem().string();

  // Each key of a mapping: a plain name, given once, and (with `known`) one of those.
  const auto keys_of = [&](const YAML::Node& map, const std::string& where,
                           const std::vector<std::string>* known) {
    struct Entry {
      std::string key;
      YAML::Node key_node, value;
    };
    std::vector<Entry> out;
    std::set<std::string> seen;
    for (auto e = map.begin(); e != map.end(); ++e) {
      const std::string k = yaml_key(e->first, path, where);
      const std::string full = where.empty() ? k : where + "." + k;
      if (known && std::find(known->begin(), known->end(), k) == known->end())
        throw fail(e->first, full, unknown_key_what(k, *known));
      if (!seen.insert(k).second) throw fail(e->first, full, "duplicate key");
      out.push_back({k, e->first, e->second});
    }
    return out;
  };
  const auto need_map = [&](const YAML::Node& v, const std::string& key, const std::string& want) {
    if (!v.IsMap()) yaml_expected(v, path, yaml_line(v), key, want);
  };

  YAML::Node base_node;
  bool has_base = false;
  std::vector<std::pair<std::string, int>> set_lines;  // key, line
  for (const auto& top : keys_of(root, "", &kTop)) {
    const std::string& key = top.key;
    const YAML::Node v = top.value;
    const int line = yaml_line(v);
    if (key == "name") {
      s.name = yaml_str(v, path, line, key);
    } else if (key == "base") {
      base_node = v;
      has_base = true;
      s.base = (dir / yaml_str(v, path, line, key)).lexically_normal().string();
    } else if (key == "verify") {
      s.verify = yaml_bool(v, path, line, key);
    } else if (key == "eval") {
      need_map(v, key, "a mapping of images (and labels): .npy files for the accuracy columns");
      for (const auto& [k, kn, e] : keys_of(v, key, &kEval)) {
        if (!e.IsScalar() || e.Scalar().empty())
          yaml_expected(e, path, yaml_line(e), "eval." + k, "a .npy file");
        const fs::path f =
            fs::path(e.Scalar()).is_absolute() ? fs::path(e.Scalar()) : dir / e.Scalar();
        std::error_code ec;
        if (fs::is_directory(f, ec))
          throw fail(e, "eval." + k, "expected a .npy file (got a directory: " + f.string() + ")");
        if (!fs::is_regular_file(f, ec)) throw fail(e, "eval." + k, "no such file: " + f.string());
        (k == "images" ? s.eval_images : s.eval_labels) = f.string();
      }
      if (s.eval_images.empty()) throw fail(v, "eval.images", "missing key: the float images");
    } else if (key == "set") {
      need_map(v, key, "a mapping of dotted config keys to values");
      for (const auto& [k, kn, e] : keys_of(v, key, nullptr)) {
        if (e.IsNull()) yaml_expected(e, path, yaml_line(kn), "set." + k, "a value");
        s.sets.push_back(k + "=" + resolve_value(k, flow_text(e), dir));
        set_lines.emplace_back(k, yaml_line(kn));
      }
    } else if (key == "constraints") {
      need_map(v, key, "a mapping of fits, max_lut_percent, max_dsp_percent");
      for (const auto& [k, kn, e] : keys_of(v, key, &kConstraints)) {
        const std::string full = "constraints." + k;
        if (k == "fits") {
          s.constraints.fits = yaml_bool(e, path, yaml_line(e), full);
        } else {
          double p = 0;
          if (!e.IsScalar() || !YAML::convert<double>::decode(e, p) || !(p >= 0) ||
              !std::isfinite(p))
            yaml_expected(e, path, yaml_line(e), full, "a percentage >= 0");
          (k == "max_lut_percent" ? s.constraints.max_lut_percent : s.constraints.max_dsp_percent) =
              p;
        }
      }
    } else if (key == "axes") {
      need_map(v, key, "a mapping of dotted config keys to lists or ranges");
      for (const auto& [k, kn, val] : keys_of(v, key, nullptr)) {
        SweepAxis a;
        a.key = k;
        a.line = yaml_line(kn);
        const std::string full = "axes." + a.key;
        if (val.IsSequence()) {
          if (val.size() == 0)
            yaml_expected(val, path, yaml_line(val), full, "a non-empty list of values");
          // A repeated value is refused, not dropped: it is most likely a typo for the value
          // that is missing (0.5, 0.5 for 0.5, 0.75), and it ran the same point twice.
          std::map<std::string, int> seen;  // value_key, line
          for (const auto& x : val) {
            if (x.IsNull()) yaml_expected(x, path, yaml_line(x), full, "a value in the list");
            const std::string text = flow_text(x);
            const auto [it, fresh] = seen.emplace(value_key(text), yaml_line(x));
            if (!fresh)
              throw fail(x, full,
                         fmt::format("value {} is given twice (first on line {}); expected each "
                                     "value of an axis once",
                                     clip_text(text), it->second));
            a.values.push_back(text);
          }
        } else if (val.IsMap()) {
          std::map<std::string, std::string> r;
          for (const auto& [rk, rn, q] : keys_of(val, full, &kRange)) {
            if (!q.IsScalar()) yaml_expected(q, path, yaml_line(q), full + "." + rk, "a number");
            r[rk] = q.Scalar();
          }
          for (const char* need : {"from", "to", "step"})
            if (!r.count(need))
              throw fail(val, full,
                         std::string("bad range: missing ") + need +
                             " (a range is {from: A, to: B, step: S})");
          try {
            a.values = range_values(r["from"], r["to"], r["step"]);
          } catch (const InputError& err) {
            throw fail(val, full, err.detail());
          }
        } else {
          yaml_expected(val, path, yaml_line(val), full,
                        "a list of values or a range {from, to, step}");
        }
        s.axes.push_back(std::move(a));
      }
    }
  }
  if (!has_base) throw fail(root, "base", "missing key: the base config, relative to this file");
  // The overload with an error code: a path the system refuses (a name too long) is no file
  // either, not a filesystem_error that names neither this file nor the key.
  std::error_code ec;
  if (!fs::is_regular_file(s.base, ec)) throw fail(base_node, "base", "no such file: " + s.base);
  double n = 1;
  for (const auto& a : s.axes) n *= double(a.values.size());
  if (n > 1e7) throw fail(root, "axes", fmt::format("{:.0f} points, at most 10000000", n));

  // The base with `set:` must load: every point starts from it. A failing --set names its key;
  // map it back to its line in this file.
  RunConfig base;
  try {
    base = load_run_config(s.base, s.sets);
  } catch (const InputError& e) {
    for (size_t i = 0; i < s.sets.size(); ++i)
      if (e.file() == set_label(s.sets[i]))
        throw InputError(path, set_lines[i].second, "set",
                         e.key().empty() ? e.detail() : e.key() + ": " + e.detail());
    throw;
  }
  // sp2_auto sets every layer's fraction from its weights: an sp2_fraction axis would run the
  // same design under different labels.
  const auto axis_on = [&](const std::string& key) {
    return std::find_if(s.axes.begin(), s.axes.end(),
                        [&](const SweepAxis& a) { return a.key == key; });
  };
  if (const auto a = axis_on("workload.sp2_fraction");
      base.workload.sp2_auto && a != s.axes.end() && axis_on("workload.sp2_auto") == s.axes.end())
    throw InputError(path, a->line, "axes.workload.sp2_fraction",
                     "the base config sets workload.sp2_auto, which replaces sp2_fraction by each "
                     "layer's own: every point would be the same design; expected sp2_auto: "
                     "false (set: {workload.sp2_auto: false})");
  if (!s.eval_images.empty() && !is_onnx_network(base.workload))
    throw fail(root, "eval",
               "compares an imported network with its float original: the base config needs an "
               "ONNX network (workload.network: MODEL.onnx)");
  // The images and labels, read once against the base network: a wrong shape, a NaN or a label
  // outside the classes made every point an error row (exit 1) instead of one message. With an
  // axis over the network the base's input shape may not be the points', so it is left to them.
  if (!s.eval_images.empty() && axis_on("workload.network") == s.axes.end()) {
    const auto net = import_network(base);
    try {
      int n = 0;
      read_images(s.eval_images, "eval.images", net->fg, &n);
      if (!s.eval_labels.empty()) read_labels(s.eval_labels, "eval.labels", *net, n);
    } catch (const InputError& e) {
      const YAML::Node ev = root["eval"];
      throw InputError(path, yaml_line(ev), e.key(),
                       (e.file().empty() ? "" : e.file() + ": ") + e.detail());
    }
  }
  // An axis over a key the config does not have would make every point an error row.
  for (auto& a : s.axes) {
    for (auto& v : a.values) v = resolve_value(a.key, v, dir);
    std::vector<std::string> sets = s.sets;
    sets.push_back(a.key + "=" + a.values[0]);
    try {
      load_run_config(s.base, sets);
    } catch (const InputError& e) {
      if (e.problem() == InputProblem::UnknownKey || e.problem() == InputProblem::MixedSpelling)
        throw InputError(path, a.line, "axes." + a.key, e.detail());
    }
  }
  return s;
}

size_t sweep_size(const SweepSpec& s) {
  size_t n = 1;
  for (const auto& a : s.axes) n *= a.values.size();
  return n;
}

std::vector<std::string> point_values(const SweepSpec& s, size_t id) {
  std::vector<std::string> v(s.axes.size());
  for (size_t i = s.axes.size(); i-- > 0;) {
    const size_t n = s.axes[i].values.size();
    v[i] = s.axes[i].values[id % n];
    id /= n;
  }
  return v;
}

std::vector<std::string> point_sets(const SweepSpec& s, size_t id) {
  std::vector<std::string> sets = s.sets;
  const auto v = point_values(s, id);
  for (size_t i = 0; i < v.size(); ++i) sets.push_back(s.axes[i].key + "=" + v[i]);
  return sets;
}

// ---------------------------------------------------------------------------------------------
// Evaluation

double evaluate_points(const std::vector<std::string>& axis_keys,
                       const std::vector<DesignPoint>& points, const EvalOptions& o,
                       const std::function<void(const PointResult&)>& on_result) {
  const double t0 = now_s();
  const ResourceCosts costs = load_resource_costs(default_resource_costs_path());
  struct Ready {
    const DesignPoint* p;
    RunConfig cfg;
    ResourceEstimate est;
  };
  std::vector<Ready> todo;
  Progress progress(o.progress_label, points.size());

  const auto point_json = [&](const DesignPoint& p, const std::string& status,
                              const std::string& msg) {
    json j = {{"id", p.id}, {"status", status}};
    json axes = json::object();
    for (size_t i = 0; i < axis_keys.size() && i < p.values.size(); ++i)
      axes[axis_keys[i]] = p.values[i];
    j["axes"] = axes;
    j["message"] = one_line(msg);
    return j;
  };

  for (const DesignPoint& p : points) {
    PointResult r;
    r.id = p.id;
    RunConfig cfg;
    ResourceEstimate est;
    try {
      cfg = o.config_of ? o.config_of(p) : load_run_config(o.base, p.sets);
      est = estimate_resources(cfg, costs);
    } catch (const InputError& e) {
      r.status = "error";
      r.cells = row_cells(p, r.status, "", nullptr, nullptr, e.what());
      if (o.want_report) r.json = point_json(p, r.status, e.what()).dump();
      on_result(r);
      progress.step();
      continue;
    }
    const std::string why = constraint_violation(est, o.constraints);
    if (!why.empty()) {
      r.status = "skipped";
      r.cells = row_cells(p, r.status, cfg.device.name, &est, nullptr, why);
      if (o.want_report) {
        json j = point_json(p, r.status, why);
        j["resources"] = resources_to_json(est);
        r.json = j.dump();
      }
      on_result(r);
      progress.step();
      continue;
    }
    cfg.verify = o.verify;
    todo.push_back(Ready{&p, std::move(cfg), std::move(est)});
  }

  // A testing aid (docs/sweeps.md): MSQSIM_SWEEP_HANG=ID makes the worker of point ID hang, to
  // show that --timeout kills it and the sweep goes on.
  long hang_id = -1;
  if (const char* h = std::getenv("MSQSIM_SWEEP_HANG")) {
    char* end = nullptr;
    hang_id = std::strtol(h, &end, 10);
    if (end == h || *end != '\0' || hang_id < 0)
      throw InputError(std::string("MSQSIM_SWEEP_HANG: expected a point id (got ") + h + ")");
  }
  run_pool(
      o.jobs, todo.size(),
      [&](size_t k) {
        const Ready& t = todo[k];
        if (long(t.p->id) == hang_id)
          for (;;) pause();
        SessionOptions so;
        so.verify = o.verify;
        const Session s = run_session(t.cfg, so);
        if (s.mismatches > 0 || s.overflow_mismatches > 0)
          throw std::runtime_error(fmt::format("verification failed: {} of {} outputs differ",
                                               s.mismatches, s.outputs_checked));
        json j;
        j["total"] = totals_json(s);
        if (s.imported && !o.eval_images.empty()) {
          // The point's own quantization (its sp2_fraction) against the float network.
          int n = 0;
          const std::vector<float> images =
              read_images(o.eval_images, "eval.images", s.imported->fg, &n);
          std::vector<int64_t> labels;
          if (!o.eval_labels.empty())
            labels = read_labels(o.eval_labels, "eval.labels", *s.imported, n);
          j["total"]["accuracy"] = accuracy_json(
              {evaluate(*s.imported, images, n, o.eval_labels.empty() ? nullptr : &labels)});
        }
        if (o.want_report) j["report"] = report_json(s, resources_to_json(t.est));
        return j.dump();
      },
      [&](size_t k, bool ok, const std::string& text, int code) {
        const Ready& t = todo[k];
        PointResult r;
        r.id = t.p->id;
        json j;
        if (ok) {
          try {
            j = json::parse(text);
          } catch (const json::exception&) {
            ok = false;
          }
        }
        if (ok) {
          r.status = "ok";
          r.cells = row_cells(*t.p, r.status, t.cfg.device.name, &t.est, &j.at("total"), "");
          if (o.want_report) {
            json line = point_json(*t.p, r.status, "");
            line["report"] = j.at("report");
            r.json = line.dump();
          }
        } else {
          const std::string msg = code == kTimedOut ? text + " (--timeout)"
                                  : text.empty()    ? "worker failed"
                                                    : text;
          r.status = code == kTimedOut ? "timeout" : "error";
          r.cells = row_cells(*t.p, r.status, t.cfg.device.name, &t.est, nullptr, msg);
          if (o.want_report) {
            json line = point_json(*t.p, r.status, msg);
            line["resources"] = resources_to_json(t.est);
            r.json = line.dump();
          }
        }
        on_result(r);
        progress.step();
      },
      o.timeout_s);
  progress.finish();
  return now_s() - t0;
}

// ---------------------------------------------------------------------------------------------
// Results CSV

std::vector<std::string> sweep_header(const std::vector<std::string>& axis_keys) {
  std::vector<std::string> h = {"id", "status"};
  h.insert(h.end(), axis_keys.begin(), axis_keys.end());
  h.insert(h.end(), value_columns().begin(), value_columns().end());
  return h;
}

SweepTable read_sweep_csv(const std::string& path, bool repair) {
  SweepTable t;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, 0, "", std::string("cannot read: ") + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (!text.empty() && text.back() != '\n') {
    // Killed mid-write: the last row is incomplete and its point runs again.
    const size_t keep = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
    text.resize(keep);
    t.dropped_partial = true;
    if (repair) fs::resize_file(path, keep);
  }
  std::istringstream lines(text);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    ++n;
    bool ok = true;
    auto cells = csv_split(line, ok);
    if (n == 1) {
      if (!ok) throw InputError(path, n, "", "malformed CSV header");
      t.header = std::move(cells);
      continue;
    }
    if (!ok || cells.size() != t.header.size() || !is_id(cells[0]))
      throw InputError(path, n, "",
                       fmt::format("malformed row: {} cells, the header has {} (delete "
                                   "the line: --resume runs its point again)",
                                   cells.size(), t.header.size()));
    t.rows.push_back(std::move(cells));
  }
  return t;
}

size_t row_id(const std::vector<std::string>& row) {
  return size_t(std::stoull(row.at(0)));
}

int column(const std::vector<std::string>& header, const std::string& name) {
  const auto it = std::find(header.begin(), header.end(), name);
  return it == header.end() ? -1 : int(it - header.begin());
}

void sort_rows(SweepTable& t, const std::string& label) {
  std::stable_sort(t.rows.begin(), t.rows.end(),
                   [](const auto& a, const auto& b) { return row_id(a) < row_id(b); });
  std::vector<std::vector<std::string>> out;
  for (auto& r : t.rows) {
    if (!out.empty() && row_id(out.back()) == row_id(r)) {
      if (out.back() != r)
        throw InputError(fmt::format("{}: point {} has two different rows", label, row_id(r)));
      continue;
    }
    out.push_back(std::move(r));
  }
  t.rows = std::move(out);
}

bool is_workload_axis(const std::string& key) {
  return key.rfind("workload.", 0) == 0 && key != "workload.sp2_fraction" &&
         key != "workload.fixed8_fraction";
}

std::vector<int> group_columns(const std::vector<std::string>& header) {
  // Axis columns sit between status and device_name.
  std::vector<int> g;
  const int st = column(header, "status"), dev = column(header, "device_name");
  if (st < 0 || dev < 0) return g;
  for (int c = st + 1; c < dev; ++c)
    if (is_workload_axis(header[size_t(c)])) g.push_back(c);
  return g;
}

std::string group_of(const SweepTable& t, const std::vector<std::string>& row) {
  std::string s;
  for (int c : group_columns(t.header))
    s += (s.empty() ? "" : " ") + t.header[size_t(c)] + "=" + row[size_t(c)];
  return s;
}

namespace {
std::vector<size_t> fitting_ok(const SweepTable& t) {
  const int st = column(t.header, "status"), fits = column(t.header, "fits");
  std::vector<size_t> v;
  for (size_t i = 0; i < t.rows.size(); ++i)
    if (st >= 0 && fits >= 0 && t.rows[i][size_t(st)] == "ok" && t.rows[i][size_t(fits)] == "true")
      v.push_back(i);
  return v;
}
}  // namespace

std::vector<size_t> pareto_rows(const SweepTable& t) {
  const int fps = column(t.header, "frames_per_s"), lut = column(t.header, "lut"),
            dsp = column(t.header, "dsp");
  const auto cand = fitting_ok(t);
  std::vector<std::string> group(t.rows.size());
  for (size_t i : cand) group[i] = group_of(t, t.rows[i]);
  std::vector<size_t> front;
  for (size_t a : cand) {
    const double fa = cell_num(t.rows[a], fps), la = cell_num(t.rows[a], lut),
                 da = cell_num(t.rows[a], dsp);
    bool dominated = false;
    for (size_t b : cand) {
      if (group[b] != group[a]) continue;
      const double fb = cell_num(t.rows[b], fps), lb = cell_num(t.rows[b], lut),
                   db = cell_num(t.rows[b], dsp);
      if (fb >= fa && lb <= la && db <= da && (fb > fa || lb < la || db < da)) {
        dominated = true;
        break;
      }
    }
    if (!dominated) front.push_back(a);
  }
  return front;
}

std::vector<size_t> best_rows(const SweepTable& t) {
  const int fps = column(t.header, "frames_per_s"), dev = column(t.header, "device_name");
  std::map<std::pair<std::string, std::string>, size_t> best;  // (group, device)
  if (fps < 0 || dev < 0) return {};
  for (size_t i : fitting_ok(t)) {
    const auto key = std::make_pair(group_of(t, t.rows[i]), t.rows[i][size_t(dev)]);
    const auto it = best.find(key);
    // Ties keep the lower id: rows are in id order.
    if (it == best.end() || cell_num(t.rows[i], fps) > cell_num(t.rows[it->second], fps))
      best[key] = i;
  }
  std::vector<size_t> v;
  for (const auto& [k, i] : best) v.push_back(i);
  std::sort(v.begin(), v.end());
  return v;
}

std::string summary_path(const std::string& out, const std::string& kind) {
  std::string stem = out;
  if (stem.size() > 4 && stem.compare(stem.size() - 4, 4, ".csv") == 0)
    stem.resize(stem.size() - 4);
  return stem + "." + kind + ".csv";
}

void write_summary(const std::string& out, SweepTable& t,
                   const std::vector<std::string>& axis_keys) {
  sort_rows(t, out);
  const auto table_text = [&](const std::vector<size_t>& idx) {
    std::string s = csv_line(t.header);
    for (size_t i : idx) s += csv_line(t.rows[i]);
    return s;
  };
  std::vector<size_t> all(t.rows.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  write_file_atomic(out, table_text(all));
  const auto front = pareto_rows(t), best = best_rows(t);
  write_file_atomic(summary_path(out, "pareto"), table_text(front));
  write_file_atomic(summary_path(out, "best"), table_text(best));

  const auto col = [&](const std::vector<std::string>& r, const char* name) {
    const int c = column(t.header, name);
    return c < 0 ? std::string() : r[size_t(c)];
  };
  // The group is printed once as a heading; the axes shown per point are the design axes.
  std::vector<std::string> design_keys;
  for (const auto& k : axis_keys)
    if (!is_workload_axis(k)) design_keys.push_back(k);
  const auto axes_text = [&](const std::vector<std::string>& r) {
    std::string s;
    for (const auto& k : design_keys) s += (s.empty() ? "" : " ") + k + "=" + col(r, k.c_str());
    return s.empty() ? std::string("(base)") : s;
  };
  const auto describe = [&](const std::vector<std::string>& r) {
    return fmt::format("id {:>4}  {:>10} frames/s  LUT {:>5}%  DSP {:>5}%  {}", r[0],
                       col(r, "frames_per_s"), col(r, "lut_percent"), col(r, "dsp_percent"),
                       axes_text(r));
  };
  // Groups in the order of their first row (id order).
  std::vector<std::string> groups;
  std::map<std::string, size_t> group_size;
  for (const auto& r : t.rows) {
    const std::string g = group_of(t, r);
    if (group_size[g]++ == 0) groups.push_back(g);
  }
  if (groups.empty()) groups.push_back("");
  const bool grouped = groups.size() > 1 || !groups[0].empty();
  for (const auto& g : groups) {
    const auto in_group = [&](size_t i) { return group_of(t, t.rows[i]) == g; };
    const std::string for_g = grouped ? " for " + g : "";
    const size_t n_front = size_t(std::count_if(front.begin(), front.end(), in_group));
    std::cout << fmt::format(
        "Pareto front{} (max frames/s, min LUT, min DSP), {} of {} points: {}\n", for_g, n_front,
        group_size[g], summary_path(out, "pareto"));
    for (size_t i : front)
      if (in_group(i)) std::cout << "  " << describe(t.rows[i]) << "\n";
    std::cout << fmt::format("Best point per device{} (max frames/s that fits): {}\n", for_g,
                             summary_path(out, "best"));
    bool any = false;
    for (size_t i : best) {
      if (!in_group(i)) continue;
      any = true;
      std::cout << fmt::format("  {:<8} {} (binding: {})\n", col(t.rows[i], "device_name"),
                               describe(t.rows[i]), col(t.rows[i], "binding"));
    }
    if (!any) std::cout << "  (no point ran and fits its device)\n";
  }
}

// ---------------------------------------------------------------------------------------------
// Progress

Progress::Progress(std::string label, size_t total)
    : label_(std::move(label)), total_(total), tty_(isatty(STDERR_FILENO)), start_(now_s()) {}

double Progress::rate() const {
  const double dt = now_s() - start_;
  return dt > 0 ? double(done_) / dt : 0.0;
}

void Progress::step() {
  ++done_;
  draw(false);
}

void Progress::finish() {
  if (total_ > 0) draw(true);
}

void Progress::draw(bool last) {
  const double t = now_s();
  // A terminal redraws cheaply; a log file gets a line a second.
  if (!last && t - last_draw_ < (tty_ ? 0.1 : 1.0)) return;
  if (last && !tty_ && drawn_ == done_) return;
  last_draw_ = t;
  drawn_ = done_;
  const double r = rate();
  const std::string eta =
      r > 0 ? fmt::format("{:.0f} s", double(total_ - done_) / r) : std::string("?");
  if (tty_) {
    const int width = 30;
    const int fill = total_ ? int(width * double(done_) / double(total_)) : width;
    std::cerr << fmt::format("\r{}: [{}{}] {}/{}  {:.1f} points/s  ETA {}\033[K", label_,
                             std::string(size_t(fill), '#'), std::string(size_t(width - fill), '.'),
                             done_, total_, r, eta);
    if (last) std::cerr << "\n";
  } else {
    std::cerr << fmt::format("{}: {}/{} points, {:.1f} points/s, ETA {}\n", label_, done_, total_,
                             r, eta);
  }
  std::cerr.flush();
}

}  // namespace msq
