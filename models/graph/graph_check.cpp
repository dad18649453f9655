#include "models/graph/graph_check.h"

#include <fmt/format.h>

#include "models/error.h"

namespace msq {

const char* op_kind_name(OpKind k) {
  switch (k) {
    case OpKind::Conv:
      return "conv";
    case OpKind::Fc:
      return "fc";
    case OpKind::Add:
      return "add";
    case OpKind::MaxPool:
      return "maxpool";
    case OpKind::AvgPool:
      return "avgpool";
    case OpKind::GlobalAvgPool:
      return "global_avgpool";
    case OpKind::Concat:
      return "concat";
    case OpKind::Flatten:
      return "flatten";
  }
  return "?";
}

namespace {

[[noreturn]] void bad_op(const Op& op, const std::string& what) {
  throw InputError("", 0, fmt::format("op {} ({})", clip_text(op.name), op_kind_name(op.kind)),
                   what);
}

std::string dims(const TensorDesc& t) {
  return fmt::format("[{}, {}, {}, {}]", t.b, t.c, t.h, t.w);
}

int pooled(int in, int k, int s, int p) {
  return (in + 2 * p - k) / s + 1;
}

}  // namespace

TensorDesc infer_output(const Op& op, const std::vector<const TensorDesc*>& in,
                        const QuantLayer* layer) {
  const auto arity = [&](size_t lo, size_t hi) {
    if (in.size() < lo || in.size() > hi)
      bad_op(op, lo == hi ? fmt::format("expected {} input(s) (got {})", lo, in.size())
                          : fmt::format("expected at least {} inputs (got {})", lo, in.size()));
  };
  TensorDesc o;
  if (!in.empty()) o = *in[0];
  o.name.clear();
  switch (op.kind) {
    case OpKind::Conv:
    case OpKind::Fc: {
      arity(1, 1);
      if (!layer) bad_op(op, "has no layer (weights)");
      const LayerShape& s = layer->shape;
      const TensorDesc& x = *in[0];
      if (op.kind == OpKind::Conv) {
        if (x.b != s.batch || x.c != s.in_c || x.h != s.in_h || x.w != s.in_w)
          bad_op(op, fmt::format("input {} is {}, the layer expects [{}, {}, {}, {}]", x.name,
                                 dims(x), s.batch, s.in_c, s.in_h, s.in_w));
        o.c = s.out_c, o.h = s.out_h(), o.w = s.out_w();
      } else {
        if (x.b != s.batch || int64_t(x.c) * x.h * x.w != s.in_c)
          bad_op(op, fmt::format("input {} is {} ({} values per image), the layer expects {}",
                                 x.name, dims(x), int64_t(x.c) * x.h * x.w, s.in_c));
        o.c = s.out_c, o.h = o.w = 1;
      }
      o.zero_point = layer->out_zero;
      return o;
    }
    case OpKind::Add:
      arity(2, 2);
      if (in[0]->b != in[1]->b || in[0]->c != in[1]->c || in[0]->h != in[1]->h ||
          in[0]->w != in[1]->w)
        bad_op(op, fmt::format("inputs {} {} and {} {} differ in shape (no broadcasting)",
                               in[0]->name, dims(*in[0]), in[1]->name, dims(*in[1])));
      return o;
    case OpKind::MaxPool:
    case OpKind::AvgPool: {
      arity(1, 1);
      if (op.kh < 1 || op.kw < 1 || op.sh < 1 || op.sw < 1)
        bad_op(op,
               fmt::format("expected a positive kernel and stride (got kernel {}x{}, stride {}x{})",
                           op.kh, op.kw, op.sh, op.sw));
      // Padding below the kernel keeps at least one in-bounds element in every window.
      if (op.ph < 0 || op.pw < 0 || op.ph >= op.kh || op.pw >= op.kw)
        bad_op(op, fmt::format("expected padding in 0..kernel-1 (got {}x{} for kernel {}x{})",
                               op.ph, op.pw, op.kh, op.kw));
      if (o.h + 2 * op.ph < op.kh || o.w + 2 * op.pw < op.kw)
        bad_op(op, fmt::format("kernel {}x{} is larger than the padded input {}", op.kh, op.kw,
                               dims(*in[0])));
      o.h = pooled(o.h, op.kh, op.sh, op.ph);
      o.w = pooled(o.w, op.kw, op.sw, op.pw);
      return o;
    }
    case OpKind::GlobalAvgPool:
      arity(1, 1);
      o.h = o.w = 1;
      return o;
    case OpKind::Concat: {
      arity(2, 1 << 20);
      int64_t c = 0;
      for (const TensorDesc* t : in) {
        if (t->b != o.b || t->h != o.h || t->w != o.w)
          bad_op(op, fmt::format("inputs {} {} and {} {} differ in batch or size", in[0]->name,
                                 dims(*in[0]), t->name, dims(*t)));
        if (t->zero_point != in[0]->zero_point || t->scale != in[0]->scale)
          bad_op(op, fmt::format("inputs {} and {} differ in scale or zero point (a concat's "
                                 "inputs share them)",
                                 in[0]->name, t->name));
        c += t->c;
      }
      if (c > (int64_t(1) << 30)) bad_op(op, "too many channels");
      o.c = int(c);
      return o;
    }
    case OpKind::Flatten: {
      arity(1, 1);
      const int64_t c = int64_t(o.c) * o.h * o.w;
      if (c > (int64_t(1) << 30)) bad_op(op, "too many values per image");
      o.c = int(c), o.h = o.w = 1;
      return o;
    }
  }
  bad_op(op, "unknown op kind");
}

void check_graph(const Graph& g, const std::vector<QuantLayer>& layers) {
  const int nt = int(g.tensors.size());
  const auto where = [&](const std::string& what) {
    return "graph " + clip_text(g.name) + ": " + what;
  };
  if (g.input < 0 || g.input >= nt)
    throw InputError(
        where(fmt::format("network input is tensor {}, which does not exist", g.input)));
  for (const TensorDesc& t : g.tensors) {
    if (t.bits < 1 || t.bits > 16)
      throw InputError(where(fmt::format("tensor {}: bits {} not in 1..16", t.name, t.bits)));
    if (t.zero_point < 0 || t.zero_point >= (1 << t.bits))
      throw InputError(where(
          fmt::format("tensor {}: zero point {} not a {}-bit code", t.name, t.zero_point, t.bits)));
    if (t.b < 1 || t.c < 1 || t.h < 1 || t.w < 1)
      throw InputError(where(fmt::format("tensor {}: non-positive shape", t.name)));
  }
  // produced[t]: the op that writes tensor t (-2: the network input, -1: nothing yet).
  std::vector<int> produced(size_t(nt), -1), writer(size_t(nt), -1);
  for (size_t i = 0; i < g.ops.size(); ++i)
    if (g.ops[i].output >= 0 && g.ops[i].output < nt) writer[size_t(g.ops[i].output)] = int(i);
  produced[size_t(g.input)] = -2;
  std::vector<char> is_acc(size_t(nt), 0);
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const Op& op = g.ops[i];
    try {
      if (op.inputs.empty()) bad_op(op, "has no inputs");
      std::vector<const TensorDesc*> in;
      for (int t : op.inputs) {
        if (t < 0 || t >= nt) bad_op(op, fmt::format("reads tensor {}, which does not exist", t));
        if (produced[size_t(t)] == -1) {
          const int w = writer[size_t(t)];
          if (w < 0)
            bad_op(op, fmt::format("reads tensor {}, which no op produces (a dangling input)",
                                   g.tensors[size_t(t)].name));
          bad_op(op, fmt::format("reads tensor {} of op {}, which runs after it (a cycle, or ops "
                                 "out of order)",
                                 g.tensors[size_t(t)].name, g.ops[size_t(w)].name));
        }
        if (is_acc[size_t(t)])
          bad_op(op, fmt::format("reads tensor {}, raw accumulators (only a network output may "
                                 "hold them)",
                                 g.tensors[size_t(t)].name));
        in.push_back(&g.tensors[size_t(t)]);
      }
      if (op.output < 0 || op.output >= nt)
        bad_op(op, fmt::format("writes tensor {}, which does not exist", op.output));
      if (produced[size_t(op.output)] != -1)
        bad_op(op, fmt::format("writes tensor {}, which is already written",
                               g.tensors[size_t(op.output)].name));
      const QuantLayer* layer = nullptr;
      if (op.kind == OpKind::Conv || op.kind == OpKind::Fc) {
        if (op.layer < 0 || size_t(op.layer) >= layers.size())
          bad_op(op, fmt::format("layer index {} out of range", op.layer));
        layer = &layers[size_t(op.layer)];
        if ((op.kind == OpKind::Fc) != (layer->shape.type == LayerType::Fc))
          bad_op(op, "op kind and layer type differ");
        if (layer->act_bits != in[0]->bits)
          bad_op(op, fmt::format("layer has {}-bit activations, its input {} is {}-bit",
                                 layer->act_bits, in[0]->name, in[0]->bits));
        if (layer->in_zero != in[0]->zero_point)
          bad_op(op, fmt::format("layer pads with {}, its input's zero point is {}", layer->in_zero,
                                 in[0]->zero_point));
        if (layer->lo < 0 || layer->lo > layer->hi_code() ||
            layer->hi_code() >= (1 << layer->act_bits))
          bad_op(op, fmt::format("clamp [{}, {}] not within the {}-bit codes", layer->lo,
                                 layer->hi_code(), layer->act_bits));
        is_acc[size_t(op.output)] = layer->output == OutputKind::Accumulators;
      } else {
        for (const TensorDesc* t : in)
          if (t->bits != in[0]->bits)
            bad_op(op, fmt::format("inputs {} and {} differ in bits", in[0]->name, t->name));
        if (op.kind == OpKind::Add || op.kind == OpKind::AvgPool ||
            op.kind == OpKind::GlobalAvgPool) {
          if (op.mult_a < 0 || op.mult_b < 0)
            bad_op(op, fmt::format("expected non-negative multipliers (got {}, {})", op.mult_a,
                                   op.mult_b));
          if (op.shift < 1 || op.shift > 62)
            bad_op(op, fmt::format("expected shift in 1..62 (got {})", op.shift));
          if (op.lo < 0 || op.lo > op.hi || op.hi >= (1 << in[0]->bits))
            bad_op(op, fmt::format("expected 0 <= lo <= hi < 2^{} (got [{}, {}])", in[0]->bits,
                                   op.lo, op.hi));
        }
      }
      const TensorDesc want = infer_output(op, in, layer);
      const TensorDesc& got = g.tensors[size_t(op.output)];
      if (got.b != want.b || got.c != want.c || got.h != want.h || got.w != want.w)
        bad_op(op,
               fmt::format("output {} is {}, the op gives {}", got.name, dims(got), dims(want)));
      if ((op.kind == OpKind::MaxPool || op.kind == OpKind::Flatten || op.kind == OpKind::Concat) &&
          got.zero_point != in[0]->zero_point)
        bad_op(op, fmt::format("output {} has zero point {}, its input {} (a {} passes it "
                               "through)",
                               got.name, got.zero_point, in[0]->zero_point, op_kind_name(op.kind)));
      if (layer && got.zero_point != layer->out_zero)
        bad_op(op, fmt::format("output {} has zero point {}, the layer requantizes to {}", got.name,
                               got.zero_point, layer->out_zero));
      produced[size_t(op.output)] = int(i);
    } catch (const InputError& e) {
      throw InputError("", 0, "graph " + clip_text(g.name) + ": " + e.key(), e.detail());
    }
  }
  for (int t : g.outputs)
    if (t < 0 || t >= nt || produced[size_t(t)] == -1)
      throw InputError(where(fmt::format("network output {} is not produced by any op", t)));
}

}  // namespace msq
