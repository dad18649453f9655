#include "models/hw/engines/vector/vector.h"

#include <algorithm>
#include <memory>

#include "models/arith/requant.h"
#include "models/stats/event_sink.h"

namespace msq {

int64_t vector_op_cycles(const Graph& g, const Op& op, int lanes, int pipeline_depth) {
  const TensorDesc& out = g.tensors[size_t(op.output)];
  const TensorDesc& in = g.tensors[size_t(op.inputs[0])];
  int64_t work = 0;
  switch (op.kind) {
    case OpKind::Add:
    case OpKind::Concat:
      work = out.size();
      break;
    case OpKind::MaxPool:
    case OpKind::AvgPool:
      work = out.size() * op.kh * op.kw;
      break;
    case OpKind::GlobalAvgPool:
      work = in.size();
      break;
    default:
      return 0;
  }
  return (work + lanes - 1) / lanes + pipeline_depth;
}

OutTensor vector_op_values(const Graph& g, const Op& op, const std::vector<const OutTensor*>& in) {
  const TensorDesc& od = g.tensors[size_t(op.output)];
  OutTensor o;
  o.b = od.b, o.c = od.c, o.h = od.h, o.w = od.w;
  o.data.assign(o.size(), 0);
  const OutTensor& x = *in[0];
  const int32_t zy = od.zero_point;
  if (op.kind == OpKind::Flatten) {
    o.data = x.data;
    return o;
  }
  if (op.kind == OpKind::Add) {
    // Each input is scaled to the output's step by its multiplier, summed, rounded once.
    const int64_t za = g.tensors[size_t(op.inputs[0])].zero_point;
    const int64_t zb = g.tensors[size_t(op.inputs[1])].zero_point;
    const int64_t* a = x.data.data();
    const int64_t* b = in[1]->data.data();
    for (size_t i = 0; i < o.data.size(); ++i)
      o.data[i] = requantize(op.mult_a * (a[i] - za) + op.mult_b * (b[i] - zb), 1, op.shift, zy,
                             op.lo, op.hi);
    return o;
  }
  if (op.kind == OpKind::Concat) {
    // Per image, each input's channels are one contiguous run of the output.
    size_t pos = 0;
    for (int b = 0; b < o.b; ++b)
      for (const OutTensor* t : in) {
        const size_t n = size_t(t->c) * t->h * t->w;
        std::copy_n(t->data.begin() + std::ptrdiff_t(size_t(b) * n), n,
                    o.data.begin() + std::ptrdiff_t(pos));
        pos += n;
      }
    return o;
  }
  // Pools: the engine walks each channel plane once per output row, clipping the window to the
  // plane instead of testing every tap.
  const bool global = op.kind == OpKind::GlobalAvgPool;
  const int kh = global ? x.h : op.kh, kw = global ? x.w : op.kw;
  const int sh = global ? 1 : op.sh, sw = global ? 1 : op.sw;
  const int ph = global ? 0 : op.ph, pw = global ? 0 : op.pw;
  const int64_t zin = g.tensors[size_t(op.inputs[0])].zero_point;
  const bool max = op.kind == OpKind::MaxPool;
  for (int64_t plane = 0; plane < int64_t(o.b) * o.c; ++plane) {
    const int64_t* src = x.data.data() + plane * x.h * x.w;
    int64_t* dst = o.data.data() + plane * o.h * o.w;
    for (int oh = 0; oh < o.h; ++oh) {
      const int h0 = std::max(0, oh * sh - ph), h1 = std::min(x.h, oh * sh - ph + kh);
      for (int ow = 0; ow < o.w; ++ow) {
        const int w0 = std::max(0, ow * sw - pw), w1 = std::min(x.w, ow * sw - pw + kw);
        int64_t acc = max ? src[h0 * x.w + w0] : 0;
        for (int h = h0; h < h1; ++h)
          for (int w = w0; w < w1; ++w) {
            const int64_t v = src[h * x.w + w];
            if (max)
              acc = std::max(acc, v);
            else
              acc += v;
          }
        if (!max) {
          // sum (x - z_in) over the in-bounds taps; padded taps add 0
          acc -= zin * int64_t(h1 - h0) * (w1 - w0);
          acc = requantize(acc, op.mult_a, op.shift, zy, op.lo, op.hi);
        }
        dst[oh * o.w + ow] = acc;
      }
    }
  }
  return o;
}

VectorEngine::VectorEngine(sc_core::sc_module_name name, GraphFlow& flow, Dma& dma,
                           sc_core::sc_time clock, const VectorConfig& cfg,
                           const std::vector<int>& elem_bytes)
    : OpEngine(name), flow_(flow), dma_(dma), clock_(clock), cfg_(cfg), elem_bytes_(elem_bytes) {
  SC_HAS_PROCESS(VectorEngine);
  SC_THREAD(run);
}

void VectorEngine::run() {
  const Graph& g = flow_.graph;
  const TensorMemoryPlan& mem = flow_.memory;
  for (size_t i = 0; i < g.ops.size(); ++i) {
    const Op& op = g.ops[i];
    if (op.kind == OpKind::Conv || op.kind == OpKind::Fc) continue;
    flow_.wait_inputs(int(i));
    OpTiming& tm = flow_.timing[i];
    tm.start = sc_core::sc_time_stamp();
    if (flow_.values) {
      std::vector<const OutTensor*> in;
      for (int t : op.inputs) in.push_back(flow_.value[size_t(t)]);
      if (op.kind == OpKind::Flatten) {
        flow_.value[size_t(op.output)] = in[0];  // a view: the same values
      } else {
        flow_.store[size_t(op.output)] = vector_op_values(g, op, in);
        flow_.value[size_t(op.output)] = &flow_.store[size_t(op.output)];
      }
    }
    if (op.kind != OpKind::Flatten) {
      const int span_index = i < flow_.timeline_index.size() ? flow_.timeline_index[i] : -1;
      EventSink::tag(span_index, -1);
      for (int t : op.inputs) {
        const int64_t b = g.tensors[size_t(t)].size() * elem_bytes_[size_t(t)];
        dma_.transfer(Traffic::Inputs, mem.addr[size_t(t)], b, b, 1, false);
        tm.dram_bytes += b;
      }
      tm.busy_cycles = vector_op_cycles(g, op, cfg_.lanes, cfg_.pipeline_depth);
      busy_ += tm.busy_cycles;
      sc_core::wait(clock_ * double(tm.busy_cycles));
      if (EventSink* ev = EventSink::current())
        ev->op(ev->engine_count() - 1, span_index, cfg_.lanes, tm.busy_cycles,
               ps_of_seconds(clock_.to_seconds()),
               ps_of_seconds(sc_core::sc_time_stamp().to_seconds()));
      EventSink::tag(span_index, -1);  // the engines' loaders may have tagged in between
      const int64_t b = g.tensors[size_t(op.output)].size() * elem_bytes_[size_t(op.output)];
      dma_.transfer(Traffic::Outputs, mem.addr[size_t(op.output)], b, b, 1, true);
      tm.dram_bytes += b;
    }
    flow_.finish(int(i));
  }
}

std::unique_ptr<OpEngine> make_vector(const char* name, const OpEngineContext& ctx) {
  return std::make_unique<VectorEngine>(name, ctx.flow, ctx.dma, ctx.clock, ctx.accel.vector,
                                        ctx.elem_bytes);
}

}  // namespace msq
