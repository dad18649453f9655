#include "models/scheduler.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "models/graph_flow.h"
#include "models/kernels/loops.h"
#include "models/stats/event_sink.h"

namespace msq {

using sc_core::sc_time;

namespace {
int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}
uint64_t align(uint64_t v, uint64_t a) {
  return (v + a - 1) / a * a;
}
}  // namespace

void prepare_layer(LayerRun& run, const RunConfig& cfg, const std::string& where,
                   uint64_t& next_addr, uint64_t page_bytes, std::vector<int64_t>& wloads,
                   const LayerPlan* plan) {
  const QuantLayer& L = *run.layer;
  const LayerShape& s = L.shape;
  run.plan = plan ? *plan : plan_layer(L, cfg, where);
  const LayerPlan& p = run.plan;
  // The plan still has two slots (core_weight_bytes, blocks(0/1)); simulate() admits no other
  // engine count.
  const int engines = int(wloads.size());
  if (engines != 2) throw std::logic_error("prepare_layer: the plan has two engine slots");
  run.wloads.assign(size_t(engines), {});
  run.resident_release.assign(size_t(engines), 0);
  run.core.assign(size_t(engines), {});

  run.w_addr = next_addr;
  next_addr = align(next_addr + uint64_t(p.weight_bytes), page_bytes);
  run.in_addr = next_addr;
  next_addr =
      align(next_addr + uint64_t(s.batch) * s.in_h * s.in_w * s.in_c * p.act_bytes, page_bytes);
  run.out_addr = next_addr;
  next_addr = align(next_addr + uint64_t(s.n() * s.m() * p.out_bytes), page_bytes);

  // Weights sit in DRAM in consumption order: core by core, block by block, k tile by k tile.
  uint64_t core_base[2] = {run.w_addr, run.w_addr + uint64_t(p.core_weight_bytes[0])};
  if (p.weights_resident) {
    for (int c = 0; c < engines; ++c)
      if (p.core_weight_bytes[c] > 0) {
        run.wloads[c].push_back({core_base[c], p.core_weight_bytes[c]});
        run.resident_release[c] = p.core_weight_bytes[c];
      }
  }
  for (size_t t = 0; t < p.tiles.size(); ++t) {
    const Tile& tile = p.tiles[t];
    for (int64_t kt = 0; kt < p.k_tiles; ++kt) {
      Step st;
      st.tile = int(t);
      st.kt = int(kt);
      const int64_t ch = std::min<int64_t>(p.k_channels, s.in_c - kt * p.k_channels);
      st.tk = s.groups == 1 ? ch * s.kh * s.kw : s.k();
      st.in_offset = tile.offset + kt * p.k_channels * p.act_bytes;
      st.seg_count = tile.seg_count;
      st.seg_stride = tile.seg_stride;
      st.seg_bytes = p.k_tiles == 1 ? tile.seg_bytes : ch * p.act_bytes;
      st.jobs.resize(size_t(engines));
      for (int c = 0; c < engines; ++c) {
        uint64_t off = 0;
        for (size_t b = 0; b < p.blocks(c).size(); ++b) {
          const RowBlock& blk = p.blocks(c)[b];
          CoreJob j;
          j.block = int(b);
          if (p.weights_resident) {
            j.wload = wloads[c];  // the layer's one load
          } else {
            const int64_t bytes = ceil_div(blk.weight_bits_per_k * st.tk, 8);
            const uint64_t k_off = uint64_t(ceil_div(blk.weight_bits_per_k * kt * p.tk, 8));
            run.wloads[c].push_back({core_base[c] + off + k_off, bytes});
            j.wload = wloads[c] + int64_t(run.wloads[c].size()) - 1;
            j.release_bytes = bytes;
          }
          off += uint64_t(ceil_div(blk.weight_bits_per_k * s.k(), 8));
          st.jobs[c].push_back(j);
        }
      }
      run.steps.push_back(std::move(st));
    }
  }
  for (int c = 0; c < engines; ++c) wloads[c] += int64_t(run.wloads[c].size());
}

