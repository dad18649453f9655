#include "models/reference/float_model.h"

#include <algorithm>
#include <cmath>

namespace msq {
namespace {

float clamp_op(const FloatOp& op, float v) {
  if (!op.relu) return v;
  return std::min(std::max(v, 0.f), op.clamp_hi);
}

// x zero-padded by (ph, pw) on each side, so that the window loops need no bounds checks.
std::vector<float> padded(const std::vector<float>& x, const FloatTensorDesc& d, int ph, int pw,
                          float fill) {
  const int H = d.h + 2 * ph, W = d.w + 2 * pw;
  std::vector<float> p(size_t(d.c) * H * W, fill);
  for (int c = 0; c < d.c; ++c)
    for (int h = 0; h < d.h; ++h)
      std::copy_n(&x[(size_t(c) * d.h + h) * d.w], d.w, &p[(size_t(c) * H + h + ph) * W + pw]);
  return p;
}

void conv(const FloatOp& op, const FloatTensorDesc& di, const std::vector<float>& x,
          const FloatTensorDesc& dout, std::vector<float>& y) {
  const std::vector<float> p = padded(x, di, op.ph, op.pw, 0.f);
  const int H = di.h + 2 * op.ph, W = di.w + 2 * op.pw;
  const int cg = di.c / op.groups, mg = op.out_c / op.groups;
  const int OH = dout.h, OW = dout.w;
  std::vector<double> acc(size_t(OH) * OW);
  for (int m = 0; m < op.out_c; ++m) {
    const int g = m / mg;
    std::fill(acc.begin(), acc.end(), double(op.bias[size_t(m)]));
    for (int c = 0; c < cg; ++c)
      for (int i = 0; i < op.kh; ++i)
        for (int j = 0; j < op.kw; ++j) {
          const double wv = op.weights[((size_t(m) * cg + c) * op.kh + i) * op.kw + j];
          if (wv == 0) continue;
          const float* src = &p[(size_t(g * cg + c) * H + i) * W + j];
          for (int oh = 0; oh < OH; ++oh) {
            const float* row = src + size_t(oh) * op.sh * W;
            double* a = &acc[size_t(oh) * OW];
            for (int ow = 0; ow < OW; ++ow) a[ow] += wv * row[size_t(ow) * op.sw];
          }
        }
    for (size_t i = 0; i < acc.size(); ++i)
      y[size_t(m) * OH * OW + i] = clamp_op(op, float(acc[i]));
  }
}

}  // namespace

std::vector<std::vector<float>> run_float_image(const FloatGraph& g, const float* input) {
  std::vector<std::vector<float>> t(g.tensors.size());
  const FloatTensorDesc& din = g.tensors[size_t(g.input)];
  t[size_t(g.input)].assign(input, input + din.size());
  for (const FloatOp& op : g.ops) {
    const FloatTensorDesc& dout = g.tensors[size_t(op.output)];
    const FloatTensorDesc& di = g.tensors[size_t(op.inputs[0])];
    const std::vector<float>& x = t[size_t(op.inputs[0])];
    std::vector<float>& y = t[size_t(op.output)];
    y.assign(size_t(dout.size()), 0.f);
    switch (op.kind) {
      case OpKind::Conv:
        conv(op, di, x, dout, y);
        break;
      case OpKind::Fc: {
        const int64_t K = di.size();
        for (int m = 0; m < op.out_c; ++m) {
          double a = op.bias[size_t(m)];
          for (int64_t k = 0; k < K; ++k) a += double(op.weights[size_t(m * K + k)]) * x[size_t(k)];
          y[size_t(m)] = clamp_op(op, float(a));
        }
        break;
      }
      case OpKind::Add: {
        const std::vector<float>& b = t[size_t(op.inputs[1])];
        for (size_t i = 0; i < y.size(); ++i) y[i] = clamp_op(op, x[i] + b[i]);
        break;
      }
      case OpKind::MaxPool:
      case OpKind::AvgPool: {
        const bool mx = op.kind == OpKind::MaxPool;
        const std::vector<float> p =
            padded(x, di, op.ph, op.pw, mx ? -std::numeric_limits<float>::infinity() : 0.f);
        const int H = di.h + 2 * op.ph, W = di.w + 2 * op.pw;
        const double area = double(op.kh) * op.kw;
        for (int c = 0; c < di.c; ++c)
          for (int oh = 0; oh < dout.h; ++oh)
            for (int ow = 0; ow < dout.w; ++ow) {
              double a = mx ? -std::numeric_limits<double>::infinity() : 0.0;
              for (int i = 0; i < op.kh; ++i)
                for (int j = 0; j < op.kw; ++j) {
                  const float v = p[(size_t(c) * H + oh * op.sh + i) * W + ow * op.sw + j];
                  a = mx ? std::max(a, double(v)) : a + v;
                }
              const float r = mx ? float(a) : clamp_op(op, float(a / area));
              y[(size_t(c) * dout.h + oh) * dout.w + ow] = r;
            }
        break;
      }
      case OpKind::GlobalAvgPool: {
        const int64_t hw = int64_t(di.h) * di.w;
        for (int c = 0; c < di.c; ++c) {
          double a = 0;
          for (int64_t i = 0; i < hw; ++i) a += x[size_t(c * hw + i)];
          y[size_t(c)] = clamp_op(op, float(a / double(hw)));
        }
        break;
      }
      case OpKind::Concat: {
        size_t at = 0;
        for (int in : op.inputs) {
          const std::vector<float>& v = t[size_t(in)];
          std::copy(v.begin(), v.end(), y.begin() + std::ptrdiff_t(at));
          at += v.size();
        }
        break;
      }
      case OpKind::Flatten:
        y = x;
        break;
    }
  }
  return t;
}

}  // namespace msq
