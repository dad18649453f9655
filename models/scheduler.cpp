// The weight loaders are spawned one per engine.
#define SC_INCLUDE_DYNAMIC_PROCESSES
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
  const int engines = int(wloads.size());
  if (engines != int(p.engines.size()))
    throw std::logic_error("prepare_layer: the plan's engines are not the fabric's");
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
  std::vector<uint64_t> core_base(size_t(engines), run.w_addr);
  for (int c = 1; c < engines; ++c)
    core_base[size_t(c)] =
        core_base[size_t(c - 1)] + uint64_t(p.engines[size_t(c - 1)].weight_bytes);
  std::vector<std::vector<uint64_t>> block_off(static_cast<size_t>(engines));
  for (int c = 0; c < engines; ++c) {
    uint64_t off = 0;
    for (const RowBlock& blk : p.blocks(c)) {
      block_off[size_t(c)].push_back(off);
      off += uint64_t(ceil_div(blk.weight_bits_per_k * s.k(), 8));
    }
  }
  if (p.weights_resident) {
    for (int c = 0; c < engines; ++c)
      if (p.engines[size_t(c)].weight_bytes > 0) {
        run.wloads[c].push_back({core_base[size_t(c)], p.engines[size_t(c)].weight_bytes});
        run.resident_release[c] = p.engines[size_t(c)].weight_bytes;
      }
  }

  // Output-channel tiles: their rows, and where their channels start in DRAM.
  const LoopMapping& mp = p.map;
  run.mt_rows.assign(size_t(mp.m_tiles), {});
  run.mt_ch0.assign(size_t(mp.m_tiles), 0);
  for (int64_t mt = 0, ch = 0; mt < mp.m_tiles; ++mt) {
    for (int c = 0; c < engines; ++c) {
      const auto [b0, b1] = p.m_tile_blocks(c, mt);
      for (size_t b = b0; b < b1; ++b)
        for (int32_t m : p.blocks(c)[b].rows) run.mt_rows[size_t(mt)].push_back(m);
    }
    run.mt_ch0[size_t(mt)] = ch;
    ch += int64_t(run.mt_rows[size_t(mt)].size());
  }

  // The loops, outermost first. A tensor's tile is loaded on its first use within a chunk (one
  // combination of the loops above its keep level) and freed after its last use.
  const int64_t NT = int64_t(p.tiles.size()), KT = p.k_tiles, MT = mp.m_tiles;
  int64_t trips[3];
  for (int l = 0; l < 3; ++l)
    trips[l] = mp.order[size_t(l)] == 'N' ? NT : mp.order[size_t(l)] == 'K' ? KT : MT;
  const int lv_n = mp.level('N'), lv_k = mp.level('K'), lv_m = mp.level('M');
  const auto chunk_of = [&](const int64_t idx[3], int keep) {
    int64_t c = 0;
    for (int l = 0; l < keep && l < 3; ++l) c = c * trips[l] + idx[l];
    return c;
  };
  // Grouped convolutions with several output-channel tiles: each tile reads only its groups'
  // input channels, so an input load is a (pixel tile, output-channel tile) pair, its channels
  // one run per pixel (the producing layer stores the channels in the order the tiles read them,
  // as the output-channel tiles store theirs).
  const bool ch_tiles = s.groups > 1 && MT > 1;
  std::vector<int64_t> mt_in_ch(size_t(MT), 0), mt_in_ch0(size_t(MT), 0);
  if (ch_tiles)
    for (int64_t mt = 0, ch = 0; mt < MT; ++mt) {
      std::vector<int32_t> g;
      for (int32_t m : run.mt_rows[size_t(mt)]) g.push_back(m / s.rows_per_group());
      std::sort(g.begin(), g.end());
      mt_in_ch[size_t(mt)] =
          int64_t(std::unique(g.begin(), g.end()) - g.begin()) * (s.in_c / s.groups);
      mt_in_ch0[size_t(mt)] = ch;
      ch += mt_in_ch[size_t(mt)];
    }
  const int64_t IK = ch_tiles ? MT : KT;
  std::vector<int64_t> in_id(size_t(NT * IK), -1), in_chunk(size_t(NT * IK), -1), in_last;
  std::vector<std::vector<int64_t>> w_id(static_cast<size_t>(engines)),
      w_chunk(static_cast<size_t>(engines));
  // (step, job) of each load's last use
  std::vector<std::vector<std::pair<size_t, size_t>>> w_last(static_cast<size_t>(engines));
  std::vector<size_t> first_wload(static_cast<size_t>(engines));
  for (int c = 0; c < engines; ++c) first_wload[size_t(c)] = run.wloads[c].size();
  for (int c = 0; c < engines; ++c) {
    w_id[c].assign(p.blocks(c).size() * size_t(KT), -1);
    w_chunk[c].assign(w_id[c].size(), -1);
  }
  std::vector<int> out_id(size_t(MT * NT), -1);
  int64_t idx[3] = {0, 0, 0};
  for (idx[0] = 0; idx[0] < trips[0]; ++idx[0])
    for (idx[1] = 0; idx[1] < trips[1]; ++idx[1])
      for (idx[2] = 0; idx[2] < trips[2]; ++idx[2]) {
        const int64_t n = idx[lv_n], kt = idx[lv_k], mt = idx[lv_m];
        const Tile& tile = p.tiles[size_t(n)];
        Step st;
        st.tile = int(n);
        st.kt = int(kt);
        st.mt = int(mt);
        const int64_t ch = std::min<int64_t>(p.k_channels, s.in_c - kt * p.k_channels);
        st.tk = s.groups == 1 ? ch * s.kh * s.kw : s.k();
        const size_t ik = size_t(n * IK + (ch_tiles ? mt : kt));
        const int64_t ic = chunk_of(idx, mp.keep_in);
        if (in_chunk[ik] != ic) {
          InputLoad ld;
          ld.tile = int(n);
          ld.kt = int(kt);
          ld.tk = st.tk;
          ld.in_offset = tile.offset + kt * p.k_channels * p.act_bytes;
          ld.seg_count = tile.seg_count;
          ld.seg_stride = tile.seg_stride;
          ld.seg_bytes = p.k_tiles == 1 ? tile.seg_bytes : ch * p.act_bytes;
          ld.grp_count = tile.grp_count;
          ld.grp_stride = tile.grp_stride;
          if (ch_tiles) {
            const int64_t pix = int64_t(s.in_c) * p.act_bytes;
            ld.mt = int(mt);
            ld.in_offset = tile.offset + mt_in_ch0[size_t(mt)] * p.act_bytes;
            ld.seg_count = tile.region_bytes() / pix;
            if (tile.box_cols > 0 || tile.seg_bytes < tile.seg_stride) {
              // Part of each input row (a box, or the kh input rows of a part of one output
              // row): the run of each input row (all channels) becomes a run per pixel, the rows
              // still a whole image row apart.
              ld.seg_count = tile.seg_bytes / pix;
              ld.grp_count = tile.seg_count;
              ld.grp_stride = tile.seg_stride;
            }
            ld.seg_stride = pix;
            ld.seg_bytes = mt_in_ch[size_t(mt)] * p.act_bytes;
          }
          in_id[ik] = int64_t(run.in_loads.size());
          in_chunk[ik] = ic;
          run.in_loads.push_back(ld);
          in_last.push_back(0);
        }
        st.in_load = in_id[ik];
        in_last[size_t(st.in_load)] = int64_t(run.steps.size());
        const size_t ok = size_t(mt * NT + n);
        if (out_id[ok] < 0) {
          out_id[ok] = int(run.out_tiles.size());
          run.out_tiles.push_back(OutTile{int(n), int(mt)});
        }
        st.out_tile = out_id[ok];
        st.first_k = kt == 0;
        st.last_k = kt + 1 == KT;
        st.jobs.resize(size_t(engines));
        const int64_t wc = chunk_of(idx, mp.keep_w);
        for (int c = 0; c < engines; ++c) {
          const auto [b0, b1] = p.m_tile_blocks(c, mt);
          for (size_t b = b0; b < b1; ++b) {
            const RowBlock& blk = p.blocks(c)[b];
            CoreJob j;
            j.block = int(b);
            if (p.weights_resident) {
              j.wload = wloads[c] + int64_t(first_wload[c]) - 1;  // the layer's one load
            } else {
              const size_t wk = b * size_t(KT) + size_t(kt);
              if (w_chunk[c][wk] != wc) {
                const int64_t bytes = ceil_div(blk.weight_bits_per_k * st.tk, 8);
                const uint64_t k_off = uint64_t(ceil_div(blk.weight_bits_per_k * kt * p.tk, 8));
                w_id[c][wk] = int64_t(run.wloads[c].size());
                w_chunk[c][wk] = wc;
                run.wloads[c].push_back({core_base[c] + block_off[c][b] + k_off, bytes});
                w_last[c].emplace_back();
              }
              j.wload = wloads[c] + w_id[c][wk];
              w_last[c][size_t(w_id[c][wk]) - first_wload[c]] = {run.steps.size(),
                                                                 st.jobs[size_t(c)].size()};
            }
            st.jobs[size_t(c)].push_back(j);
          }
        }
        run.steps.push_back(std::move(st));
      }
  for (size_t id = 0; id < in_last.size(); ++id)
    run.steps[size_t(in_last[id])].release_in.push_back(int64_t(id));
  for (int c = 0; c < engines; ++c)
    for (size_t i = 0; i < w_last[c].size(); ++i) {
      const auto [si, ji] = w_last[c][i];
      run.steps[si].jobs[size_t(c)][ji].release_bytes += run.wloads[c][first_wload[c] + i].bytes;
    }
  for (int c = 0; c < engines; ++c) wloads[c] += int64_t(run.wloads[c].size());
}

