#include "models/workload/quantize_graph.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <stdexcept>

#include "models/arith/sp2.h"
#include "models/error.h"
#include "models/quantizer.h"
#include "models/reference/float_model.h"

namespace msq {

std::vector<TensorRange> calibrate(const FloatGraph& g, const std::vector<float>& images, int n) {
  std::vector<TensorRange> r(g.tensors.size());
  std::vector<bool> seen(g.tensors.size(), false);
  const int64_t per = g.tensors[size_t(g.input)].size();
  for (int i = 0; i < n; ++i) {
    const auto t = run_float_image(g, images.data() + i * per);
    for (size_t k = 0; k < t.size(); ++k) {
      if (t[k].empty()) continue;
      const auto [lo, hi] = std::minmax_element(t[k].begin(), t[k].end());
      if (!seen[k]) r[k] = {*lo, *hi};
      r[k].lo = std::min(r[k].lo, *lo);
      r[k].hi = std::max(r[k].hi, *hi);
      seen[k] = true;
    }
  }
  return r;
}

std::vector<float> synthetic_images(const FloatGraph& g, int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> nd(0.f, 1.f);
  std::vector<float> v(size_t(n * g.tensors[size_t(g.input)].size()));
  for (float& x : v) x = nd(rng);
  return v;
}

void quantize_multiplier(double m, int32_t* mult, int* shift) {
  if (!(m >= 0) || !std::isfinite(m)) throw std::out_of_range("multiplier is not finite");
  if (m == 0) {
    *mult = 0;
    *shift = 1;
    return;
  }
  int e = 0;
  const double f = std::frexp(m, &e);  // m = f * 2^e, f in [0.5, 1)
  int64_t M = std::llround(f * double(int64_t(1) << 31));
  int S = 31 - e;
  if (M == (int64_t(1) << 31)) {
    M >>= 1;
    --S;
  }
  if (S > 62) {
    // Too small for a normalized multiplier within the largest shift: give up precision bits.
    M = std::llround(std::ldexp(double(M), 62 - S));
    S = 62;
  }
  if (S < 1) throw std::out_of_range(fmt::format("multiplier {} needs a shift below 1", m));
  *mult = int32_t(M);
  *shift = S;
}

namespace {

struct QParams {
  double s = 1;
  int32_t z = 0;
};

// Tensors that must share scale and zero point: MaxPool and Flatten pass them through, Concat's
// inputs share its output's. Union-find over tensor ids.
struct Groups {
  std::vector<int> parent;
  explicit Groups(size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
  int find(int a) {
    return parent[size_t(a)] == a ? a : parent[size_t(a)] = find(parent[size_t(a)]);
  }
  void join(int a, int b) { parent[size_t(find(a))] = find(b); }
};

double row_divisor(const QuantLayer& L, int64_t m) {
  const int b = L.bits[size_t(m)];
  if (L.scheme[size_t(m)] == uint8_t(Scheme::Sp2)) return double(int64_t(1) << Sp2Format(b).F);
  return double((int64_t(1) << (b - 1)) - 1);
}

}  // namespace

QuantizedNet quantize_graph(const FloatGraph& g, const std::vector<TensorRange>& ranges,
                            const QuantizeOptions& o) {
  QuantizedNet out;
  Graph& G = out.graph;
  G.name = g.name;
  G.input = g.input;
  G.outputs = g.outputs;
  const int top = (1 << o.act_bits) - 1;

  for (size_t t = 0; t < ranges.size(); ++t)
    if (!std::isfinite(ranges[t].lo) || !std::isfinite(ranges[t].hi))
      throw InputError("", 0, fmt::format("tensor '{}'", g.tensors[t].name),
                       "the float network's values are not finite on the calibration images");
  // Activation scales: each group's range is the union of its members', widened to include 0.
  Groups groups(g.tensors.size());
  for (const FloatOp& op : g.ops)
    if (op.kind == OpKind::MaxPool || op.kind == OpKind::Flatten || op.kind == OpKind::Concat)
      for (int in : op.inputs) groups.join(in, op.output);
  std::vector<TensorRange> gr(g.tensors.size(), TensorRange{0, 0});
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    const int r = groups.find(int(t));
    gr[size_t(r)].lo = std::min({gr[size_t(r)].lo, ranges[t].lo, 0.f});
    gr[size_t(r)].hi = std::max({gr[size_t(r)].hi, ranges[t].hi, 0.f});
  }
  std::vector<QParams> qp(g.tensors.size());
  for (size_t t = 0; t < g.tensors.size(); ++t) {
    const TensorRange& r = gr[size_t(groups.find(int(t)))];
    QParams& q = qp[t];
    // A tensor that is 0 on every calibration input still needs a positive scale.
    q.s = r.hi > r.lo ? (double(r.hi) - double(r.lo)) / top : 1.0;
    q.z = int32_t(std::lround(-double(r.lo) / q.s));
    q.z = std::clamp(q.z, 0, top);
    const FloatTensorDesc& d = g.tensors[t];
    TensorDesc td;
    td.name = d.name;
    td.b = o.batch;
    td.c = d.c, td.h = d.h, td.w = d.w;
    td.bits = o.act_bits;
    td.scale = q.s;
    td.zero_point = q.z;
    G.tensors.push_back(td);
  }