Scheduler::Scheduler(sc_core::sc_module_name name, Fabric& fabric, Dma& dma, Buffer& input,
                     Buffer& output, Buffer& weights_lut, Buffer& weights_dsp)
    : sc_module(name),
      f_(fabric),
      dma_(dma),
      input_(input),
      output_(output),
      weights_{&weights_lut, &weights_dsp} {
  // A fault that names no output would inject nothing and the cross-check would pass: refuse it.
  // (The command line resolves MSQSIM_FAULT and reports a bad one as the user's error.)
  const FaultInjection& fi = fabric.fault;
  if (fi.layer >= 0) {
    if (size_t(fi.layer) >= fabric.runs.size())
      throw std::invalid_argument("fault injection: no layer " + std::to_string(fi.layer));
    const LayerShape& s = fabric.runs[size_t(fi.layer)].layer->shape;
    if (fi.row < 0 || fi.row >= s.m() || fi.col < 0 || fi.col >= s.n() || fi.xor_mask == 0)
      throw std::invalid_argument("fault injection: no output at row " + std::to_string(fi.row) +
                                  ", column " + std::to_string(fi.col) + " of layer " + s.name);
  }
  SC_HAS_PROCESS(Scheduler);
  SC_THREAD(input_loader);
  SC_THREAD(input_retire);
  SC_THREAD(output_alloc);
  SC_THREAD(output_writer);
  SC_THREAD(weight_loader_lut);
  SC_THREAD(weight_loader_dsp);
}

void Scheduler::record(LayerRun& run, sc_time t0) {
  run.transfers.emplace_back(t0, sc_core::sc_time_stamp());
}

void Scheduler::input_loader() {
  for (size_t gs = 0; gs < f_.step_of.size(); ++gs) {
    auto [l, si] = f_.step_of[gs];
    LayerRun& run = f_.runs[l];
    const Step& st = run.steps[si];
    if (si == 0) {
      // A layer reads what the previous one wrote: wait until all of it is in DRAM.
      f_.out_written.wait_until(run.tile0);
      // In a graph, also until the ops that produce its input are done (a vector engine's op).
      if (f_.graph) f_.graph->before_layer(run, l);
      run.start = sc_core::sc_time_stamp();
    }
    StepTiming& tm = f_.step_timing[gs];
    tm.requested = sc_core::sc_time_stamp();
    tm.bytes = st.seg_bytes * st.seg_count;
    input_.acquire(tm.bytes);
    tm.granted = sc_core::sc_time_stamp();
    if (run.values) gather_inputs(run, st, f_.in_values[int64_t(gs)]);
    const sc_time t0 = sc_core::sc_time_stamp();
    EventSink::tag(l, st.tile);  // the timeline's layer and tile of the transfer
    dma_.transfer(Traffic::Inputs, run.in_addr + uint64_t(st.in_offset), st.seg_bytes,
                  st.seg_stride, st.seg_count, false);
    record(run, t0);
    run.dram_bytes += tm.bytes;
    tm.loaded = sc_core::sc_time_stamp();
    f_.in_loaded.add();
  }
}

void Scheduler::input_retire() {
  for (size_t gs = 0; gs < f_.step_of.size(); ++gs) {
    for (EngineSignals& e : f_.engines) e.step_done.wait_until(int64_t(gs) + 1);
    input_.release(f_.step_timing[gs].bytes);
    f_.in_values.erase(int64_t(gs));
  }
}

namespace {
int64_t tile_buffer_bytes(const LayerRun& run, int tile) {
  const LayerPlan& p = run.plan;
  return run.layer->shape.m() * p.tiles[tile].tn * (p.k_tiles > 1 ? p.acc_bytes : p.out_bytes);
}
}  // namespace

void Scheduler::output_alloc() {
  for (size_t gt = 0; gt < f_.tile_of.size(); ++gt) {
    auto [l, t] = f_.tile_of[gt];
    LayerRun& run = f_.runs[l];
    output_.acquire(tile_buffer_bytes(run, t));
    if (run.values)
      f_.out_values[int64_t(gt)].acc.assign(size_t(run.layer->shape.m() * run.plan.tiles[t].tn), 0);
    f_.out_granted.add();
  }
}