Scheduler::Scheduler(sc_core::sc_module_name name, Fabric& fabric, Dma& dma, Buffer& input,
                     Buffer& output, std::vector<Buffer*> weights)
    : sc_module(name),
      f_(fabric),
      dma_(dma),
      input_(input),
      output_(output),
      weights_(std::move(weights)) {
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
  // One weight loader per engine, each filling that engine's part of the weight buffer.
  for (size_t e = 0; e < weights_.size(); ++e)
    sc_core::sc_spawn([this, e] { weight_loader(int(e)); },
                      (std::string("weight_loader_") + std::to_string(e)).c_str());
}

void Scheduler::record(LayerRun& run, sc_time t0) {
  run.transfers.emplace_back(t0, sc_core::sc_time_stamp());
}

void Scheduler::input_loader() {
  for (size_t gl = 0; gl < f_.load_of.size(); ++gl) {
    auto [l, li] = f_.load_of[gl];
    LayerRun& run = f_.runs[l];
    const InputLoad& ld = run.in_loads[size_t(li)];
    if (li == 0) {
      // A layer reads what the previous one wrote: wait until all of it is in DRAM.
      f_.out_written.wait_until(run.tile0);
      // In a graph, also until the ops that produce its input are done (a vector engine's op).
      if (f_.graph) f_.graph->before_layer(run, l);
      run.start = sc_core::sc_time_stamp();
    }
    StepTiming& tm = f_.step_timing[gl];
    tm.requested = sc_core::sc_time_stamp();
    tm.bytes = ld.bytes();
    input_.acquire(tm.bytes);
    tm.granted = sc_core::sc_time_stamp();
    if (run.values) gather_inputs(run, ld, f_.in_values[int64_t(gl)]);
    const sc_time t0 = sc_core::sc_time_stamp();
    EventSink::tag(l, ld.tile);  // the timeline's layer and tile of the transfer
    StatGroup::set_current_layer(l);
    dma_.transfer(Traffic::Inputs, run.in_addr + uint64_t(ld.in_offset), ld.seg_bytes,
                  ld.seg_stride, ld.seg_count, false, ld.grp_count, ld.grp_stride);
    // The DMA writes a load's bytes back to back, in 64-bit words.
    input_.write(tm.bytes, bram_words(tm.bytes * 8), l);
    record(run, t0);
    run.dram_bytes += tm.bytes;
    run.dram_by[int(Traffic::Inputs)] += tm.bytes;
    tm.loaded = sc_core::sc_time_stamp();
    f_.in_loaded.add();
  }
}