  // The clamp of a fused Relu / Relu6 / Clip(0, x) in output codes.
  const auto clamp_of = [&](const FloatOp& op, int32_t* lo, int32_t* hi) {
    const QParams& q = qp[size_t(op.output)];
    *lo = op.relu ? q.z : 0;
    *hi = top;
    if (op.relu && std::isfinite(op.clamp_hi))
      *hi = int32_t(std::min<int64_t>(top, q.z + std::llround(op.clamp_hi / q.s)));
  };

  const FloatOp* last_layer = nullptr;
  for (const FloatOp& op : g.ops)
    if (op.kind == OpKind::Conv || op.kind == OpKind::Fc) last_layer = &op;

  for (const FloatOp& op : g.ops) {
    Op gop;
    gop.name = op.name;
    gop.kind = op.kind;
    gop.inputs = op.inputs;
    gop.output = op.output;
    gop.kh = op.kh, gop.kw = op.kw, gop.sh = op.sh, gop.sw = op.sw, gop.ph = op.ph, gop.pw = op.pw;
    const QParams& qo = qp[size_t(op.output)];
    const auto bad = [&](const std::string& what) {
      throw InputError("", 0, fmt::format("layer '{}'", op.name), what);
    };
    const auto mult = [&](double m, int32_t* M, int* S) {
      try {
        quantize_multiplier(m, M, S);
      } catch (const std::out_of_range& e) {
        bad(std::string("requantization: ") + e.what());
      }
    };
    switch (op.kind) {
      case OpKind::Conv:
      case OpKind::Fc: {
        const FloatTensorDesc& di = g.tensors[size_t(op.inputs[0])];
        const QParams& qi = qp[size_t(op.inputs[0])];
        QuantLayer L;
        LayerShape& s = L.shape;
        s.name = op.name;
        s.type = op.kind == OpKind::Conv ? LayerType::Conv : LayerType::Fc;
        s.batch = o.batch;
        s.in_c = op.kind == OpKind::Fc ? int(di.size()) : di.c;
        s.in_h = op.kind == OpKind::Fc ? 1 : di.h;
        s.in_w = op.kind == OpKind::Fc ? 1 : di.w;
        s.out_c = op.out_c;
        s.kh = op.kh, s.kw = op.kw, s.sh = op.sh, s.sw = op.sw, s.ph = op.ph, s.pw = op.pw;
        s.groups = op.groups;
        L.act_bits = o.act_bits;
        L.acc_bits = o.acc_bits;
        L.overflow = o.overflow;
        const bool acc_out =
            o.last_layer_accumulators && &op == last_layer &&
            std::find(g.outputs.begin(), g.outputs.end(), op.output) != g.outputs.end();
        L.output = acc_out ? OutputKind::Accumulators : OutputKind::Activations;
        const int64_t M = s.m(), K = s.k();

        // The scheme mix of this layer.
        std::vector<RowError> re(static_cast<size_t>(M));
        double n2 = 0, e_fx = 0, e_sp = 0;
        int64_t prefer_sp2 = 0;
        for (int64_t m = 0; m < M; ++m) {
          re[size_t(m)] = row_error(op.weights.data() + m * K, K, o.weight_bits);
          n2 += re[size_t(m)].norm2;
          e_fx += re[size_t(m)].sse_fixed;
          e_sp += re[size_t(m)].sse_sp2;
          prefer_sp2 += re[size_t(m)].sse_sp2 < re[size_t(m)].sse_fixed;
        }
        double r = o.sp2_fraction;
        if (o.sp2_auto) r = std::clamp(double(prefer_sp2) / double(M), o.auto_lo, o.auto_hi);
        if (const auto it = o.sp2_fraction_per_layer.find(op.name);
            it != o.sp2_fraction_per_layer.end())
          r = it->second;
        const double f8 = std::min(o.fixed8_fraction, 1.0 - r);
        const QuantizedMatrix q = quantize_matrix(op.weights.data(), M, K, r, f8, o.weight_bits);
        L.weights = q.weights;
        L.scheme = q.scheme;
        L.bits = q.bits;
        L.rel_err_sp2 = q.rel_err_sp2;
        L.rel_err_fixed = q.rel_err_fixed;
        double e_mix = 0;
        for (int64_t m = 0; m < M; ++m) {
          if (q.scheme[size_t(m)] == uint8_t(Scheme::Sp2))
            e_mix += re[size_t(m)].sse_sp2;
          else if (q.bits[size_t(m)] == o.weight_bits)
            e_mix += re[size_t(m)].sse_fixed;
          else
            e_mix += row_error(op.weights.data() + m * K, K, q.bits[size_t(m)]).sse_fixed;
        }
        LayerQuantInfo info;
        info.name = op.name;
        info.sp2_fraction = r;
        info.err_fixed = n2 > 0 ? e_fx / n2 : 0;
        info.err_sp2 = n2 > 0 ? e_sp / n2 : 0;
        info.err_mix = n2 > 0 ? e_mix / n2 : 0;

        // Biases in accumulator units with the input zero point folded in, and the multipliers.
        L.in_zero = qi.z;
        L.out_zero = acc_out ? 0 : qo.z;
        clamp_of(op, &L.lo, &L.hi);
        L.bias.resize(size_t(M));
        L.rq_mult.resize(size_t(M));
        L.rq_shift.resize(size_t(M));
        std::vector<double> acc_scale(static_cast<size_t>(M));
        for (int64_t m = 0; m < M; ++m) {
          const double sw = q.alpha[size_t(m)] / row_divisor(L, m);
          const double sacc = qi.s * sw;  // real value of one accumulator unit
          acc_scale[size_t(m)] = sacc;
          int64_t wsum = 0;
          for (int64_t k = 0; k < K; ++k) wsum += L.weights[size_t(m * K + k)];
          const double b = sacc > 0 ? std::nearbyint(op.bias[size_t(m)] / sacc) : 0.0;
          const double folded = b - (o.fold_zero_point ? double(qi.z) * double(wsum) : 0.0);
          if (!(std::fabs(folded) <= double(INT32_MAX)))
            bad(
                fmt::format("row {}: the bias {} with the input zero point folded in is {} "
                            "accumulator units, outside int32",
                            m, op.bias[size_t(m)], folded));
          L.bias[size_t(m)] = int32_t(folded);
          int32_t Mq = 0;
          int Sq = 1;
          if (!acc_out) mult(sacc / qo.s, &Mq, &Sq);
          L.rq_mult[size_t(m)] = Mq;
          L.rq_shift[size_t(m)] = int8_t(Sq);
        }
        if (acc_out) {
          // bits stay the activation width, as in a network file's graph: the layer's
          // OutputKind says the tensor holds accumulators (check_graph lets only an output do).
          G.tensors[size_t(op.output)].scale = 0;
          G.tensors[size_t(op.output)].zero_point = 0;
          out.acc_scale.push_back(std::move(acc_scale));
        } else {
          out.acc_scale.emplace_back();
        }
        gop.layer = int(G.layers.size());
        G.layers.push_back(std::move(L));
        out.layers.push_back(info);
        break;
      }
      case OpKind::Add: {
        const QParams &qa = qp[size_t(op.inputs[0])], &qb = qp[size_t(op.inputs[1])];
        const double ma = qa.s / qo.s, mb = qb.s / qo.s;
        // One shift for both: the larger multiplier is normalized to [2^30, 2^31).
        int e = 0;
        std::frexp(std::max(ma, mb), &e);
        int S = std::clamp(31 - e, 1, 62);
        double A = std::nearbyint(std::ldexp(ma, S)), B = std::nearbyint(std::ldexp(mb, S));
        // A multiplier within 2^-32 below a power of two rounds up to 2^31: one bit less of shift
        // keeps it an int32 (as quantize_multiplier does), instead of refusing a valid network.
        if (std::max(A, B) > double(INT32_MAX) && S > 1) {
          --S;
          A = std::nearbyint(std::ldexp(ma, S));
          B = std::nearbyint(std::ldexp(mb, S));
        }
        if (A > double(INT32_MAX) || B > double(INT32_MAX))
          bad(fmt::format("requantization: multipliers {} and {} do not fit int32", ma, mb));
        gop.mult_a = int32_t(A);
        gop.mult_b = int32_t(B);
        gop.shift = S;
        clamp_of(op, &gop.lo, &gop.hi);
        break;
      }
      case OpKind::AvgPool:
      case OpKind::GlobalAvgPool: {
        const QParams& qi = qp[size_t(op.inputs[0])];
        const double area = double(op.kh) * op.kw;
        int S = 1;
        mult(qi.s / (qo.s * area), &gop.mult_a, &S);
        gop.shift = S;
        clamp_of(op, &gop.lo, &gop.hi);
        break;
      }
      case OpKind::MaxPool:
      case OpKind::Concat:
      case OpKind::Flatten:
        gop.lo = 0;
        gop.hi = top;
        break;
    }
    G.ops.push_back(std::move(gop));
  }
  return out;
}

}  // namespace msq
