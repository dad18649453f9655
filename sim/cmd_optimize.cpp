// msqsim optimize (docs/optimize.md): searches the engine mix, every engine's array shape (any
// accelerator.engines list), the vector engine's lanes (--vector-lanes), the buffer split and
// the SP2 fraction for the most frames/s, the least energy per frame or the least energy x
// latency on the configured device, within a maximum share of each resource. The search space is
// printed first, with how many points the resource model prunes before anything is simulated. A
// space within the simulation budget is simulated whole (so optimize finds exactly what a grid
// sweep of the same space finds); a larger one in stages, each stage refining the best points of
// the last along one axis.
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>
#include <utility>

#include "models/error.h"
#include "models/resource_model.h"
#include "sim/atomic_file.h"
#include "sim/commands.h"
#include "sim/config_loader.h"
#include "sim/sweep.h"

namespace msq {

namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kLutKinds = {"lut_sp2", "lut_sp2_bitserial"};
const std::vector<std::string> kDspKinds = {"dsp48", "dsp48_actpack"};

// One kind per engine, in the config's engine order.
struct Mix {
  std::vector<std::string> kinds;
  std::string text() const {
    std::string t;
    for (const std::string& k : kinds) t += (t.empty() ? "" : "+") + k;
    return t;
  }
};
struct Shape {
  int r = 0, c = 0;
  std::string text() const { return fmt::format("{}x{}", r, c); }
};
struct Split {
  int w = 0, i = 0, o = 0;  // BRAM36 of the weight, input and output buffers
  std::string text() const { return fmt::format("{}/{}/{}", w, i, o); }
};

// One design point as indices into the axes: the mix, each engine's shape (in engine order),
// the vector lanes, the split, and the fraction as its text (e.g. "0.65").
struct Point {
  size_t mix = 0;
  std::vector<size_t> arr;
  size_t lanes = 0;
  size_t split = 0;
  std::string frac;
  auto key() const { return std::tie(mix, arr, lanes, split, frac); }
  bool operator<(const Point& o) const { return key() < o.key(); }
};

struct Space {
  // The classic design, a LUT engine then a DSP engine, keeps its axis names ("LUT array",
  // CSV column lut_array) so that its output reads as it always did; any other engine list names
  // each engine's axis after the engine.
  bool classic = true;
  std::vector<std::string> names;  // the engines' names
  std::vector<bool> lut;           // per engine: a LUT kind (else a DSP kind)
  std::vector<Mix> mixes;
  std::vector<std::vector<Shape>> shapes;  // per engine
  std::vector<std::string> shape_notes;    // per engine: how its default shapes were chosen
  // The vector engine's lane counts: the config's alone unless --vector-lanes gives a list
  // (`lanes_axis`); only then is it printed, a CSV column and part of the design's line, so that
  // the output without the option reads as it always did.
  std::vector<int> lanes;
  bool lanes_axis = false;
  std::vector<Split> splits;
  std::vector<std::string> fracs;
  std::string split_note, frac_note;  // how the default values were chosen
};

// The design a point stands for: the base config with the point's engines, arrays, buffers and
// fraction. Kept in this one place so that a change in how engines are configured touches only it.
RunConfig with_point(RunConfig c, const Space& s, const Point& p) {
  auto& a = c.accelerator;
  // A full engines list whichever spelling the base used, so that the written design and every
  // point's config stand on their own; each entry keeps the base engine's other keys.
  std::vector<EngineSpec> e = engine_specs(a);
  for (size_t i = 0; i < e.size(); ++i) {
    e[i].impl = s.mixes[p.mix].kinds[i];
    e[i].rows = s.shapes[i][p.arr[i]].r, e[i].cols = s.shapes[i][p.arr[i]].c;
  }
  a.engines = std::move(e);
  if (s.classic) {
    // The old spelling's sections follow, for what still reads them (resource pricing).
    a.lut_core.rows = s.shapes[0][p.arr[0]].r, a.lut_core.cols = s.shapes[0][p.arr[0]].c;
    a.dsp_core.rows = s.shapes[1][p.arr[1]].r, a.dsp_core.cols = s.shapes[1][p.arr[1]].c;
  }
  a.vector.lanes = s.lanes[p.lanes];
  a.buffers.weight_bram36 = s.splits[p.split].w;
  a.buffers.input_bram36 = s.splits[p.split].i;
  a.buffers.output_bram36 = s.splits[p.split].o;
  c.workload.sp2_fraction = std::stod(p.frac);
  return c;
}

// Sides of 2^k and 1.5 * 2^k from lo to hi, rows/cols within a factor of four: every aspect
// ratio a layer's tiling could prefer, without the long thin arrays that tile nothing well.
std::vector<Shape> shapes(int lo, int hi) {
  std::vector<int> sides;
  for (int s = lo; s <= hi; s *= 2) {
    sides.push_back(s);
    if (s + s / 2 <= hi) sides.push_back(s + s / 2);
  }
  std::vector<Shape> v;
  for (int r : sides)
    for (int c : sides)
      if (r <= 4 * c && c <= 4 * r) v.push_back({r, c});
  return v;
}

std::string grouped(int64_t v) {
  std::string s = std::to_string(v);
  for (int i = int(s.size()) - 3; i > 0; i -= 3) s.insert(size_t(i), ",");
  return s;
}

double share(int64_t used, int64_t avail) {
  return avail > 0 ? double(used) / double(avail) : 0;
}

// The first resource above the share (in the order lut, ff, dsp, bram36), "" when none is.
std::string over_share(const ResourceEstimate& e, double max_share) {
  const double eps = 1e-12;
  if (share(e.lut, e.lut_avail) > max_share + eps) return "LUT";
  if (share(e.ff, e.ff_avail) > max_share + eps) return "FF";
  if (share(e.dsp, e.dsp_avail) > max_share + eps) return "DSP";
  if (share(e.bram36, e.bram36_avail) > max_share + eps) return "BRAM36";
  return "";
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> v;
  std::stringstream in(s);
  for (std::string x; std::getline(in, x, ',');) v.push_back(x);
  // An empty item ("16x16,", "a,,b") is kept so that the parser refuses it: it was dropped, and
  // a mistyped list searched fewer points than asked without a word.
  if (!s.empty() && s.back() == ',') v.emplace_back();
  return v;
}

[[noreturn]] void bad_option(const std::string& opt, const std::string& what,
                             const std::string& got) {
  throw InputError("optimize: " + opt + ": expected " + what + " (got '" + clip_text(got) + "')");
}

// `s` is one number of the list item `item`, which the message quotes whole ('8x', not '').
int parse_int(const std::string& opt, const std::string& what, const std::string& s, int lo, int hi,
              const std::string& item) {
  size_t n = 0;
  int v = 0;
  try {
    v = std::stoi(s, &n);
  } catch (const std::exception&) {
    n = 0;
  }
  if (n == 0 || n != s.size() || v < lo || v > hi) bad_option(opt, what, item);
  return v;
}

// An axis value given twice was simulated twice and listed twice among the runners-up.
template <class T, class F>
void no_repeats(const std::string& opt, const std::vector<T>& v, F text) {
  std::set<std::string> seen;
  for (const T& x : v)
    if (!seen.insert(text(x)).second)
      throw InputError("optimize: " + opt + ": " + clip_text(text(x)) +
                       " is listed twice (each value once)");
}

std::vector<Shape> parse_shapes(const std::string& opt, const std::string& s) {
  const std::string what = "a comma-separated list of ROWSxCOLS, each 1..4096, e.g. 16x16,8x32";
  std::vector<Shape> v;
  for (const std::string& x : split_list(s)) {
    const size_t at = x.find('x');
    if (at == std::string::npos) bad_option(opt, what, s);
    v.push_back({parse_int(opt, what, x.substr(0, at), 1, 4096, x),
                 parse_int(opt, what, x.substr(at + 1), 1, 4096, x)});
  }
  if (v.empty()) bad_option(opt, what, s);
  no_repeats(opt, v, [](const Shape& x) { return x.text(); });
  return v;
}

// Each mix gives every engine a kind of its own family (a LUT kind where the config has one, a
// DSP kind where it has one): an engine's shapes are drawn for its family.
std::vector<Mix> parse_mixes(const std::string& s, const Space& sp) {
  std::string what;
  if (sp.classic) {
    what =
        "a comma-separated list of LUT_KIND+DSP_KIND, LUT_KIND one of lut_sp2, lut_sp2_bitserial "
        "and DSP_KIND one of dsp48, dsp48_actpack, e.g. lut_sp2+dsp48";
  } else {
    std::string per, example;
    for (size_t i = 0; i < sp.names.size(); ++i) {
      per += fmt::format("{}{}: {}", i ? ", " : "", sp.names[i],
                         sp.lut[i] ? "lut_sp2 or lut_sp2_bitserial" : "dsp48 or dsp48_actpack");
      example += std::string(i ? "+" : "") + (sp.lut[i] ? "lut_sp2" : "dsp48");
    }
    what = fmt::format(
        "a comma-separated list of {} kinds joined by '+', one per engine of "
        "accelerator.engines in its order ({}), e.g. {}",
        sp.names.size(), per, example);
  }
  std::vector<Mix> v;
  for (const std::string& x : split_list(s)) {
    Mix m;
    std::stringstream in(x);
    for (std::string k; std::getline(in, k, '+');) m.kinds.push_back(k);
    if (!x.empty() && x.back() == '+') m.kinds.emplace_back();
    if (m.kinds.size() != sp.names.size()) bad_option("--engines", what, x);
    for (size_t i = 0; i < m.kinds.size(); ++i) {
      const auto& kinds = sp.lut[i] ? kLutKinds : kDspKinds;
      if (std::find(kinds.begin(), kinds.end(), m.kinds[i]) == kinds.end())
        bad_option("--engines", what, x);
    }
    v.push_back(m);
  }
  if (v.empty()) bad_option("--engines", what, s);
  no_repeats("--engines", v, [](const Mix& x) { return x.text(); });
  return v;
}

std::vector<Split> parse_splits(const std::string& s) {
  const std::string what =
      "a comma-separated list of WEIGHT/INPUT/OUTPUT BRAM36 counts, each 1..100000, e.g. "
      "32/64/32";
  std::vector<Split> v;
  for (const std::string& x : split_list(s)) {
    const size_t a = x.find('/'), b = a == std::string::npos ? a : x.find('/', a + 1);
    if (b == std::string::npos) bad_option("--buffer-splits", what, x);
    v.push_back({parse_int("--buffer-splits", what, x.substr(0, a), 1, 100000, x),
                 parse_int("--buffer-splits", what, x.substr(a + 1, b - a - 1), 1, 100000, x),
                 parse_int("--buffer-splits", what, x.substr(b + 1), 1, 100000, x)});
  }
  if (v.empty()) bad_option("--buffer-splits", what, s);
  no_repeats("--buffer-splits", v, [](const Split& x) { return x.text(); });
  return v;
}

std::vector<int> parse_lanes(const std::string& s) {
  const std::string what =
      "a comma-separated list of vector engine lane counts, each 1..4096, e.g. 4,8,16";
  std::vector<int> v;
  for (const std::string& x : split_list(s))
    v.push_back(parse_int("--vector-lanes", what, x, 1, 4096, x));
  if (v.empty()) bad_option("--vector-lanes", what, s);
  no_repeats("--vector-lanes", v, [](int x) { return std::to_string(x); });
  return v;
}

std::vector<std::string> parse_fracs(const std::string& s) {
  const std::string what = "a comma-separated list of SP2 fractions in 0..1, e.g. 0.25,0.5";
  std::vector<std::string> v;
  for (const std::string& x : split_list(s)) {
    size_t n = 0;
    double f = -1;
    try {
      f = std::stod(x, &n);
    } catch (const std::exception&) {
      n = 0;
    }
    if (n == 0 || n != x.size() || !(f >= 0 && f <= 1)) bad_option("--sp2-fractions", what, x);
    // Two decimals as the default axis prints them; a finer fraction keeps its digits (0.333
    // ran as 0.33, and 0.001,0.002 as 0.00 twice).
    const std::string two = fmt::format("{:.2f}", f);
    v.push_back(std::stod(two) == f ? two : fmt::format("{}", f));
  }
  if (v.empty()) bad_option("--sp2-fractions", what, s);
  no_repeats("--sp2-fractions", v, [](const std::string& x) { return x; });
  return v;
}

// The entries of `in` whose per-engine products per cycle no other entry of `in` matches or
// beats on every engine (and beats on one), in the order of `in`: every aspect ratio of a front
// size stays. Sorted by total products, a dominating vector always comes before the ones it
// dominates, so each vector is compared with the front found so far only.
template <class A, class F>
std::vector<const A*> pareto_front(const std::vector<const A*>& in, F vec) {
  std::map<std::vector<int64_t>, bool> on_front;
  for (const A* a : in) on_front[vec(a)] = false;
  std::vector<std::pair<int64_t, const std::vector<int64_t>*>> order;
  for (const auto& [v, f] : on_front) {
    int64_t sum = 0;
    for (int64_t x : v) sum += x;
    order.push_back({sum, &v});
  }
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& x, const auto& y) { return x.first > y.first; });
  std::vector<const std::vector<int64_t>*> front;
  for (const auto& entry : order) {
    // A named copy: C++17 lambdas cannot capture a structured binding (clang refuses it).
    const std::vector<int64_t>* v = entry.second;
    const bool beaten = std::any_of(front.begin(), front.end(), [&](const auto* f) {
      for (size_t i = 0; i < v->size(); ++i)
        if ((*f)[i] < (*v)[i]) return false;
      return true;  // distinct vectors: at least as large everywhere means larger somewhere
    });
    if (!beaten) front.push_back(v), on_front[*v] = true;
  }
  std::vector<const A*> out;
  for (const A* a : in)
    if (on_front[vec(a)]) out.push_back(a);
  return out;
}