void Scheduler::input_retire() {
  for (size_t gs = 0; gs < f_.step_of.size(); ++gs) {
    for (EngineSignals& e : f_.engines) e.step_done.wait_until(int64_t(gs) + 1);
    auto [l, si] = f_.step_of[gs];
    const LayerRun& run = f_.runs[l];
    for (int64_t id : run.steps[size_t(si)].release_in) {
      input_.release(run.in_loads[size_t(id)].bytes());
      f_.in_values.erase(run.load0 + id);
    }
  }
}

namespace {
int64_t tile_buffer_bytes(const LayerRun& run, const OutTile& ot) {
  const LayerPlan& p = run.plan;
  return int64_t(run.mt_rows[size_t(ot.mt)].size()) * p.tiles[size_t(ot.tile)].tn *
         (p.k_tiles > 1 ? p.acc_bytes : p.out_bytes);
}
}  // namespace

void Scheduler::output_alloc() {
  for (size_t gt = 0; gt < f_.tile_of.size(); ++gt) {
    auto [l, t] = f_.tile_of[gt];
    LayerRun& run = f_.runs[l];
    const OutTile& ot = run.out_tiles[size_t(t)];
    output_.acquire(tile_buffer_bytes(run, ot));
    if (run.values)
      f_.out_values[int64_t(gt)].acc.assign(
          size_t(run.layer->shape.m() * run.plan.tiles[size_t(ot.tile)].tn), 0);
    f_.out_granted.add();
  }
}

