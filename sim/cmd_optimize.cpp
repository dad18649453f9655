// msqsim optimize: the LUT and DSP array sizes and the SP2 fraction that give the most frames/s
// (or, with --objective, the least energy per frame or energy x latency) on the configured device.
// The resource model prunes before anything is simulated: arrays that do not fit, and arrays with
// both cores no larger than another fitting design's, never run. The pruning is the same for
// every objective, so for energy and edp the search covers only the largest arrays that fit
// (docs/energy.md says so).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <map>
#include <tuple>

#include "models/error.h"
#include "models/resource_model.h"
#include "sim/atomic_file.h"
#include "sim/commands.h"
#include "sim/config_loader.h"
#include "sim/sweep.h"

namespace msq {

namespace {

struct Arrays {
  int lr, lc, dr, dc;
  bool operator<(const Arrays& o) const {
    return std::tie(lr, lc, dr, dc) < std::tie(o.lr, o.lc, o.dr, o.dc);
  }
};

struct Candidate {
  Arrays a;
  ResourceEstimate est;
  int64_t p_lut = 0, p_dsp = 0;  // products per cycle
};

RunConfig with_arrays(RunConfig c, const Arrays& a) {
  c.accelerator.lut_core.rows = a.lr, c.accelerator.lut_core.cols = a.lc;
  c.accelerator.dsp_core.rows = a.dr, c.accelerator.dsp_core.cols = a.dc;
  return c;
}

// Sides of 2^k and 1.5 * 2^k, rows/cols within a factor of two: long thin arrays tile layers
// badly, and the restriction keeps the search to about a thousand shapes, which the resource
// model prunes to a few dozen before anything is simulated.
std::vector<std::pair<int, int>> shapes(int lo, int hi) {
  std::vector<int> sides;
  for (int s = lo; s <= hi; s *= 2) {
    sides.push_back(s);
    if (s + s / 2 <= hi) sides.push_back(s + s / 2);
  }
  std::vector<std::pair<int, int>> v;
  for (int r : sides)
    for (int c : sides)
      if (r <= 2 * c && c <= 2 * r) v.emplace_back(r, c);
  return v;
}

std::string grouped(int64_t v) {
  std::string s = std::to_string(v);
  for (int i = int(s.size()) - 3; i > 0; i -= 3) s.insert(size_t(i), ",");
  return s;
}

std::string usage_line(const ResourceEstimate& e, const std::string& which) {
  const auto line = [](const char* name, int64_t used, int64_t avail, const char* unit) {
    return fmt::format("{}: {}/{} {} ({:.1f}%)", name, grouped(used), grouped(avail), unit,
                       avail > 0 ? 100.0 * double(used) / double(avail) : 0.0);
  };
  if (which == "lut") return line("LUT", e.lut, e.lut_avail, "LUTs");
  if (which == "ff") return line("FF", e.ff, e.ff_avail, "flip-flops");
  if (which == "dsp") return line("DSP", e.dsp, e.dsp_avail, "slices");
  return line("BRAM36", e.bram36, e.bram36_avail, "blocks");
}

std::string fraction_text(double r) {
  return fmt::format("{:.2f}", std::round(r * 20.0) / 20.0);
}

}  // namespace

int cmd_optimize(const OptimizeOptions& o) {
  const RunConfig base = load_run_config(o.config, o.sets);
  check_not_input(o.out, "--out", o.config, "config");
  check_not_input(o.out, "--out", base.workload.network_path, "network file (workload.network)");
  if (!o.out.empty()) check_writable(o.out);  // before the search, not after it
  const ResourceCosts costs = load_resource_costs(default_resource_costs_path());

  // Every array pair, estimated without simulating.
  std::vector<Candidate> fit;
  size_t tried = 0;
  for (const auto& [lr, lc] : shapes(4, 256))
    for (const auto& [dr, dc] : shapes(2, 64)) {
      ++tried;
      const Arrays a{lr, lc, dr, dc};
      const RunConfig c = with_arrays(base, a);
      Candidate k{a, estimate_resources(c, costs), int64_t(lr) * lc,
                  int64_t(dr) * dc * (dsp_core_packed(c) ? 2 : 1)};
      if (k.est.fits()) fit.push_back(std::move(k));
    }
  // A design whose cores are both no larger than another fitting design's cannot be faster on a
  // compute-bound layer and is not worth a simulation.
  std::vector<Candidate> cands;
  for (const auto& k : fit) {
    const bool dominated = std::any_of(fit.begin(), fit.end(), [&](const Candidate& b) {
      return b.p_lut >= k.p_lut && b.p_dsp >= k.p_dsp && (b.p_lut > k.p_lut || b.p_dsp > k.p_dsp);
    });
    if (!dominated) cands.push_back(k);
  }
  std::cout << fmt::format(
      "optimize: {} ({} LUT, {} DSP, {} BRAM36): {} array pairs, {} fit, {} not dominated by a "
      "larger fitting design\n",
      base.device.name, grouped(base.device.lut), grouped(base.device.dsp),
      grouped(base.device.bram36), tried, fit.size(), cands.size());
  if (cands.empty()) {
    std::cerr << "msqsim: optimize: no array pair fits " << base.device.name << "\n";
    return 1;
  }

  const std::vector<std::string> keys = {"accelerator.lut_core.rows", "accelerator.lut_core.cols",
                                         "accelerator.dsp_core.rows", "accelerator.dsp_core.cols",
                                         "workload.sp2_fraction"};
  std::vector<std::vector<std::string>> rows;
  // (arrays, fraction) -> the objective's score, higher is better: frames/s, 1 / (J/frame) or
  // 1 / (J/frame x s/frame); -1 until the point ran.
  std::map<std::pair<Arrays, std::string>, double> fps;
  std::map<std::pair<Arrays, std::string>, std::pair<double, double>> seen;  // frames/s, J/frame
  std::vector<std::pair<Arrays, std::string>> by_id;
  const int fps_col = column(sweep_header(keys), "frames_per_s");
  const int energy_col = column(sweep_header(keys), "energy_j_per_frame");
  const auto score = [&](double f, double j) {
    if (o.objective == "energy") return j > 0 ? 1.0 / j : -1.0;
    if (o.objective == "edp") return j > 0 && f > 0 ? f / j : -1.0;
    return f;
  };

  EvalOptions eo;
  eo.base = o.config;
  eo.jobs = o.jobs;
  eo.verify = false;
  eo.constraints.fits = true;
  eo.progress_label = "optimize";
  eo.timeout_s = SweepOptions().timeout_s;
  double seconds = 0;
  size_t simulated = 0;
  const auto run = [&](const std::vector<std::pair<Arrays, std::string>>& todo) {
    std::vector<DesignPoint> pts;
    for (const auto& [a, r] : todo) {
      if (fps.count({a, r})) continue;
      fps[{a, r}] = -1;
      DesignPoint p;
      p.id = by_id.size();
      by_id.emplace_back(a, r);
      p.values = {std::to_string(a.lr), std::to_string(a.lc), std::to_string(a.dr),
                  std::to_string(a.dc), r};
      p.sets = o.sets;
      for (size_t i = 0; i < keys.size(); ++i) p.sets.push_back(keys[i] + "=" + p.values[i]);
      pts.push_back(std::move(p));
    }
    simulated += pts.size();
    seconds += evaluate_points(keys, pts, eo, [&](const PointResult& r) {
      if (r.status == "ok") {
        const double f = std::stod(r.cells[size_t(fps_col)]);
        const std::string& e = r.cells[size_t(energy_col)];
        const double j = e.empty() ? 0.0 : std::stod(e);
        seen[by_id[r.id]] = {f, j};
        fps[by_id[r.id]] = score(f, j);
      }
      rows.push_back(r.cells);
    });
  };

  // Stage 1: each array pair near its balanced fraction r* = P_lut / (P_lut + P_dsp).
  std::vector<std::pair<Arrays, std::string>> todo;
  for (const auto& k : cands) {
    const double r = double(k.p_lut) / double(k.p_lut + k.p_dsp);
    for (double d : {-0.05, 0.0, 0.05})
      todo.emplace_back(k.a, fraction_text(std::clamp(r + d, 0.0, 1.0)));
  }
  run(todo);
  // Stage 2: the best few pairs over the whole fraction range, in case a layer mix that is not
  // compute-bound moves the optimum away from r*.
  std::map<Arrays, double> best_of;
  for (const auto& [key, f] : fps) best_of[key.first] = std::max(best_of[key.first], f);
  std::vector<std::pair<double, Arrays>> ranked;
  for (const auto& [a, f] : best_of) ranked.emplace_back(f, a);
  std::sort(ranked.begin(), ranked.end(),
            [](const auto& x, const auto& y) { return x.first > y.first; });
  todo.clear();
  for (size_t i = 0; i < ranked.size() && i < 3; ++i)
    for (int s = 0; s <= 20; ++s) todo.emplace_back(ranked[i].second, fraction_text(s / 20.0));
  run(todo);

  if (!o.out.empty()) {
    std::sort(rows.begin(), rows.end(),
              [](const auto& a, const auto& b) { return row_id(a) < row_id(b); });
    write_file_atomic(o.out, csv_text(sweep_header(keys), rows));
  }

  const auto best = std::max_element(fps.begin(), fps.end(), [](const auto& x, const auto& y) {
    return x.second < y.second || (x.second == y.second && y.first < x.first);
  });
  if (best == fps.end() || best->second <= 0) {
    std::cerr << "msqsim: optimize: no design point ran (see --out for the errors)\n";
    return 1;
  }
  const Arrays& a = best->first.first;
  const RunConfig bc = with_arrays(base, a);
  const ResourceEstimate be = estimate_resources(bc, costs);
  const bool packed = dsp_core_packed(bc);
  const int64_t p_lut = int64_t(a.lr) * a.lc, p_dsp = int64_t(a.dr) * a.dc * (packed ? 2 : 1);
  const auto [best_fps, best_j] = seen[best->first];
  std::cout << fmt::format(
      "Best design on {}: LUT core {}x{}, DSP core {}x{}{}, SP2 fraction {} ({})\n"
      "  {:.1f} frames/s, {:.3f} mJ/frame ({} points simulated in {:.1f} s, {:.1f} points/s)\n"
      "  products per cycle: LUT core {}, DSP core {}; r* = P_lut/(P_lut+P_dsp) = {:.3f}\n"
      "  resources: {}; {}; {}; {}\n"
      "  binding: {}\n",
      base.device.name, a.lr, a.lc, a.dr, a.dc, packed ? " (2 products per slice)" : "",
      best->first.second,
      o.objective == "latency"  ? "most frames/s"
      : o.objective == "energy" ? "least energy per frame"
                                : "least energy x latency",
      best_fps, best_j * 1e3, simulated, seconds, seconds > 0 ? double(simulated) / seconds : 0.0,
      p_lut, p_dsp, double(p_lut) / double(p_lut + p_dsp), usage_line(be, "lut"),
      usage_line(be, "ff"), usage_line(be, "dsp"), usage_line(be, "bram36"),
      usage_line(be, be.binding()));
  std::cout << "  the next larger arrays:\n";
  const Arrays bigger[] = {{a.lr * 2, a.lc, a.dr, a.dc},
                           {a.lr, a.lc * 2, a.dr, a.dc},
                           {a.lr, a.lc, a.dr * 2, a.dc},
                           {a.lr, a.lc, a.dr, a.dc * 2}};
  for (const Arrays& b : bigger) {
    const ResourceEstimate e = estimate_resources(with_arrays(base, b), costs);
    const std::string what = b.lr != a.lr || b.lc != a.lc
                                 ? fmt::format("LUT core {}x{}", b.lr, b.lc)
                                 : fmt::format("DSP core {}x{}", b.dr, b.dc);
    std::string why;
    if (!e.fits()) {
      why = "does not fit: " + e.overfull_message();
    } else {
      double f = -1;
      for (const auto& [key, v] : seen)
        if (!(key.first < b) && !(b < key.first)) f = std::max(f, v.first);
      why = f > 0
                ? fmt::format("fits ({}), but reaches only {:.1f} frames/s",
                              usage_line(e, e.binding()), f)
                : fmt::format("fits ({}), outside the searched shapes", usage_line(e, e.binding()));
    }
    std::cout << "    " << what << ": " << why << "\n";
  }
  return 0;
}

}  // namespace msq