template <class T, class F>
std::string listing(const std::vector<T>& v, F text) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? " " : "") + text(v[i]);
  return s;
}

}  // namespace

int cmd_optimize(const OptimizeOptions& o) {
  if (!(o.max_share > 0 && o.max_share <= 1))
    throw InputError(fmt::format(
        "optimize: --max-share: expected a share of each resource in (0, 1], e.g. 0.85 (got {})",
        o.max_share));
  if (o.budget < 1)
    throw InputError(fmt::format(
        "optimize: --budget: expected a number of simulations >= 1 (got {})", o.budget));
  if (!o.out.empty()) {
    const std::string ext = fs::path(o.out).extension().string();
    if (ext != ".yaml" && ext != ".yml")
      throw InputError(
          "optimize: --out: expected a config file name ending in .yaml or .yml, "
          "where the best design is written (got '" +
          o.out + "'; --csv FILE writes every evaluated point)");
  }
  Space s;
  std::vector<Shape> lut_list, dsp_list;
  if (!o.lut_shapes.empty()) lut_list = parse_shapes("--lut-shapes", o.lut_shapes);
  if (!o.dsp_shapes.empty()) dsp_list = parse_shapes("--dsp-shapes", o.dsp_shapes);
  if (!o.buffer_splits.empty()) s.splits = parse_splits(o.buffer_splits);
  if (!o.sp2_fractions.empty()) s.fracs = parse_fracs(o.sp2_fractions);
  if (!o.vector_lanes.empty()) s.lanes = parse_lanes(o.vector_lanes), s.lanes_axis = true;

  const RunConfig base = load_run_config(o.config, o.sets);
  // sp2_auto sets every layer's fraction from its weights: the fraction axis would change only
  // the label of each design ("SP2 0.20" and "SP2 0.80", the same cycles).
  if (base.workload.sp2_auto)
    throw InputError(o.config, 0, "workload.sp2_auto",
                     "optimize searches the SP2 fraction, which sp2_auto replaces by each layer's "
                     "own; expected sp2_auto: false (--set workload.sp2_auto=false)");
  const std::vector<EngineSpec> base_engines = engine_specs(base.accelerator);
  const size_t n_eng = base_engines.size();
  for (const EngineSpec& e : base_engines) {
    s.names.push_back(e.name);
    s.lut.push_back(e.impl.rfind("lut", 0) == 0);
  }
  s.classic = n_eng == 2 && s.lut[0] && !s.lut[1];
  // --shapes NAME=L: one engine's shapes, before the family lists (--lut-shapes, --dsp-shapes).
  std::map<std::string, std::vector<Shape>> by_name;
  for (const std::string& x : o.engine_shapes) {
    const size_t eq = x.find('=');
    const std::string name = x.substr(0, eq);
    if (eq == std::string::npos ||
        std::find(s.names.begin(), s.names.end(), name) == s.names.end()) {
      std::string names;
      for (const std::string& n : s.names) names += (names.empty() ? "" : ", ") + n;
      bad_option("--shapes",
                 "ENGINE=ROWSxCOLS,... with ENGINE one of the config's engines (" + names + ")", x);
    }
    if (by_name.count(name))
      throw InputError("optimize: --shapes: " + clip_text(name) +
                       " is given twice (one --shapes per engine)");
    by_name[name] = parse_shapes("--shapes " + name, x.substr(eq + 1));
  }
  // A family list that every engine of its family overrides with --shapes would be dropped
  // without a word: the user meant one of the two.
  for (const auto& [opt, lut, given] : {std::tuple{"--lut-shapes", true, !lut_list.empty()},
                                        std::tuple{"--dsp-shapes", false, !dsp_list.empty()}}) {
    if (!given) continue;
    std::string covered;
    bool used = false;
    for (size_t i = 0; i < s.names.size(); ++i) {
      if (s.lut[i] != lut) continue;
      if (!by_name.count(s.names[i])) used = true;
      covered += (covered.empty() ? "" : ", ") + s.names[i];
    }
    if (!used)
      throw InputError(fmt::format(
          "optimize: {}: {}; expected either {} or --shapes ENGINE=L for each engine", opt,
          covered.empty() ? std::string("the config has no engine of this family")
                          : "every engine it applies to (" + covered + ") has its own --shapes",
          opt));
  }
  if (!o.engines.empty()) s.mixes = parse_mixes(o.engines, s);
  for (const auto& [opt, f] :
       {std::pair<const char*, std::string>{"--out", o.out}, {"--csv", o.csv}}) {
    // `--out c.yaml` on its own config replaced it by the best design.
    check_not_input(f, opt, o.config, "config");
    check_not_input(f, opt, base.workload.network_path, "network file (workload.network)");
  }
  check_not_input(o.csv, "--csv", o.out, "--out config");
  for (const std::string& f : {o.out, o.csv})
    if (!f.empty()) check_writable(f);  // before the search, not after it
  const ResourceCosts costs = load_resource_costs(default_resource_costs_path());
  const std::string base_dir = fs::path(o.config).parent_path().string();
  const ResourceEstimate base_est = estimate_resources(base, costs);
  const auto& dev = base.device;
  if (s.lanes.empty()) s.lanes = {base.accelerator.vector.lanes};

  // ---- The axes ----
  // The classic design searches all four kind pairs; another list keeps its kinds unless
  // --engines gives mixes (each kind doubles the space of every engine list it is in).
  std::string mix_note;
  if (s.mixes.empty()) {
    if (s.classic) {
      for (const auto& l : kLutKinds)
        for (const auto& d : kDspKinds) s.mixes.push_back({{l, d}});
    } else {
      Mix m;
      for (const EngineSpec& e : base_engines) m.kinds.push_back(e.impl);
      s.mixes.push_back(m);
      mix_note = "the config's kinds; --engines to search others";
    }
  }
  for (size_t i = 0; i < n_eng; ++i) {
    std::vector<Shape> v = s.lut[i] ? lut_list : dsp_list;
    std::string note;
    if (by_name.count(s.names[i])) {
      v = by_name[s.names[i]];
    } else if (v.empty()) {
      v = s.lut[i] ? shapes(4, 256) : shapes(2, 64);
      note = s.lut[i] ? "sides 4..256 of 2^k and 1.5 x 2^k" : "sides 2..64 of 2^k and 1.5 x 2^k";
    }
    s.shapes.push_back(v);
    s.shape_notes.push_back(note);
  }
  // Every combination of the engines' shapes is priced before anything runs; past this many the
  // pricing alone would take minutes, and the space is too large to search sensibly anyway.
  constexpr double kMaxCombos = 2e6;
  double combos = double(s.mixes.size());
  for (const auto& v : s.shapes) combos *= double(v.size());
  // Each lane count prices every combination again (its LUT and DSP slices leave the arrays
  // another share).
  combos *= double(s.lanes.size());
  if (combos > kMaxCombos) {
    std::string sizes;
    for (size_t i = 0; i < n_eng; ++i)
      sizes += fmt::format("{}{} {}", i ? " x " : "", s.shapes[i].size(), s.names[i]);
    throw InputError(fmt::format(
        "optimize: the search space has {} engine/array combinations ({} engine mix{} x {} "
        "shapes{}), more than the {} it prices one by one: give shorter shape lists "
        "(--shapes ENGINE=L, --lut-shapes L, --dsp-shapes L){}",
        grouped(int64_t(combos)), s.mixes.size(), s.mixes.size() == 1 ? "" : "es", sizes,
        s.lanes_axis ? fmt::format(" x {} lane counts", s.lanes.size()) : "",
        grouped(int64_t(kMaxCombos)), s.lanes_axis ? " or fewer --vector-lanes" : ""));
  }
  const auto& bf = base.accelerator.buffers;
  const int64_t base_buffers = int64_t(bf.weight_bram36) + bf.input_bram36 + bf.output_bram36;
  const int64_t other_bram = base_est.bram36 - base_buffers;  // FIFOs, DMA
  if (s.splits.empty()) {
    // Eighths of what the share leaves for the three buffers: 21 splits, each buffer >= 1/8.
    const int64_t budget =
        int64_t(std::floor(o.max_share * double(dev.bram36) + 1e-9)) - other_bram;
    // Like a design that does not fit (exit 1, docs/optimize.md): the options are valid, the
    // device is too small for them.
    if (budget < 8) {
      std::cerr << fmt::format(
          "msqsim: optimize: no design in the search space fits {:.0f}% of {}: the share leaves "
          "{} BRAM36 for the three buffers, fewer than the 8 its splits need (raise --max-share "
          "or give --buffer-splits)\n",
          100 * o.max_share, dev.name, budget);
      return 1;
    }
    for (int w = 1; w <= 6; ++w)
      for (int i = 1; w + i <= 7; ++i) {
        const int ww = int(budget * w / 8), ii = int(budget * i / 8);
        s.splits.push_back({ww, ii, int(budget) - ww - ii});
      }
    s.split_note = fmt::format(
        "weight/input/output in eighths of {} BRAM36 ({:.0f}% of {} less {} for FIFOs and DMA)",
        budget, 100 * o.max_share, dev.bram36, other_bram);
  }
  if (s.fracs.empty()) {
    for (int i = 0; i <= 20; ++i) s.fracs.push_back(fmt::format("{:.2f}", i / 20.0));
    s.frac_note = "steps of 0.05";
  }
  const double space_points = combos * double(s.splits.size()) * double(s.fracs.size());

  std::cout << fmt::format(
      "optimize: {} on {} ({} LUT, {} FF, {} DSP, {} BRAM36), objective {}, max share {:.0f}% "
      "of each resource\n"
      "search space:\n",
      o.config, dev.name, grouped(dev.lut), grouped(dev.ff), grouped(dev.dsp), grouped(dev.bram36),
      o.objective, 100 * o.max_share);
  // Values in one column, past the longest engine name.
  size_t width = 14;
  if (!s.classic)
    for (const std::string& n : s.names) width = std::max(width, n.size() + 7);
  const auto axis = [&](const std::string& name, size_t n, const std::string& note,
                        const std::string& values) {
    std::cout << fmt::format("  {:<{}}{:>4} values{}: {}\n", name, width, n,
                             note.empty() ? "" : " (" + note + ")", values);
  };
  axis("engines", s.mixes.size(), mix_note,
       listing(s.mixes, [](const Mix& m) { return m.text(); }));
  for (size_t i = 0; i < n_eng; ++i)
    axis(s.classic ? (i == 0 ? "LUT array" : "DSP array") : s.names[i] + " array",
         s.shapes[i].size(), s.shape_notes[i],
         listing(s.shapes[i], [](const Shape& x) { return x.text(); }));
  if (s.lanes_axis)
    axis("vector lanes", s.lanes.size(), "",
         listing(s.lanes, [](int x) { return std::to_string(x); }));
  axis("buffers", s.splits.size(), s.split_note,
       listing(s.splits, [](const Split& x) { return x.text(); }));
  axis("SP2 fraction", s.fracs.size(), s.frac_note,
       listing(s.fracs, [](const std::string& x) { return x; }));
  std::cout << fmt::format("  {} points\n", grouped(int64_t(space_points)));
  if (!s.classic)
    std::cout << (s.lanes_axis ? std::string("  not searched: each engine's other keys and every "
                                             "other key of the config\n")
                               : fmt::format("  not searched: each engine's other keys, the vector "
                                             "engine ({} lanes, accelerator.vector.lanes) and "
                                             "every other key of the config\n",
                                             base.accelerator.vector.lanes));

  // ---- Pruning before simulation ----
  // An engine mix the workload cannot run (a bit width the kind does not take) is dropped with
  // the loader's reason.
  const auto load_point = [&](const Point& p) {
    const RunConfig c = with_point(base, s, p);
    return load_run_config_node(config_to_yaml(c), o.config, base_dir, {});
  };
  std::cout << "pruned before simulation:\n";
  std::vector<size_t> mixes_ok;
  for (size_t m = 0; m < s.mixes.size(); ++m) {
    try {
      Point p;
      p.mix = m, p.arr.assign(n_eng, 0), p.frac = s.fracs[0];
      (void)load_point(p);
      mixes_ok.push_back(m);
    } catch (const InputError& e) {
      std::cout << fmt::format("  engines {}: cannot run this workload: {}\n", s.mixes[m].text(),
                               e.what());
    }
  }
  // No mix can run the workload: the config asks for something no searched engine runs, as `run`
  // refuses it (exit 2), not a design too large for the device.
  if (mixes_ok.empty()) {
    try {
      Point p;
      p.mix = 0, p.arr.assign(n_eng, 0), p.frac = s.fracs[0];
      (void)load_point(p);
    } catch (const InputError& e) {
      throw InputError(
          fmt::format("optimize: no engine mix of the search space can run this "
                      "workload ({}{}): {}",
                      s.mixes[0].text(), s.mixes.size() > 1 ? ", ..." : "", e.what()));
    }
  }
  // Arrays and engines price LUT, FF and DSP; the buffers price BRAM. Each is checked on its own
  // and the point's whole estimate once more before it runs. The estimate is a sum of one line
  // per engine and lines that do not depend on the engines, and an engine's line depends only on
  // its own kind and shape: so each engine and shape is priced once, and a combination's LUT, FF
  // and DSP are the sums of its engines' lines and the rest (exactly the whole estimate's). The
  // vector engine is one of the other lines: the rest is priced once per lane count.
  struct Arrays {
    size_t mix;
    std::vector<size_t> arr;
    size_t lanes;
    int64_t p_lut, p_dsp;  // products per cycle of the LUT and the DSP engines (bit-serial: two
                           // digits per weight)
    double biggest;        // the largest share of LUT, FF and DSP used
  };
  struct Cost {
    int64_t lut = 0, ff = 0, dsp = 0;
  };
  std::vector<Arrays> arrays;
  std::map<std::string, size_t> over_by;
  size_t array_combos = 0;
  // Per mix, engine and shape: products per cycle.
  std::vector<std::vector<std::vector<int64_t>>> prods(s.mixes.size());
  for (size_t m : mixes_ok) {
    Point p;
    p.mix = m, p.arr.assign(n_eng, 0), p.frac = s.fracs[0];
    RunConfig c0 = with_point(base, s, p);
    c0.accelerator.buffers = base.accelerator.buffers;
    std::vector<Cost> rests;
    for (size_t l = 0; l < s.lanes.size(); ++l) {
      Point pl = p;
      pl.lanes = l;
      RunConfig cl = with_point(base, s, pl);
      cl.accelerator.buffers = base.accelerator.buffers;
      const ResourceEstimate e0 = estimate_resources(cl, costs);
      Cost rest{e0.lut, e0.ff, e0.dsp};
      for (size_t i = 0; i < n_eng; ++i)
        rest.lut -= e0.lines[i].lut, rest.ff -= e0.lines[i].ff, rest.dsp -= e0.lines[i].dsp;
      rests.push_back(rest);
    }
    std::vector<std::vector<Cost>> line(n_eng);
    prods[m].resize(n_eng);
    for (size_t i = 0; i < n_eng; ++i) {
      bool packed = false;
      if (!s.lut[i]) {
        if (s.classic) {
          packed = dsp_core_packed(c0);
        } else {
          RunConfig one = c0;
          one.accelerator.dsp_core = c0.accelerator.engines[i].dsp();
          packed = dsp_core_packed(one);
        }
      }
      const bool serial = s.mixes[m].kinds[i] == "lut_sp2_bitserial";
      for (size_t j = 0; j < s.shapes[i].size(); ++j) {
        Point q = p;
        q.arr[i] = j;
        RunConfig c = with_point(base, s, q);
        c.accelerator.buffers = base.accelerator.buffers;
        const ResourceEstimate e = estimate_resources(c, costs);
        line[i].push_back({e.lines[i].lut, e.lines[i].ff, e.lines[i].dsp});
        const int64_t n = int64_t(s.shapes[i][j].r) * s.shapes[i][j].c;
        prods[m][i].push_back(s.lut[i] ? n / (serial ? 2 : 1) : n * (packed ? 2 : 1));
      }
    }
    ResourceEstimate e = base_est;
    e.bram36 = 0;
    // Per lane count, every combination in order (the first engine's shape slowest), as an
    // odometer.
    for (size_t l = 0; l < s.lanes.size(); ++l) {
      const Cost& rest = rests[l];
      std::vector<size_t> arr(n_eng, 0);
      for (bool more = true; more;) {
        ++array_combos;
        e.lut = rest.lut, e.ff = rest.ff, e.dsp = rest.dsp;
        int64_t pl = 0, pd = 0;
        for (size_t i = 0; i < n_eng; ++i) {
          const Cost& k = line[i][arr[i]];
          e.lut += k.lut, e.ff += k.ff, e.dsp += k.dsp;
          (s.lut[i] ? pl : pd) += prods[m][i][arr[i]];
        }
        const std::string why = over_share(e, o.max_share);
        if (!why.empty()) {
          ++over_by[why];
        } else {
          arrays.push_back({m, arr, l, pl, pd,
                            std::max({share(e.lut, e.lut_avail), share(e.ff, e.ff_avail),
                                      share(e.dsp, e.dsp_avail)})});
        }
        more = false;
        for (size_t i = n_eng; i-- > 0;) {
          if (++arr[i] < s.shapes[i].size()) {
            more = true;
            break;
          }
          arr[i] = 0;
        }
      }
    }
  }
  std::string over_text;
  for (const auto& [r, n] : over_by)
    over_text += fmt::format("{}{} by {}", over_text.empty() ? "" : ", ", n, r);
  std::cout << fmt::format(
      "  {}: {} of {} engine/array{} combinations exceed {:.0f}% of a resource{}\n",
      s.lanes_axis ? "arrays and lanes" : "arrays", array_combos - arrays.size(), array_combos,
      s.lanes_axis ? "/lanes" : "", 100 * o.max_share,
      over_text.empty() ? "" : " (" + over_text + ")");
  std::vector<size_t> splits_ok;
  for (size_t k = 0; k < s.splits.size(); ++k) {
    RunConfig c = base;
    c.accelerator.buffers.weight_bram36 = s.splits[k].w;
    c.accelerator.buffers.input_bram36 = s.splits[k].i;
    c.accelerator.buffers.output_bram36 = s.splits[k].o;
    const ResourceEstimate e = estimate_resources(c, costs);
    if (share(e.bram36, e.bram36_avail) <= o.max_share + 1e-12) splits_ok.push_back(k);
  }
  std::cout << fmt::format("  buffers: {} of {} splits exceed {:.0f}% of the BRAM36\n",
                           s.splits.size() - splits_ok.size(), s.splits.size(), 100 * o.max_share);
  const double left = double(arrays.size()) * double(splits_ok.size()) * double(s.fracs.size());
  std::cout << fmt::format("  leaves {} points\n", grouped(int64_t(left)));
  if (left == 0) {
    std::cerr << fmt::format(
        "msqsim: optimize: no design in the search space fits {:.0f}% of {} (raise --max-share or "
        "change the axes)\n",
        100 * o.max_share, dev.name);
    return 1;
  }
  const bool exhaustive = left <= double(o.budget);
  std::cout << fmt::format(
      "search: {}\n",
      exhaustive
          ? fmt::format("every point ({} within the budget of {} simulations)",
                        grouped(int64_t(left)), o.budget)
          : fmt::format("in stages, at most {} simulations (--budget N to raise; a budget of {} "
                        "simulates every point)",
                        o.budget, grouped(int64_t(left))));

  // ---- Evaluation ----
  std::vector<std::string> keys = {"engines"};
  for (size_t i = 0; i < n_eng; ++i)
    keys.push_back(s.classic ? (i == 0 ? "lut_array" : "dsp_array") : s.names[i] + "_array");
  // Named by its config key, as a sweep over it names its column (docs/sweeps.md).
  if (s.lanes_axis) keys.push_back("accelerator.vector.lanes");
  keys.push_back("buffers");
  keys.push_back("workload.sp2_fraction");
  const std::vector<std::string> header = sweep_header(keys);
  const int fps_col = column(header, "frames_per_s"),
            energy_col = column(header, "energy_j_per_frame");
  struct Seen {
    double score = -1, fps = 0, j = 0;
    std::vector<std::string> cells;
  };
  std::map<Point, Seen> seen;
  std::vector<Point> by_id;
  std::vector<std::vector<std::string>> rows;
  const auto score = [&](double f, double j) {
    if (o.objective == "energy") return j > 0 ? 1.0 / j : -1.0;
    if (o.objective == "edp") return j > 0 && f > 0 ? f / j : -1.0;
    return f;
  };
  EvalOptions eo;
  eo.base = o.config;
  eo.jobs = o.jobs;
  eo.verify = false;
  eo.progress_label = "optimize";
  eo.timeout_s = SweepOptions().timeout_s;
  eo.config_of = [&](const DesignPoint& dp) {
    RunConfig c = load_point(by_id[dp.id]);
    const ResourceEstimate e = estimate_resources(c, costs);
    if (const std::string why = over_share(e, o.max_share); !why.empty())
      throw InputError(fmt::format("{} above {:.0f}% of the device", why, 100 * o.max_share));
    return c;
  };
  double seconds = 0;
  const auto run = [&](const std::vector<Point>& todo) {
    std::vector<DesignPoint> pts;
    for (const Point& p : todo) {
      if (seen.count(p) || by_id.size() >= size_t(o.budget)) continue;
      seen[p] = Seen{};
      DesignPoint dp;
      dp.id = by_id.size();
      by_id.push_back(p);
      dp.values = {s.mixes[p.mix].text()};
      for (size_t i = 0; i < n_eng; ++i) dp.values.push_back(s.shapes[i][p.arr[i]].text());
      if (s.lanes_axis) dp.values.push_back(std::to_string(s.lanes[p.lanes]));
      dp.values.push_back(s.splits[p.split].text());
      dp.values.push_back(p.frac);
      pts.push_back(std::move(dp));
    }
    seconds += evaluate_points(keys, pts, eo, [&](const PointResult& r) {
      Seen& v = seen[by_id[r.id]];
      v.cells = r.cells;
      if (r.status == "ok") {
        v.fps = std::stod(r.cells[size_t(fps_col)]);
        const std::string& e = r.cells[size_t(energy_col)];
        v.j = e.empty() ? 0.0 : std::stod(e);
        v.score = score(v.fps, v.j);
      }
      rows.push_back(r.cells);
    });
  };
  // Points by score, best first; ties to the lower point, so the order is deterministic.
  const auto ranked = [&]() {
    std::vector<std::pair<Point, Seen>> v(seen.begin(), seen.end());
    std::stable_sort(v.begin(), v.end(),
                     [](const auto& x, const auto& y) { return x.second.score > y.second.score; });
    return v;
  };
  const auto nearest_frac = [&](double r) {
    size_t best = 0;
    for (size_t i = 1; i < s.fracs.size(); ++i)
      if (std::abs(std::stod(s.fracs[i]) - r) < std::abs(std::stod(s.fracs[best]) - r)) best = i;
    return s.fracs[best];
  };

  if (exhaustive) {
    std::vector<Point> todo;
    for (const Arrays& a : arrays)
      for (size_t k : splits_ok)
        for (const std::string& f : s.fracs) todo.push_back({a.mix, a.arr, a.lanes, k, f});
    run(todo);
  } else {
    // The split nearest the base config's proportions, for the stages before buffers are searched.
    size_t start_split = splits_ok[0];
    const auto dist = [&](const Split& x) {
      const double t = double(x.w + x.i + x.o);
      return std::abs(x.w / t - bf.weight_bram36 / double(base_buffers)) +
             std::abs(x.i / t - bf.input_bram36 / double(base_buffers));
    };
    for (size_t k : splits_ok)
      if (dist(s.splits[k]) < dist(s.splits[start_split]) - 1e-12) start_split = k;
    // Stage 1, the arrays: per engine mix, the combinations that no other fitting combination
    // beats in every engine's products per cycle (every aspect ratio of the same size stays). For
    // energy and edp also those within half and a quarter of the share, because a smaller,
    // slower design may use less energy. Each runs at its balanced fraction. Per lane count too:
    // fewer lanes leave the arrays more LUTs and DSP slices, so one front over all lane counts
    // would keep only the fewest lanes, whose slower adds and pools the products do not show.
    std::vector<double> levels = {1.0};
    if (o.objective != "latency") levels = {1.0, 0.5, 0.25};
    std::vector<Point> stage1;
    std::set<std::tuple<size_t, size_t, std::vector<size_t>>> taken;
    for (double lv : levels)
      for (size_t m : mixes_ok)
        for (size_t l = 0; l < s.lanes.size(); ++l) {
          std::vector<const Arrays*> in;
          for (const Arrays& a : arrays)
            if (a.mix == m && a.lanes == l && a.biggest <= lv * o.max_share + 1e-12)
              in.push_back(&a);
          // Per engine, not per family: on three_engines.yaml's default space the per-family
          // front (236 combinations) led to 126.8 frames/s, the per-engine one to 127.7.
          const auto per_engine = [&](const Arrays* a) {
            std::vector<int64_t> v(n_eng);
            for (size_t i = 0; i < n_eng; ++i) v[i] = prods[m][i][a->arr[i]];
            return v;
          };
          for (const Arrays* k : pareto_front(in, per_engine))
            if (taken.insert({k->mix, k->lanes, k->arr}).second)
              stage1.push_back({k->mix, k->arr, k->lanes, start_split,
                                nearest_frac(double(k->p_lut) / double(k->p_lut + k->p_dsp))});
        }
    // What the later stages need is kept back (but never more than half the budget); stage 1
    // gets the rest, evenly spread over its list when it must be cut. The pairs cut run later
    // if the budget allows.
    const size_t reserve = 9 * s.fracs.size() + 4 * splits_ok.size() + s.lanes.size() - 1;
    const size_t cap =
        std::max<size_t>(std::max<size_t>(1, size_t(o.budget) / 2),
                         size_t(o.budget) > reserve ? size_t(o.budget) - reserve : 0);
    std::vector<Point> later;
    if (stage1.size() > cap) {
      std::vector<Point> kept;
      std::vector<bool> in(stage1.size());
      for (size_t i = 0; i < cap; ++i) in[i * stage1.size() / cap] = true;
      for (size_t i = 0; i < stage1.size(); ++i) (in[i] ? kept : later).push_back(stage1[i]);
      stage1 = kept;
    }
    std::cout << fmt::format(
        "  stage 1: {} {} combinations at the balanced fraction{}\n", stage1.size(),
        s.lanes_axis ? "array, engine and lane" : "array and engine",
        later.empty() ? "" : fmt::format(" ({} more if the budget allows)", later.size()));
    run(stage1);
    // Then rounds of: (2) the best 8w designs over every fraction; (3) the best 4w points over
    // every buffer split; (4) the best point over every fraction again (a split changes which
    // layers are memory-bound, and so the balance); (5) the best point at every other lane count
    // its arrays fit with (the same arrays with fewer lanes may cost less energy, with more run
    // the adds and pools faster). w doubles each round, until the budget is spent or a round
    // adds nothing (then the pairs stage 1 left out run once).
    size_t rounds = 0;
    for (size_t w = 1; by_id.size() < size_t(o.budget); w *= 2) {
      const size_t before = by_id.size();
      ++rounds;
      std::vector<Point> todo;
      std::set<std::tuple<size_t, size_t, std::vector<size_t>>> designs;
      for (const auto& [p, v] : ranked()) {
        if (designs.size() >= 8 * w || v.score <= 0) break;
        if (designs.insert({p.mix, p.lanes, p.arr}).second)
          for (const std::string& f : s.fracs) todo.push_back({p.mix, p.arr, p.lanes, p.split, f});
      }
      run(todo);
      todo.clear();
      size_t n = 0;
      for (const auto& [p, v] : ranked()) {
        if (n++ >= 4 * w || v.score <= 0) break;
        for (size_t k : splits_ok) todo.push_back({p.mix, p.arr, p.lanes, k, p.frac});
      }
      run(todo);
      todo.clear();
      if (const auto r = ranked(); !r.empty() && r[0].second.score > 0)
        for (const std::string& f : s.fracs) {
          Point p = r[0].first;
          p.frac = f;
          todo.push_back(p);
        }
      run(todo);
      todo.clear();
      if (const auto r = ranked(); s.lanes.size() > 1 && !r.empty() && r[0].second.score > 0)
        for (size_t l = 0; l < s.lanes.size(); ++l) {
          Point p = r[0].first;
          p.lanes = l;
          if (over_share(estimate_resources(with_point(base, s, p), costs), o.max_share).empty())
            todo.push_back(p);
        }
      run(todo);
      if (by_id.size() == before) {
        if (later.empty()) break;
        run(later);
        later.clear();
      }
    }
    std::cout << fmt::format(
        "  then {} round{} over the fractions{} and buffer splits of the best designs\n", rounds,
        rounds == 1 ? "" : "s", s.lanes_axis ? ", lane counts" : "");
  }

  if (!o.csv.empty()) {
    std::sort(rows.begin(), rows.end(),
              [](const auto& a, const auto& b) { return row_id(a) < row_id(b); });
    write_file_atomic(o.csv, csv_text(header, rows));
  }
  const auto r = ranked();
  if (r.empty() || r[0].second.score <= 0) {
    // The first point's reason: without --csv the user had none.
    const int st = column(header, "status"), msg = column(header, "message");
    std::string why;
    for (const auto& row : rows)
      if (st >= 0 && msg >= 0 && row[size_t(st)] != "ok" && !row[size_t(msg)].empty()) {
        why = ": the first point's error: " + clip_text(row[size_t(msg)], 300);
        break;
      }
    std::cerr << "msqsim: optimize: no design point ran" << why
              << (o.csv.empty() ? "" : " (see " + o.csv + " for every point)") << "\n";
    return 1;
  }

  const Point& bp = r[0].first;
  const RunConfig bc = load_point(bp);
  const ResourceEstimate be = estimate_resources(bc, costs);
  const auto usage = [](const ResourceEstimate& e) {
    return fmt::format("LUT {:.1f}%, FF {:.1f}%, DSP {:.1f}%, BRAM36 {:.1f}%",
                       100 * share(e.lut, e.lut_avail), 100 * share(e.ff, e.ff_avail),
                       100 * share(e.dsp, e.dsp_avail), 100 * share(e.bram36, e.bram36_avail));
  };
  const auto design = [&](const Point& p) {
    std::string arrays;
    for (size_t i = 0; i < n_eng; ++i)
      arrays += fmt::format(", {} {}", s.classic ? (i == 0 ? "LUT" : "DSP") : s.names[i].c_str(),
                            s.shapes[i][p.arr[i]].text());
    if (s.lanes_axis) arrays += fmt::format(", vector {} lanes", s.lanes[p.lanes]);
    return fmt::format("{}{}, buffers {}, SP2 {}", s.mixes[p.mix].text(), arrays,
                       s.splits[p.split].text(), p.frac);
  };
  std::cout << fmt::format(
      "simulated {} points in {:.1f} s\n"
      "Best design on {} ({}): {}\n"
      "  {:.1f} frames/s, {:.3f} mJ/frame, {:.3g} mJ x ms\n"
      "  resources: {} (binding: {})\n",
      by_id.size(), seconds, dev.name,
      o.objective == "latency"  ? "most frames/s"
      : o.objective == "energy" ? "least energy per frame"
                                : "least energy x latency",
      design(bp), r[0].second.fps, r[0].second.j * 1e3, r[0].second.j * 1e3 * 1e3 / r[0].second.fps,
      usage(be), be.binding());
  if (!s.classic) {
    // How the design divides the device among its engines: the engine mix the search chose.
    std::string mix;
    for (size_t i = 0; i < n_eng; ++i)
      mix += fmt::format("{}{} LUT {:.1f}%, DSP {:.1f}%", i ? "; " : "", be.lines[i].block,
                         100 * share(be.lines[i].lut, be.lut_avail),
                         100 * share(be.lines[i].dsp, be.dsp_avail));
    std::cout << "  engines' shares of the device: " << mix << "\n";
  }
  std::cout << "  runners-up:\n";
  for (size_t i = 1; i < r.size() && i < 6 && r[i].second.score > 0; ++i) {
    const ResourceEstimate e = estimate_resources(load_point(r[i].first), costs);
    std::cout << fmt::format("    {}: {:.1f} frames/s, {:.3f} mJ/frame; {}\n", design(r[i].first),
                             r[i].second.fps, r[i].second.j * 1e3, usage(e));
  }
  if (!o.out.empty()) {
    YAML::Emitter em;
    em << config_to_yaml(bc);
    const std::string text = fmt::format(
        "# msqsim optimize {} --objective {} --max-share {}: {:.1f} frames/s, "
        "{:.3f} mJ/frame\n{}\n",
        o.config, o.objective, o.max_share, r[0].second.fps, r[0].second.j * 1e3, em.c_str());
    write_file_atomic(o.out, text);
    std::cout << "  written to " << o.out << "\n";
  }
  return 0;
}

}  // namespace msq