void Scheduler::output_writer() {
  for (size_t gt = 0; gt < f_.tile_of.size(); ++gt) {
    auto [l, t] = f_.tile_of[gt];
    LayerRun& run = f_.runs[l];
    const OutTile& ot = run.out_tiles[size_t(t)];
    for (EngineSignals& e : f_.engines) e.tile_done.wait_until(int64_t(gt) + 1);
    f_.out_granted.wait_until(int64_t(gt) + 1);
    if (run.values) {
      write_outputs(run, t, f_.out_values[int64_t(gt)]);
      f_.out_values.erase(int64_t(gt));
    }
    const Tile& tile = run.plan.tiles[size_t(ot.tile)];
    const int64_t M = run.layer->shape.m(), ob = run.plan.out_bytes;
    const int64_t rows = int64_t(run.mt_rows[size_t(ot.mt)].size());
    const sc_time t0 = sc_core::sc_time_stamp();
    EventSink::tag(l, ot.tile);
    StatGroup::set_current_layer(l);
    output_.read(tile.tn * rows * ob, bram_words(tile.tn * rows * ob * 8), l);
    // Outputs are stored HWC too: a tile of all rows is one contiguous run, a tile of some rows
    // one run per pixel; a box, that for each of its output rows, a row's width apart.
    const uint64_t addr = run.out_addr + uint64_t((tile.n0 * M + run.mt_ch0[size_t(ot.mt)]) * ob);
    const int64_t run_px = tile.box_cols > 0 ? tile.box_cols : tile.tn;
    const int64_t box_rows = tile.tn / run_px, row_stride = run.layer->shape.out_w() * M * ob;
    if (rows == M)
      dma_.transfer(Traffic::Outputs, addr, run_px * M * ob, run_px * M * ob, 1, true, box_rows,
                    row_stride);
    else
      dma_.transfer(Traffic::Outputs, addr, rows * ob, M * ob, run_px, true, box_rows, row_stride);
    record(run, t0);
    run.dram_bytes += tile.tn * rows * ob;
    run.dram_by[int(Traffic::Outputs)] += tile.tn * rows * ob;
    output_.release(tile_buffer_bytes(run, ot));
    if (t + 1 == int(run.out_tiles.size())) {
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
      StatGroup::set_current_layer(int(l));
      dma_.transfer(Traffic::Weights, w.addr, w.bytes, w.bytes, 1, false);
      weights_[size_t(core)]->write(w.bytes, bram_words(w.bytes * 8), int(l));
      record(run, t0);
      run.dram_bytes += w.bytes;
      run.dram_by[int(Traffic::Weights)] += w.bytes;
      f_.engines[size_t(core)].w_loaded.add();
    }
  }
}

