#include "models/reference/graph_exec.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace msq {
namespace {

int64_t clamp64(int64_t v, int64_t lo, int64_t hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

// ((v * mult + 2^(shift-1)) >> shift), the product wrapped to int64 like the hardware's.
int64_t scale(int64_t v, int32_t mult, int shift) {
  const uint64_t p = uint64_t(v) * uint64_t(int64_t(mult)) + (uint64_t(1) << (shift - 1));
  return int64_t(p) >> shift;
}

int64_t acc_fit(__int128 v, int bits, Overflow mode) {
  const int64_t lo = bits == 64 ? INT64_MIN : -(int64_t(1) << (bits - 1));
  const int64_t hi = bits == 64 ? INT64_MAX : (int64_t(1) << (bits - 1)) - 1;
  if (v >= lo && v <= hi) return int64_t(v);
  if (mode == Overflow::Saturate) return v < lo ? lo : hi;
  const int sh = 64 - bits;
  return int64_t(uint64_t(v) << sh) >> sh;
}

void layer(const QuantLayer& L, const OutTensor& x, OutTensor& y) {
  const LayerShape& s = L.shape;
  const int B = x.b, C = s.in_c, H = s.in_h, W = s.in_w;
  const int PH = H + 2 * s.ph, PW = W + 2 * s.pw;
  const int OH = s.out_h(), OW = s.out_w(), M = s.out_c, G = s.groups;
  const int cg = C / G, mg = M / G;
  const int64_t top = L.hi < 0 ? (int64_t(1) << L.act_bits) - 1 : L.hi;
  y.b = B, y.c = M, y.h = OH, y.w = OW;
  y.data.assign(size_t(B) * M * OH * OW, 0);
  std::vector<int64_t> pad(size_t(C) * PH * PW);
  std::vector<int64_t> acc(size_t(OH) * OW);
  for (int b = 0; b < B; ++b) {
    // Padded positions hold the input zero point (its effect on the sums is in the bias).
    std::fill(pad.begin(), pad.end(), int64_t(L.in_zero));
    for (int c = 0; c < C; ++c)
      for (int h = 0; h < H; ++h)
        for (int w = 0; w < W; ++w)
          pad[(size_t(c) * PH + h + s.ph) * PW + w + s.pw] =
              x.data[((size_t(b) * C + c) * H + h) * W + w];
    for (int m = 0; m < M; ++m) {
      const int g = m / mg;
      std::fill(acc.begin(), acc.end(), int64_t(L.bias[size_t(m)]));
      const int32_t* wrow = L.row(m);
      for (int c = 0; c < cg; ++c)
        for (int i = 0; i < s.kh; ++i)
          for (int j = 0; j < s.kw; ++j) {
            const int64_t wv = wrow[(int64_t(c) * s.kh + i) * s.kw + j];
            if (wv == 0) continue;
            const int64_t* src = &pad[(size_t(g * cg + c) * PH + i) * PW + j];
            for (int oh = 0; oh < OH; ++oh) {
              const int64_t* row = src + size_t(oh) * s.sh * PW;
              int64_t* a = &acc[size_t(oh) * OW];
              for (int ow = 0; ow < OW; ++ow) a[ow] += wv * row[size_t(ow) * s.sw];
            }
          }
      for (size_t n = 0; n < acc.size(); ++n) {
        // The sum is exact here; wrapping once at the end equals wrapping every addition, and
        // a saturating accumulator that never leaves its range does the same. Real layers stay
        // far inside 32 bits; the cycle model checks the per-addition rule itself.
        const int64_t a = acc_fit(acc[n], L.acc_bits, L.overflow);
        int64_t v = a;
        if (L.output == OutputKind::Activations)
          v = clamp64(scale(a, L.rq_mult[size_t(m)], L.rq_shift[size_t(m)]) + L.out_zero, L.lo,
                      top);
        y.data[(size_t(b) * M + m) * OH * OW + n] = v;
      }
    }
  }
}

}  // namespace

ActTensor quantize_input(const TensorDesc& t, const float* images, int n) {
  ActTensor a;
  a.b = n, a.c = t.c, a.h = t.h, a.w = t.w;
  a.data.resize(a.size());
  const int64_t top = (int64_t(1) << t.bits) - 1;
  const double s = t.scale > 0 ? t.scale : 1.0;
  for (size_t i = 0; i < a.size(); ++i)
    a.data[i] = uint16_t(clamp64(std::llround(double(images[i]) / s) + t.zero_point, 0, top));
  return a;
}

std::vector<OutTensor> run_graph_int(const Graph& g, const ActTensor& input) {
  std::vector<OutTensor> t(g.tensors.size());
  OutTensor& in = t[size_t(g.input)];
  in.b = input.b, in.c = input.c, in.h = input.h, in.w = input.w;
  in.data.assign(input.data.begin(), input.data.end());
  for (const Op& op : g.ops) {
    const TensorDesc& d = g.tensors[size_t(op.output)];
    const OutTensor& x = t[size_t(op.inputs[0])];
    const int32_t zx = g.tensors[size_t(op.inputs[0])].zero_point;
    const int32_t zy = d.zero_point;
    OutTensor& y = t[size_t(op.output)];
    const int B = x.b;
    y.b = B, y.c = d.c, y.h = d.h, y.w = d.w;
    switch (op.kind) {
      case OpKind::Conv:
      case OpKind::Fc: {
        const QuantLayer& L = g.layers[size_t(op.layer)];
        layer(L, x, y);
        break;
      }
      case OpKind::Add: {
        const OutTensor& b = t[size_t(op.inputs[1])];
        const int32_t zb = g.tensors[size_t(op.inputs[1])].zero_point;
        y.data.resize(x.data.size());
        for (size_t i = 0; i < y.data.size(); ++i) {
          const int64_t s = int64_t(op.mult_a) * (x.data[i] - zx) +
                            int64_t(op.mult_b) * (b.data[i] - zb) + (int64_t(1) << (op.shift - 1));
          y.data[i] = clamp64((s >> op.shift) + zy, op.lo, op.hi);
        }
        break;
      }
      case OpKind::MaxPool:
      case OpKind::AvgPool:
      case OpKind::GlobalAvgPool: {
        const bool mx = op.kind == OpKind::MaxPool;
        const int C = x.c, H = x.h, W = x.w;
        y.data.assign(size_t(B) * d.c * d.h * d.w, 0);
        for (int b = 0; b < B; ++b)
          for (int c = 0; c < C; ++c)
            for (int oh = 0; oh < d.h; ++oh)
              for (int ow = 0; ow < d.w; ++ow) {
                int64_t a = mx ? INT64_MIN : 0;
                for (int i = 0; i < op.kh; ++i)
                  for (int j = 0; j < op.kw; ++j) {
                    const int h = oh * op.sh - op.ph + i, w = ow * op.sw - op.pw + j;
                    if (h < 0 || h >= H || w < 0 || w >= W)
                      continue;  // padding: never wins, adds 0
                    const int64_t v = x.data[((size_t(b) * C + c) * H + h) * W + w];
                    a = mx ? std::max(a, v) : a + (v - zx);
                  }
                if (!mx) a = clamp64(scale(a, op.mult_a, op.shift) + zy, op.lo, op.hi);
                y.data[((size_t(b) * C + c) * d.h + oh) * d.w + ow] = a;
              }
        break;
      }
      case OpKind::Concat: {
        y.data.assign(size_t(B) * d.c * d.h * d.w, 0);
        const size_t hw = size_t(d.h) * d.w;
        for (int b = 0; b < B; ++b) {
          size_t at = size_t(b) * d.c * hw;
          for (int in : op.inputs) {
            const OutTensor& v = t[size_t(in)];
            const size_t n = size_t(v.c) * hw;
            std::copy_n(v.data.begin() + std::ptrdiff_t(size_t(b) * n), n,
                        y.data.begin() + std::ptrdiff_t(at));
            at += n;
          }
        }
        break;
      }
      case OpKind::Flatten:
        y.data = x.data;
        break;
    }
  }
  return t;
}

}  // namespace msq