void Scheduler::output_writer() {
  for (size_t gt = 0; gt < f_.tile_of.size(); ++gt) {
    auto [l, t] = f_.tile_of[gt];
    LayerRun& run = f_.runs[l];
    for (EngineSignals& e : f_.engines) e.tile_done.wait_until(int64_t(gt) + 1);
    if (run.values) {
      write_outputs(run, t, f_.out_values[int64_t(gt)]);
      f_.out_values.erase(int64_t(gt));
    }
    const Tile& tile = run.plan.tiles[t];
    const int64_t row_bytes = run.layer->shape.m() * run.plan.out_bytes;
    const sc_time t0 = sc_core::sc_time_stamp();
    EventSink::tag(l, t);
    // Outputs are stored HWC too: a tile's columns are one contiguous run.
    dma_.transfer(Traffic::Outputs, run.out_addr + uint64_t(tile.n0 * row_bytes),
                  tile.tn * row_bytes, tile.tn * row_bytes, 1, true);
    record(run, t0);
    run.dram_bytes += tile.tn * row_bytes;
    output_.release(tile_buffer_bytes(run, t));
    if (t + 1 == int(run.plan.tiles.size())) {
      run.end = sc_core::sc_time_stamp();
      if (f_.graph) f_.graph->after_layer(run, l);
    }
    f_.out_written.add();
  }
}

void Scheduler::weight_loader(int core) {
  for (size_t l = 0; l < f_.runs.size(); ++l) {
    LayerRun& run = f_.runs[l];
    // Streamed weights of the previous layer share this core's buffer half; prefetch only once
    // that layer is done, so that prefetching cannot starve it.
    if (l > 0 && !f_.runs[l - 1].plan.weights_resident) {
      for (EngineSignals& e : f_.engines) e.layer_done.wait_until(int64_t(l));
    }
    for (const WeightLoad& w : run.wloads[core]) {
      weights_[core]->acquire(w.bytes);
      const sc_time t0 = sc_core::sc_time_stamp();
      EventSink::tag(int(l), -1);
      dma_.transfer(Traffic::Weights, w.addr, w.bytes, w.bytes, 1, false);
      record(run, t0);
      run.dram_bytes += w.bytes;
      f_.engines[size_t(core)].w_loaded.add();
    }
  }
}