void Scheduler::gather_inputs(const LayerRun& run, const InputLoad& st, InputTileValues& v) {
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
    const int64_t n = tile.pixel(nn, Wout), b = n / HW, oh = (n % HW) / Wout, ow = n % Wout;
    base[size_t(nn)] = b * s.in_c;
    ih0[size_t(nn)] = oh * s.sh - s.ph;
    iw0[size_t(nn)] = ow * s.sw - s.pw;
    const bool inside = ih0[size_t(nn)] >= 0 && ih0[size_t(nn)] + s.kh <= s.in_h &&
                        iw0[size_t(nn)] >= 0 && iw0[size_t(nn)] + s.kw <= s.in_w;
    origin[size_t(nn)] = base[size_t(nn)] * plane + ih0[size_t(nn)] * s.in_w + iw0[size_t(nn)];
    // A run is one output row's: a box's next row starts a new one.
    const bool row_start = ow == 0 || (tile.box_cols > 0 && nn % tile.box_cols == 0);
    if (!runs.empty() && inside && runs.back().inside && !row_start && nn % NB != 0)
      ++runs.back().len;
    else
      runs.push_back(Run{nn, 1, inside});
  }
  const uint16_t* src_all = in.data.data();
  const uint16_t zero_pad = uint16_t(run.layer->in_zero);
  // A channel tile holds only its output-channel tile's groups (the others stay zero).
  std::vector<char> in_tile(size_t(groups), st.mt < 0);
  if (st.mt >= 0)
    for (int32_t m : run.mt_rows[size_t(st.mt)]) in_tile[size_t(m / s.rows_per_group())] = 1;
  for (int g = 0; g < groups; ++g)
    for (int cl = 0; cl < ccount && in_tile[size_t(g)]; ++cl) {
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
  const OutTile& ot = run.out_tiles[size_t(t)];
  const Tile& tile = run.plan.tiles[size_t(ot.tile)];
  const int64_t HW = int64_t(s.out_h()) * s.out_w();
  const int64_t M = s.m();
  const bool acc_out = L.output == OutputKind::Accumulators;
  const int layer_index = int(&run - f_.runs.data());
  for (const int64_t m : run.mt_rows[size_t(ot.mt)]) {
    const int64_t* a = v.acc.data() + m * tile.tn;
    const int32_t mult = L.rq_mult[size_t(m)];
    const int shift = L.rq_shift[size_t(m)];
    const int32_t zero = L.out_zero, lo = L.lo, hi = L.hi_code();
    // One run of output pixels at a time, contiguous in the output tensor: the part of the tile
    // in one image, or one output row of a box.
    for (int64_t nn = 0; nn < tile.tn;) {
      const int64_t n = tile.pixel(nn, s.out_w()), b = n / HW, r = n % HW;
      const int64_t len = tile.box_cols > 0 ? tile.box_cols : std::min(tile.tn - nn, HW - r);
      int64_t* __restrict y = run.out.data.data() + (b * M + m) * HW + r;
      const int64_t* __restrict x = a + nn;
      if (acc_out)
        std::copy(x, x + len, y);
      else
        kernels::requantize_run(x, y, len, mult, shift, zero, lo, hi);
      const int64_t col = f_.fault.col - n;
      if (f_.fault.layer == layer_index && f_.fault.row == m && col >= 0 && col < len)
        y[col] ^= f_.fault.xor_mask;
      nn += len;
    }
  }
}

}  // namespace msq
