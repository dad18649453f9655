#include "sim/onnx_network.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <ostream>

#include "models/error.h"
#include "models/reference/float_model.h"
#include "models/reference/graph_reference.h"
#include "models/workload/onnx_import.h"
#include "sim/npy.h"

namespace msq {

bool is_onnx_network(const WorkloadConfig& w) {
  const std::string& p = w.network_path.empty() ? w.network : w.network_path;
  return std::filesystem::path(p).extension() == ".onnx";
}

namespace {

// The .npy reader knows the file, not which key named it (eval_images or calibration).
InputError with_key(const InputError& e, const std::string& path, const std::string& key) {
  if (!e.key().empty() || e.file() != path) return e;
  return InputError(path, e.line(), key, e.detail());
}

}  // namespace

std::vector<float> read_images(const std::string& path, const std::string& key, const FloatGraph& g,
                               int* n) {
  std::vector<int64_t> shape;
  std::vector<float> v;
  try {
    v = read_npy_float(path, &shape);
  } catch (const InputError& e) {
    throw with_key(e, path, key);
  }
  const FloatTensorDesc& in = g.tensors[size_t(g.input)];
  const bool vec = in.h == 1 && in.w == 1;
  const bool ok = (shape.size() == 4 && shape[1] == in.c && shape[2] == in.h && shape[3] == in.w) ||
                  (vec && shape.size() == 2 && shape[1] == in.c);
  if (!ok || shape[0] < 1) {
    std::string s;
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    throw InputError(path, 0, key,
                     fmt::format("expected float images [N, {}, {}, {}] with N >= 1 for the "
                                 "network's input '{}' (got [{}])",
                                 in.c, in.h, in.w, in.name, s));
  }
  if (shape[0] > 1 << 20) throw InputError(path, 0, key, "more than 2^20 images");
  *n = int(shape[0]);
  return v;
}

std::shared_ptr<ImportedNetwork> import_network(const RunConfig& cfg) {
  const WorkloadConfig& w = cfg.workload;
  auto net = std::make_shared<ImportedNetwork>();
  net->fg = import_onnx(w.network_path);
  const FloatGraph& g = net->fg;

  QuantizeOptions& o = net->options;
  o.act_bits = w.act_bits;
  o.weight_bits = w.weight_bits;
  o.sp2_fraction = w.sp2_fraction;
  o.fixed8_fraction = w.fixed8_fraction;
  o.sp2_auto = w.sp2_auto;
  o.auto_lo = w.sp2_auto_min;
  o.auto_hi = w.sp2_auto_max;
  o.acc_bits = cfg.accelerator.accumulator.bits;
  o.overflow = cfg.accelerator.accumulator.overflow;
  o.last_layer_accumulators = w.last_layer_accumulators;
  o.batch = w.batch;
  std::vector<std::string> names;
  for (const FloatOp& op : g.ops)
    if (op.kind == OpKind::Conv || op.kind == OpKind::Fc) names.push_back(op.name);
  for (const auto* per : {&w.sp2_fraction_per_layer, &w.fixed8_fraction_per_layer})
    for (const auto& kv : *per)
      if (std::find(names.begin(), names.end(), kv.first) == names.end()) {
        std::string some;
        for (size_t i = 0; i < names.size() && i < 6; ++i) some += (i ? ", " : "") + names[i];
        throw InputError(
            cfg.file, 0,
            std::string(per == &w.sp2_fraction_per_layer ? "workload.sp2_fraction_per_layer."
                                                         : "workload.fixed8_fraction_per_layer.") +
                kv.first,
            "expected a Conv or Gemm layer of " + w.network_path + " (its first layers: " + some +
                ")");
      }
  o.sp2_fraction_per_layer = w.sp2_fraction_per_layer;
  o.fixed8_fraction_per_layer = w.fixed8_fraction_per_layer;

  // A testing aid like MSQSIM_FAULT: a deliberately broken quantizer (biases without the input
  // zero point folded in), to see the accuracy bounds catch it.
  if (const char* b = std::getenv("MSQSIM_BREAK_QUANTIZER")) {
    if (std::string(b) != "zero_point")
      throw InputError(std::string("MSQSIM_BREAK_QUANTIZER=") + b +
                       ": expected zero_point (or leave it unset)");
    o.fold_zero_point = false;
  }
  std::vector<float> cal;
  int n = 0;
  if (!w.calibration_path.empty()) {
    cal = read_images(w.calibration_path, "workload.calibration", g, &n);
    net->calibration = w.calibration_path;
  } else {
    n = kSyntheticCalibrationImages;
    cal = synthetic_images(g, n, w.seed);
  }
  net->calibration_images = n;
  const std::vector<TensorRange> ranges = calibrate(g, cal, n);
  try {
    net->qn = quantize_graph(g, ranges, o);
  } catch (const InputError& e) {
    throw InputError(w.network_path, 0, e.key(), e.detail());
  }

  // The images the simulation runs: the first `batch` calibration images (repeated when there are
  // fewer), else seeded ones.
  const int64_t per = g.tensors[size_t(g.input)].size();
  if (net->calibration.empty()) {
    net->images = synthetic_images(g, w.batch, w.seed + 1);
  } else {
    net->images.resize(size_t(per * w.batch));
    for (int b = 0; b < w.batch; ++b)
      std::copy_n(cal.begin() + std::ptrdiff_t((b % n) * per), per,
                  net->images.begin() + std::ptrdiff_t(b * per));
  }
  return net;
}

Workload onnx_graph_workload(const ImportedNetwork& net, bool values) {
  Workload wl;
  wl.name = net.fg.name;
  wl.layers = net.qn.graph.layers;
  if (!values)
    for (QuantLayer& L : wl.layers) {
      L.weights.clear();
      L.bias.clear();
      L.rq_mult.clear();
      L.rq_shift.clear();
    }
  return wl;
}

Workload onnx_workload(const ImportedNetwork& net, const RunConfig& cfg, bool values) {
  const WorkloadConfig& w = cfg.workload;
  const Graph& G = net.qn.graph;
  Workload wl;
  wl.name = net.fg.name;
  std::vector<OutTensor> t;
  if (values)
    t = run_graph_int(G, quantize_input(G.tensors[size_t(G.input)], net.images.data(), w.batch))
            .tensors;
  for (const Op& op : G.ops) {
    if (op.layer < 0) continue;
    QuantLayer L = G.layers[size_t(op.layer)];
    if (!w.layers.empty() &&
        std::find(w.layers.begin(), w.layers.end(), L.shape.name) == w.layers.end())
      continue;
    L.shape.batch = w.batch;
    ActTensor in;
    in.b = w.batch;
    in.c = L.shape.in_c, in.h = L.shape.in_h, in.w = L.shape.in_w;
    if (values) {
      const OutTensor& x = t[size_t(op.inputs[0])];
      in.data.resize(x.data.size());
      for (size_t i = 0; i < x.data.size(); ++i) in.data[i] = uint16_t(x.data[i]);
    } else {
      L.weights.clear();
      L.bias.clear();
      L.rq_mult.clear();
      L.rq_shift.clear();
    }
    wl.layers.push_back(std::move(L));
    wl.inputs.push_back(std::move(in));
  }
  return wl;
}

namespace {

std::vector<double> dequantized_output(const ImportedNetwork& net, const std::vector<OutTensor>& t,
                                       int image, int* channels, int* per_image) {
  const Graph& G = net.qn.graph;
  const int out = G.outputs.at(0);
  const TensorDesc& d = G.tensors[size_t(out)];
  const OutTensor& y = t[size_t(out)];
  const int64_t per = int64_t(d.c) * d.h * d.w, hw = int64_t(d.h) * d.w;
  *channels = d.c;
  *per_image = int(per);
  // An output that is a layer's raw accumulators: per-row accumulator units.
  const std::vector<double>* acc = nullptr;
  for (const Op& op : G.ops)
    if (op.output == out && op.layer >= 0 &&
        G.layers[size_t(op.layer)].output == OutputKind::Accumulators)
      acc = &net.qn.acc_scale[size_t(op.layer)];
  std::vector<double> v(static_cast<size_t>(per));
  for (int64_t i = 0; i < per; ++i) {
    const int64_t code = y.data[size_t(image * per + i)];
    v[size_t(i)] =
        acc ? double(code) * (*acc)[size_t(i / hw)] : d.scale * double(code - d.zero_point);
  }
  return v;
}

Accuracy evaluate_net(const ImportedNetwork& net, const std::vector<float>& images, int n,
                      const std::vector<int64_t>* labels) {
  Accuracy a;
  a.images = n;
  const FloatGraph& g = net.fg;
  const Graph& G = net.qn.graph;
  const int64_t per_in = g.tensors[size_t(g.input)].size();
  const auto ti =
      run_graph_int(G, quantize_input(G.tensors[size_t(G.input)], images.data(), n)).tensors;
  double sum = 0;
  int agree = 0, right_f = 0, right_q = 0;
  a.cosine_min = 1;
  for (int i = 0; i < n; ++i) {
    int C = 0, per = 0;
    const std::vector<double> q = dequantized_output(net, ti, i, &C, &per);
    const auto tf = run_float_image(g, images.data() + i * per_in);
    const std::vector<float>& f = tf[size_t(g.outputs.at(0))];
    // Finite images can still overflow float32 in the network: the cosine was printed as nan.
    for (float x : f)
      if (!std::isfinite(x))
        throw InputError("", 0, "",
                         fmt::format("image {}: the float network's output is not finite (values "
                                     "too large for float32 arithmetic?)",
                                     i));
    double dot = 0, nf = 0, nq = 0;
    size_t af = 0, aq = 0;
    for (size_t k = 0; k < q.size(); ++k) {
      dot += q[k] * f[k];
      nf += double(f[k]) * f[k];
      nq += q[k] * q[k];
      if (f[k] > f[af]) af = k;
      if (q[k] > q[aq]) aq = k;
    }
    // Two zero vectors agree; one zero vector against a non-zero one does not.
    const double c =
        nf == 0 && nq == 0 ? 1.0 : (nf == 0 || nq == 0 ? 0.0 : dot / std::sqrt(nf * nq));
    sum += c;
    a.cosine_min = std::min(a.cosine_min, c);
    a.classifier = C > 1 && per == C;
    agree += af == aq;
    if (labels) {
      right_f += int64_t(af) == (*labels)[size_t(i)];
      right_q += int64_t(aq) == (*labels)[size_t(i)];
    }
  }
  if (labels) {
    a.top1_float = double(right_f) / n;
    a.top1_int = double(right_q) / n;
  }
  a.cosine_mean = sum / n;
  a.top1 = double(agree) / n;
  return a;
}

std::string mix_text(const QuantizeOptions& o) {
  std::string s = o.sp2_auto ? fmt::format("auto [{}, {}]", o.auto_lo, o.auto_hi)
                             : fmt::format("sp2_fraction {}", o.sp2_fraction);
  if (!o.sp2_fraction_per_layer.empty())
    s += fmt::format(" ({} layers overridden)", o.sp2_fraction_per_layer.size());
  if (o.fixed8_fraction > 0) s += fmt::format(", fixed8 {}", o.fixed8_fraction);
  if (!o.fixed8_fraction_per_layer.empty())
    s += fmt::format(" ({} layers' fixed8 overridden)", o.fixed8_fraction_per_layer.size());
  return s;
}

}  // namespace

Accuracy evaluate(const ImportedNetwork& net, const std::vector<float>& images, int n,
                  const std::vector<int64_t>* labels) {
  Accuracy a = evaluate_net(net, images, n, labels);
  // The share of SP2 rows over the whole network, which per-layer and auto mixes make differ
  // from workload.sp2_fraction.
  int64_t rows = 0, sp2 = 0;
  for (const QuantLayer& l : net.qn.graph.layers)
    for (uint8_t s : l.scheme) {
      ++rows;
      sp2 += s == uint8_t(Scheme::Sp2);
    }
  a.sp2_fraction = rows ? double(sp2) / double(rows) : 0.0;
  a.mix = mix_text(net.options);
  return a;
}

Accuracy evaluate_mix(const ImportedNetwork& net, double sp2_fraction,
                      const std::vector<float>& images, int n, const std::vector<int64_t>* labels) {
  ImportedNetwork other;
  other.fg = net.fg;
  other.options = net.options;
  other.options.sp2_fraction = sp2_fraction;
  other.options.sp2_auto = false;
  other.options.sp2_fraction_per_layer.clear();
  other.options.fixed8_fraction_per_layer.clear();
  other.options.fixed8_fraction = std::min(other.options.fixed8_fraction, 1.0 - sp2_fraction);
  // The same activation scales as the run's network: only the weights change.
  std::vector<TensorRange> ranges(net.fg.tensors.size());
  // Recover the ranges from the quantized tensors (scale and zero point define them exactly).
  const int top = (1 << net.options.act_bits) - 1;
  for (size_t t = 0; t < ranges.size(); ++t) {
    const TensorDesc& d = net.qn.graph.tensors[t];
    if (d.scale <= 0) {
      ranges[t] = {0, 0};
      continue;
    }
    ranges[t].lo = float(-d.scale * d.zero_point);
    ranges[t].hi = float(d.scale * (top - d.zero_point));
  }
  other.qn = quantize_graph(other.fg, ranges, other.options);
  Accuracy a = evaluate_net(other, images, n, labels);
  a.sp2_fraction = sp2_fraction;
  a.mix = mix_text(other.options);
  return a;
}

std::vector<int64_t> read_labels(const std::string& path, const std::string& key,
                                 const ImportedNetwork& net, int n) {
  NpyArray a;
  std::vector<int64_t> v;
  try {
    a = read_npy(path);
    v = npy_to_int64(a, path);
  } catch (const InputError& e) {
    throw with_key(e, path, key);
  }
  if (a.shape.size() != 1 || a.shape[0] != n) {
    std::string got;
    for (size_t i = 0; i < a.shape.size(); ++i) got += (i ? ", " : "") + std::to_string(a.shape[i]);
    throw InputError(path, 0, key,
                     fmt::format("expected one integer label per image: shape [{}] (got shape "
                                 "[{}])",
                                 n, got));
  }
  const TensorDesc& out = net.qn.graph.tensors[size_t(net.qn.graph.outputs.at(0))];
  const int64_t classes = int64_t(out.c) * out.h * out.w;
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] < 0 || v[i] >= classes)
      throw InputError(path, 0, key,
                       fmt::format("label {} of image {} is not a class of the network's {} "
                                   "outputs (0..{})",
                                   v[i], i, classes, classes - 1));
  return v;
}

