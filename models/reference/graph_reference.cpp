#include "models/reference/graph_reference.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "models/error.h"
#include "models/functional_model.h"

namespace msq {

namespace {

OutTensor shaped(const TensorDesc& d) {
  OutTensor o;
  o.b = d.b, o.c = d.c, o.h = d.h, o.w = d.w;
  o.data.assign(o.size(), 0);
  return o;
}

int64_t at(const OutTensor& t, int64_t b, int64_t c, int64_t h, int64_t w) {
  return t.data[size_t(((b * t.c + c) * t.h + h) * t.w + w)];
}

// round-half-up shift and clamp, with the product wrapped to int64 as the contract says
int64_t rescale(int64_t sum, int64_t mult, int shift, int64_t zero, int64_t lo, int64_t hi) {
  const uint64_t p = uint64_t(sum) * uint64_t(mult) + (uint64_t(1) << (shift - 1));
  const int64_t y = (int64_t(p) >> shift) + zero;
  return std::clamp(y, lo, hi);
}

}  // namespace

ActTensor layer_input(const OutTensor& t, const LayerShape& s) {
  ActTensor a;
  a.b = s.batch, a.c = s.in_c, a.h = s.in_h, a.w = s.in_w;
  a.data.resize(t.data.size());
  for (size_t i = 0; i < t.data.size(); ++i) a.data[i] = uint16_t(t.data[i]);
  return a;
}

OutTensor reference_op(const Op& op, const std::vector<const OutTensor*>& in,
                       const std::vector<const TensorDesc*>& in_desc, const TensorDesc& out_desc) {
  OutTensor o = shaped(out_desc);
  const OutTensor& x = *in[0];
  const int64_t z = out_desc.zero_point;
  switch (op.kind) {
    case OpKind::Add: {
      const OutTensor& y = *in[1];
      const int64_t za = in_desc[0]->zero_point, zb = in_desc[1]->zero_point;
      for (size_t i = 0; i < o.data.size(); ++i) {
        const int64_t s =
            int64_t(op.mult_a) * (x.data[i] - za) + int64_t(op.mult_b) * (y.data[i] - zb);
        o.data[i] = rescale(s, 1, op.shift, z, op.lo, op.hi);
      }
      return o;
    }
    case OpKind::MaxPool:
    case OpKind::AvgPool:
    case OpKind::GlobalAvgPool: {
      const bool global = op.kind == OpKind::GlobalAvgPool;
      const int kh = global ? x.h : op.kh, kw = global ? x.w : op.kw;
      const int sh = global ? 1 : op.sh, sw = global ? 1 : op.sw;
      const int ph = global ? 0 : op.ph, pw = global ? 0 : op.pw;
      const int64_t zin = in_desc[0]->zero_point;
      for (int b = 0; b < o.b; ++b)
        for (int c = 0; c < o.c; ++c)
          for (int oh = 0; oh < o.h; ++oh)
            for (int ow = 0; ow < o.w; ++ow) {
              int64_t best = -1, sum = 0;
              for (int i = 0; i < kh; ++i)
                for (int j = 0; j < kw; ++j) {
                  const int ih = oh * sh - ph + i, iw = ow * sw - pw + j;
                  if (ih < 0 || ih >= x.h || iw < 0 || iw >= x.w) continue;  // padding adds 0
                  const int64_t v = at(x, b, c, ih, iw);
                  best = std::max(best, v);
                  sum += v - zin;
                }
              o.data[size_t(((int64_t(b) * o.c + c) * o.h + oh) * o.w + ow)] =
                  op.kind == OpKind::MaxPool ? best
                                             : rescale(sum, op.mult_a, op.shift, z, op.lo, op.hi);
            }
      return o;
    }
    case OpKind::Concat: {
      int c0 = 0;
      for (const OutTensor* t : in) {
        for (int b = 0; b < o.b; ++b)
          for (int c = 0; c < t->c; ++c)
            for (int h = 0; h < o.h; ++h)
              for (int w = 0; w < o.w; ++w)
                o.data[size_t(((int64_t(b) * o.c + c0 + c) * o.h + h) * o.w + w)] =
                    at(*t, b, c, h, w);
        c0 += t->c;
      }
      return o;
    }
    case OpKind::Flatten:
      o.data = x.data;
      return o;
    case OpKind::Conv:
    case OpKind::Fc:
      break;
  }
  throw std::logic_error("reference_op: a Conv / Fc op");
}

GraphValues run_graph_functional(const Graph& g, const std::vector<QuantLayer>& layers,
                                 const ActTensor& input) {
  GraphValues v;
  v.tensors.resize(g.tensors.size());
  v.overflows.assign(g.ops.size(), 0);
  const TensorDesc& id = g.tensors[size_t(g.input)];
  if (input.b != id.b || input.c != id.c || input.h != id.h || input.w != id.w ||
      input.data.size() != input.size())
    throw InputError(
        fmt::format("graph {}: the input is [{}, {}, {}, {}], the network expects "
                    "[{}, {}, {}, {}]",
                    g.name, input.b, input.c, input.h, input.w, id.b, id.c, id.h, id.w));
  OutTensor& x = v.tensors[size_t(g.input)];
  x.b = input.b, x.c = input.c, x.h = input.h, x.w = input.w;
  x.data.assign(input.data.begin(), input.data.end());
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const Op& op = g.ops[i];
    if (op.kind == OpKind::Conv || op.kind == OpKind::Fc) {
      const QuantLayer& L = layers[size_t(op.layer)];
      FunctionalResult r = run_functional(L, layer_input(v.tensors[size_t(op.inputs[0])], L.shape));
      v.tensors[size_t(op.output)] = std::move(r.out);
      v.overflows[i] = r.overflows;
      continue;
    }
    std::vector<const OutTensor*> in;
    std::vector<const TensorDesc*> d;
    for (int t : op.inputs) in.push_back(&v.tensors[size_t(t)]), d.push_back(&g.tensors[size_t(t)]);
    v.tensors[size_t(op.output)] = reference_op(op, in, d, g.tensors[size_t(op.output)]);
  }
  return v;
}

GraphValues run_graph_int(const Graph& g, const ActTensor& input) {
  if (input.b == g.tensors[size_t(g.input)].b) return run_graph_functional(g, g.layers, input);
  Graph r = g;
  for (TensorDesc& t : r.tensors) t.b = input.b;
  for (QuantLayer& L : r.layers) L.shape.batch = input.b;
  return run_graph_functional(r, r.layers, input);
}

ActTensor quantize_input(const TensorDesc& t, const float* images, int n) {
  ActTensor a;
  a.b = n, a.c = t.c, a.h = t.h, a.w = t.w;
  a.data.resize(a.size());
  const int64_t top = (int64_t(1) << t.bits) - 1;
  const double s = t.scale > 0 ? t.scale : 1.0;
  for (size_t i = 0; i < a.size(); ++i)
    a.data[i] =
        uint16_t(std::clamp<int64_t>(std::llround(double(images[i]) / s) + t.zero_point, 0, top));
  return a;
}

}  // namespace msq