void Scheduler::gather_inputs(const LayerRun& run, const Step& st, InputTileValues& v) {
  const LayerShape& s = run.layer->shape;
  const Tile& tile = run.plan.tiles[size_t(st.tile)];
  const ActTensor& in = *run.input;
  const int64_t Hout = s.out_h(), Wout = s.out_w(), HW = Hout * Wout;
  const int cg = s.in_c / s.groups;
  const int groups = s.groups == 1 ? 1 : s.groups;
  const int ccount = s.groups == 1 ? int(st.tk / (int64_t(s.kh) * s.kw)) : cg;
  const int c0 = s.groups == 1 ? st.kt * run.plan.k_channels : 0;
  constexpr int64_t NB = InputTileValues::kNB;
  v.tk = st.tk;
  v.tn = tile.tn;
  v.nblocks = (tile.tn + NB - 1) / NB;
  const bool narrow = run.layer->act_bits <= 8;
  const size_t total = size_t(groups * v.nblocks * st.tk * NB);
  if (narrow)
    v.x8.assign(total, 0);
  else
    v.x16.assign(total, 0);
  // Each column's image and window origin, once per tile; columns whose whole window lies inside
  // the image need no bounds checks.
  const int64_t plane = int64_t(s.in_h) * s.in_w;
  std::vector<int64_t> base(size_t(tile.tn)), ih0(size_t(tile.tn)), iw0(size_t(tile.tn)),
      origin(size_t(tile.tn));
  // Runs of inside columns of one output row within one block of NB: their taps are sw apart in
  // the input row, so each k copies a run with a fixed stride.
  struct Run {
    int64_t nn0, len;
    bool inside;
  };
  std::vector<Run> runs;
  for (int64_t nn = 0; nn < tile.tn; ++nn) {
    const int64_t n = tile.n0 + nn, b = n / HW, oh = (n % HW) / Wout, ow = n % Wout;
    base[size_t(nn)] = b * s.in_c;
    ih0[size_t(nn)] = oh * s.sh - s.ph;
    iw0[size_t(nn)] = ow * s.sw - s.pw;
    const bool inside = ih0[size_t(nn)] >= 0 && ih0[size_t(nn)] + s.kh <= s.in_h &&
                        iw0[size_t(nn)] >= 0 && iw0[size_t(nn)] + s.kw <= s.in_w;
    origin[size_t(nn)] = base[size_t(nn)] * plane + ih0[size_t(nn)] * s.in_w + iw0[size_t(nn)];
    if (!runs.empty() && inside && runs.back().inside && ow != 0 && nn % NB != 0)
      ++runs.back().len;
    else
      runs.push_back(Run{nn, 1, inside});
  }
  const uint16_t* src_all = in.data.data();
  const uint16_t zero_pad = uint16_t(run.layer->in_zero);
  for (int g = 0; g < groups; ++g)
    for (int cl = 0; cl < ccount; ++cl) {
      const int64_t c = (s.groups == 1 ? c0 : g * cg) + cl;
      for (int i = 0; i < s.kh; ++i)
        for (int j = 0; j < s.kw; ++j) {
          const int64_t k = (int64_t(cl) * s.kh + i) * s.kw + j;
          const int64_t shift = c * plane + int64_t(i) * s.in_w + j;
          for (const Run& r : runs) {
            const int64_t nb = r.nn0 / NB;
            const size_t dst = size_t(((g * v.nblocks + nb) * st.tk + k) * NB + r.nn0 - nb * NB);
            if (r.inside) {
              const uint16_t* __restrict src = src_all + origin[size_t(r.nn0)] + shift;
              const int64_t sw = s.sw;
              if (narrow) {
                uint8_t* __restrict d = v.x8.data() + dst;
                if (sw == 1)  // the common case, as a contiguous narrowing copy
                  for (int64_t t = 0; t < r.len; ++t) d[t] = uint8_t(src[t]);
                else
                  for (int64_t t = 0; t < r.len; ++t) d[t] = uint8_t(src[t * sw]);
              } else {
                uint16_t* __restrict d = v.x16.data() + dst;
                for (int64_t t = 0; t < r.len; ++t) d[t] = src[t * sw];
              }
              continue;
            }
            const size_t nn = size_t(r.nn0);  // an edge column: taps may fall in the padding
            const int64_t ih = ih0[nn] + i, iw = iw0[nn] + j;
            const bool pad = ih < 0 || ih >= s.in_h || iw < 0 || iw >= s.in_w;
            if (pad && zero_pad == 0) continue;  // the buffer was cleared
            // Padded taps hold the input zero point (its effect on the sums is in the bias).
            const uint16_t x =
                pad ? zero_pad : src_all[size_t((base[nn] + c) * plane + ih * s.in_w + iw)];
            if (narrow)
              v.x8[dst] = uint8_t(x);
            else
              v.x16[dst] = x;
          }
        }
    }
}

void Scheduler::write_outputs(LayerRun& run, int t, OutputTileValues& v) {
  // The output stage: requantization with the output zero point and the clamp (the fused ReLU),
  // or the raw accumulators.
  const QuantLayer& L = *run.layer;
  const LayerShape& s = L.shape;
  const Tile& tile = run.plan.tiles[size_t(t)];
  const int64_t M = s.m(), HW = int64_t(s.out_h()) * s.out_w();
  const bool acc_out = L.output == OutputKind::Accumulators;
  const int layer_index = int(&run - f_.runs.data());
  for (int64_t m = 0; m < M; ++m) {
    const int64_t* a = v.acc.data() + m * tile.tn;
    const int32_t mult = L.rq_mult[size_t(m)];
    const int shift = L.rq_shift[size_t(m)];
    const int32_t zero = L.out_zero, lo = L.lo, hi = L.hi_code();
    // One image's run of output pixels at a time: each is contiguous in the output tensor.
    int64_t b = tile.n0 / HW, r = tile.n0 % HW;
    for (int64_t nn = 0; nn < tile.tn; r = 0, ++b) {
      const int64_t len = std::min(tile.tn - nn, HW - r);
      int64_t* __restrict y = run.out.data.data() + (b * M + m) * HW + r;
      const int64_t* __restrict x = a + nn;
      if (acc_out)
        std::copy(x, x + len, y);
      else
        kernels::requantize_run(x, y, len, mult, shift, zero, lo, hi);
      const int64_t col = f_.fault.col - tile.n0 - nn;
      if (f_.fault.layer == layer_index && f_.fault.row == m && col >= 0 && col < len)
        y[col] ^= f_.fault.xor_mask;
      nn += len;
    }
  }
}

}  // namespace msq