nlohmann::json imported_json(const ImportedNetwork& net) {
  using nlohmann::json;
  json j;
  j["calibration"] = {{"file", net.calibration.empty() ? json(nullptr) : json(net.calibration)},
                      {"images", net.calibration_images},
                      {"synthetic", net.calibration.empty()}};
  json layers = json::array();
  for (const LayerQuantInfo& l : net.qn.layers)
    layers.push_back({{"name", l.name},
                      {"sp2_fraction", l.sp2_fraction},
                      {"rel_err_fixed", l.err_fixed},
                      {"rel_err_sp2", l.err_sp2},
                      {"rel_err_mix", l.err_mix}});
  j["quantization"] = {{"mix", mix_text(net.options)}, {"layers", layers}};
  return j;
}

nlohmann::json accuracy_json(const std::vector<Accuracy>& v) {
  using nlohmann::json;
  json mixes = json::array();
  for (const Accuracy& a : v)
    mixes.push_back({{"mix", a.mix},
                     {"sp2_fraction", a.sp2_fraction},
                     {"images", a.images},
                     {"cosine_mean", a.cosine_mean},
                     {"cosine_min", a.cosine_min},
                     {"top1_agreement", a.classifier ? json(a.top1) : json(nullptr)},
                     {"top1_float", a.top1_float < 0 ? json(nullptr) : json(a.top1_float)},
                     {"top1_int", a.top1_int < 0 ? json(nullptr) : json(a.top1_int)}});
  json j = mixes.empty() ? json::object() : mixes[0];
  j["mixes"] = mixes;
  return j;
}

void print_imported(std::ostream& os, const ImportedNetwork& net) {
  if (net.calibration.empty())
    os << fmt::format(
        "calibration: none: activation ranges are synthetic ({} seeded random images; set "
        "workload.calibration)\n",
        net.calibration_images);
  else
    os << fmt::format("calibration: {} images from {}\n", net.calibration_images, net.calibration);
  os << fmt::format("quantization error (relative, ||w - q||^2 / ||w||^2), {}:\n",
                    mix_text(net.options));
  os << fmt::format("{:<24} {:>6} {:>10} {:>10} {:>10}\n", "layer", "SP2", "fixed", "sp2", "mix");
  for (const LayerQuantInfo& l : net.qn.layers)
    os << fmt::format("{:<24} {:>6.2f} {:>10.5f} {:>10.5f} {:>10.5f}\n", l.name, l.sp2_fraction,
                      l.err_fixed, l.err_sp2, l.err_mix);
}

void print_accuracy(std::ostream& os, const std::vector<Accuracy>& v) {
  for (const Accuracy& a : v) {
    os << fmt::format("accuracy ({}): {} images, cosine {:.5f} (min {:.5f})", a.mix, a.images,
                      a.cosine_mean, a.cosine_min);
    if (a.classifier) os << fmt::format(", top-1 agreement {:.1f}%", 100.0 * a.top1);
    if (a.top1_int >= 0)
      os << fmt::format("; against the labels: float {:.1f}%, integer {:.1f}%",
                        100.0 * a.top1_float, 100.0 * a.top1_int);
    os << "\n";
  }
}

}  // namespace msq
