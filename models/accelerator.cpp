#include "models/accelerator.h"

#include <fmt/format.h>

#include <cstdlib>
#include <memory>

#include "models/buffer.h"
#include "models/error.h"
#include "models/graph_flow.h"
#include "models/hw/array_core.h"
#include "models/hw/engine_registry.h"
#include "models/hw/engines/vector/vector.h"
#include "models/plan/mapper.h"
#include "models/tiler.h"

namespace msq {

using sc_core::sc_time;

namespace {

class Top : public sc_core::sc_module {
 public:
  Top(sc_core::sc_module_name name, const RunConfig& cfg, const std::vector<EngineSpec>& specs,
      Fabric& f, const std::vector<int>& elem_bytes)
      : sc_module(name),
        dram_owner(make_dram_model(cfg.memory.model, "dram", cfg.memory.dram)),
        dram(*dram_owner),
        dma("dma", cfg.memory, f.clock, dram),
        input("input_buffer", int64_t(cfg.accelerator.buffers.input_bram36) * kBram36DataBytes),
        output("output_buffer", int64_t(cfg.accelerator.buffers.output_bram36) * kBram36DataBytes) {
    // Each engine has an equal part of the weight buffer.
    const int64_t part =
        int64_t(cfg.accelerator.buffers.weight_bram36) * kBram36DataBytes / int64_t(specs.size());
    std::vector<Buffer*> w;
    for (const EngineSpec& e : specs) {
      weights.push_back(std::make_unique<Buffer>(("weight_buffer_" + e.name).c_str(), part));
      w.push_back(weights.back().get());
    }
    f.input_buffer = &input;
    f.output_buffer = &output;
    scheduler = std::make_unique<Scheduler>("scheduler", f, dma, input, output, w);
    for (size_t i = 0; i < specs.size(); ++i)
      engines.push_back(
          make_engine(EngineContext{f, int(i), *weights[i], specs[i], cfg.accelerator}));
    if (f.graph)
      vector = make_op_engine("vector", "vector",
                              OpEngineContext{*f.graph, dma, f.clock, cfg.accelerator, elem_bytes});
  }

  std::unique_ptr<DramModel> dram_owner;
  DramModel& dram;
  Dma dma;
  Buffer input, output;
  std::vector<std::unique_ptr<Buffer>> weights;  // by engine slot
  std::unique_ptr<Scheduler> scheduler;
  std::vector<std::unique_ptr<Engine>> engines;  // by slot
  std::unique_ptr<OpEngine> vector;              // graph runs only
};

int64_t to_cycles(sc_time t, sc_time clock) {
  return int64_t(t / clock + 0.5);
}

// Cycles covered by a set of intervals.
int64_t covered_cycles(std::vector<std::pair<sc_time, sc_time>> v, sc_time clock) {
  std::sort(v.begin(), v.end());
  sc_time total = sc_core::SC_ZERO_TIME, cur_s, cur_e;
  bool open = false;
  for (auto& [s, e] : v) {
    if (open && s <= cur_e) {
      if (e > cur_e) cur_e = e;
      continue;
    }
    if (open) total += cur_e - cur_s;
    cur_s = s, cur_e = e, open = true;
  }
  if (open) total += cur_e - cur_s;
  return to_cycles(total, clock);
}

}  // namespace

SimResult simulate(const RunConfig& cfg, const Workload& wl, const SimOptions& opt) {
  const std::vector<EngineSpec> specs = engine_specs(cfg.accelerator);
  if (specs.empty()) throw InputError("accelerator.engines: the accelerator has no engine");
  for (const EngineSpec& e : specs) engine_kind(e.impl, e.name);
  ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  auto fabric = std::make_unique<Fabric>();
  Fabric& f = *fabric;
  f.clock = sc_time(1e6 / cfg.clock_mhz, sc_core::SC_PS);
  f.dsp_kind = cfg.device.dsp_kind;
  f.fault = opt.fault;
  f.runs.resize(wl.layers.size());
  uint64_t next_addr = 0;
  std::vector<int64_t> wloads(specs.size(), 0);
  int64_t seq = 0, load = 0, tile = 0;
  const uint64_t page = uint64_t(cfg.memory.dram.row_bytes) * cfg.memory.dram.channels;
  for (size_t l = 0; l < wl.layers.size(); ++l) {
    LayerRun& run = f.runs[l];
    run.layer = &wl.layers[l];
    run.values = opt.values;
    if (opt.values && opt.graph) {
      // The input is its producer's output, made when the layer starts (GraphFlow).
      const LayerShape& s = run.layer->shape;
      run.out.b = s.batch, run.out.c = s.out_c, run.out.h = s.out_h(), run.out.w = s.out_w();
      run.out.data.assign(run.out.size(), 0);
    } else if (opt.values) {
      if (l >= wl.inputs.size() || wl.inputs[l].size() == 0)
        throw std::invalid_argument("simulate: values requested but layer " + std::to_string(l) +
                                    " has no input");
      run.input = &wl.inputs[l];
      const LayerShape& s = run.layer->shape;
      run.out.b = s.batch, run.out.c = s.out_c, run.out.h = s.out_h(), run.out.w = s.out_w();
      run.out.data.assign(run.out.size(), 0);
    }
    prepare_layer(run, cfg, fmt::format("layer {} ({})", l, run.layer->shape.name), next_addr, page,
                  wloads, opt.plans ? &opt.plans->at(l) : nullptr);
    run.seq0 = seq;
    run.load0 = load;
    run.tile0 = tile;
    for (size_t si = 0; si < run.steps.size(); ++si) f.step_of.emplace_back(int(l), int(si));
    for (size_t i = 0; i < run.in_loads.size(); ++i) f.load_of.emplace_back(int(l), int(i));
    for (size_t t = 0; t < run.out_tiles.size(); ++t) f.tile_of.emplace_back(int(l), int(t));
    seq += int64_t(run.steps.size());
    load += int64_t(run.in_loads.size());
    tile += int64_t(run.out_tiles.size());
  }
  std::unique_ptr<GraphFlow> flow;
  int64_t weight_bytes = 0;
  std::vector<int> elem_bytes;
  if (opt.graph) {
    const Graph& g = *opt.graph;
    flow = std::make_unique<GraphFlow>(g, wl.layers, opt.values);
    f.graph = flow.get();
    elem_bytes.assign(g.tensors.size(), 1);
    for (size_t t = 0; t < g.tensors.size(); ++t) elem_bytes[t] = g.tensors[t].bits <= 8 ? 1 : 2;
    for (const Op& op : g.ops)
      if (op.layer >= 0)
        elem_bytes[size_t(op.output)] = int(f.runs[size_t(op.layer)].plan.out_bytes);
    // Tensors live above the weights, each for its lifetime; layers read and write them there.
    for (const LayerRun& run : f.runs) weight_bytes += run.plan.weight_bytes;
    flow->memory = plan_tensor_memory(g, elem_bytes, next_addr, page);
    for (const Op& op : g.ops)
      if (op.layer >= 0) {
        LayerRun& run = f.runs[size_t(op.layer)];
        run.in_addr = flow->memory.addr[size_t(op.inputs[0])];
        run.out_addr = flow->memory.addr[size_t(op.output)];
      }
    if (opt.values) {
      if (!opt.graph_input) throw std::invalid_argument("simulate: a graph run needs its input");
      OutTensor& x = flow->store[size_t(g.input)];
      const ActTensor& in = *opt.graph_input;
      x.b = in.b, x.c = in.c, x.h = in.h, x.w = in.w;
      x.data.assign(in.data.begin(), in.data.end());
      flow->value[size_t(g.input)] = &x;
    }
  }
  f.step_timing.resize(size_t(load));
  for (size_t i = 0; i < specs.size(); ++i) f.engines.emplace_back();
  if (opt.events) {
    std::vector<std::string> names;
    for (const QuantLayer& q : wl.layers) names.push_back(q.shape.name);
    const size_t core_layers = names.size();
    // The vector engine's ops follow the layers, so that the layer filter and the spans' names
    // cover them too.
    if (flow) {
      const Graph& g = *opt.graph;
      flow->timeline_index.assign(g.ops.size(), -1);
      for (size_t i = 0; i < g.ops.size(); ++i)
        if (g.ops[i].layer < 0 && g.ops[i].kind != OpKind::Flatten) {
          flow->timeline_index[i] = int(names.size());
          names.push_back(g.ops[i].name);
        }
    }
    opt.events->set_layers(names, core_layers);
    // The two engines of the old spelling keep their track names; the vector engine's slot
    // follows the engines'.
    std::vector<std::string> tracks;
    for (const EngineSpec& e : specs)
      tracks.push_back(e.name == "lut_core"   ? "LUT core"
                       : e.name == "dsp_core" ? "DSP core"
                                              : e.name);
    if (flow) tracks.push_back("vector engine");
    opt.events->set_engines(tracks);
  }
  const EventSink::Scope events(opt.events);
  StatGroup::set_current_layer(-1);

  auto top = std::make_unique<Top>("msq", cfg, specs, f, elem_bytes);
  sc_core::sc_start();

  SimResult r;
  r.clock_mhz = cfg.clock_mhz;
  r.dram = top->dram.stats();
  r.dma = top->dma.stats();
  r.dram_peak_bytes_per_s = top->dram.peak_bytes_per_s();
  for (const auto& e : top->engines) {
    const EngineSpec& sp = specs[size_t(e->slot())];
    r.engines.push_back(EngineInfo{sp.name, sp.impl, e->caps(), e->peak_macs_per_cycle(),
                                   sp.own_accumulator ? sp.accumulator.bits : 0});
  }
  // In a graph run an op's time runs from the end of every op before it in graph order to its own
  // end (the vector engine's ops take their share); else from the end of the previous layer.
  std::vector<sc_time> op_begin, layer_begin;
  if (flow) {
    const Graph& g = *opt.graph;
    sc_time t = sc_core::SC_ZERO_TIME;
    layer_begin.resize(f.runs.size());
    for (size_t i = 0; i < g.ops.size(); ++i) {
      const Op& op = g.ops[i];
      const sc_time end = op.layer >= 0 ? f.runs[size_t(op.layer)].end : flow->timing[i].end;
      op_begin.push_back(t);
      if (op.layer >= 0) layer_begin[size_t(op.layer)] = t;
      t = std::max(t, end);
    }
  }
  sc_time prev_end = sc_core::SC_ZERO_TIME, last_end = sc_core::SC_ZERO_TIME;
  for (LayerRun& run : f.runs) {
    if (flow) prev_end = layer_begin[size_t(&run - f.runs.data())];
    const LayerShape& s = run.layer->shape;
    const LayerPlan& p = run.plan;
    LayerResult lr;
    lr.name = s.name;
    lr.m = s.m(), lr.k = s.k(), lr.n = s.n(), lr.macs = s.macs();
    lr.sp2_rows = p.sp2_rows, lr.fixed_rows = p.fixed_rows, lr.spilled_rows = p.spilled_rows;
    lr.row_engine = p.row_engine;
    lr.packing = p.packing, lr.chain = p.chain, lr.lane_offset = p.lane_offset;
    lr.packed_w_bits = p.packed_w_bits, lr.packing_note = p.packing_note;
    lr.tiles = int64_t(p.tiles.size()), lr.k_tiles = p.k_tiles, lr.tn = p.tn;
    lr.weights_resident = p.weights_resident;
    lr.mapping = p.map;
    lr.m_tiles = p.map.m_tiles, lr.tile_k = p.tk;
    for (const auto& rows : run.mt_rows) lr.tile_m = std::max(lr.tile_m, int64_t(rows.size()));
    lr.tile_rows = p.tile_rows, lr.tile_cols = p.tile_cols, lr.k_channels = p.k_channels;
    lr.group_pack = p.group_pack;
    lr.weight_bytes = p.weight_bytes;
    for (int i = 0; i < 3; ++i) lr.dram_by[i] = run.dram_by[i];
    // The analytic estimate models two engines; a single-engine design (a list of one dsp48)
    // has no second engine to price, and reading one was a segmentation fault.
    if (specs.size() >= 2) {
      const MappingEstimate e = estimate_plan(p, *run.layer, cfg);
      lr.est_compute.assign(std::begin(e.compute_cycles), std::end(e.compute_cycles));
    }
    // A layer's time runs from the end of the previous layer to its last output in DRAM.
    lr.start_cycle = to_cycles(prev_end, f.clock);
    lr.end_cycle = to_cycles(run.end, f.clock);
    lr.cycles = std::max<int64_t>(0, lr.end_cycle - lr.start_cycle);
    const int li = int(&run - f.runs.data());
    lr.core.resize(top->engines.size());
    int64_t compute = 0;
    for (const auto& e : top->engines) {
      const int c = e->slot();
      const CoreLayerStats& cs = e->stats(run);
      // Waiting at the end of the layer for the engine that finishes last: only the top sees
      // every engine, so it counts this one into the engine's group.
      sc_time other = sc_core::SC_ZERO_TIME;
      for (const auto& o : top->engines)
        if (o != e) other = std::max(other, o->stats(run).last_end);
      StatGroup& g = e->stat_group();
      const ArrayCore* ac = dynamic_cast<const ArrayCore*>(e.get());
      if (ac)
        g.add(ac->ids().stall_other,
              other > cs.last_end ? to_cycles(other - cs.last_end, f.clock) : 0, li);
      // The report's per-engine figures, read from the engine's own counters.
      CoreResult& cr = lr.core[size_t(c)];
      const auto at = [&](const char* n) { return g.at(g.find(n), li); };
      cr.busy = at("busy"), cr.jobs = at("jobs"), cr.macs = at("macs");
      cr.stall_dram = at("stall_dram"), cr.stall_buffer = at("stall_buffer");
      cr.stall_other = at("stall_other");
      cr.rows = p.engines[size_t(c)].rows, cr.spilled_rows = p.engines[size_t(c)].spilled_rows;
      compute = std::max(compute, cr.busy);
    }
    lr.dram_bytes = run.dram_bytes;
    lr.memory_cycles = covered_cycles(run.transfers, f.clock);
    lr.bound = lr.memory_cycles > compute ? "memory" : "compute";
    lr.overflows = run.overflows;
    lr.out = std::move(run.out);
    if (opt.events)
      opt.events->layer(int(r.layers.size()), ps_of_seconds(prev_end.to_seconds()),
                        ps_of_seconds(run.end.to_seconds()), lr.macs, lr.dram_bytes, lr.cycles);
    prev_end = run.end;
    r.layers.push_back(std::move(lr));
  }
  last_end = std::max(last_end, prev_end);
  if (flow) {
    const Graph& g = *opt.graph;
    for (size_t i = 0; i < g.ops.size(); ++i) {
      const Op& op = g.ops[i];
      OpResult o;
      o.name = op.name;
      o.kind = op.kind;
      o.layer = op.layer;
      o.engine = op.layer >= 0 ? "cores" : "vector";
      const sc_time end = op.layer >= 0 ? f.runs[size_t(op.layer)].end : flow->timing[i].end;
      o.start_cycle = to_cycles(op_begin[i], f.clock);
      o.end_cycle = to_cycles(end, f.clock);
      o.cycles = std::max<int64_t>(0, o.end_cycle - o.start_cycle);
      o.busy_cycles = flow->timing[i].busy_cycles;
      o.dram_bytes =
          op.layer >= 0 ? f.runs[size_t(op.layer)].dram_bytes : flow->timing[i].dram_bytes;
      o.out_elements = g.tensors[size_t(op.output)].size();
      last_end = std::max(last_end, end);
      r.ops.push_back(std::move(o));
    }
    r.tensors = std::move(flow->store);
    r.vector_busy_cycles = top->vector->busy_cycles();
    r.tensor_peak_bytes = flow->memory.peak_live_bytes;
    if (flow->memory.peak_op >= 0) r.tensor_peak_op = g.ops[size_t(flow->memory.peak_op)].name;
  }
  r.total_cycles = to_cycles(last_end, f.clock);
  r.weight_dram_bytes = weight_bytes;
  for (const auto& e : top->engines) r.stats.push_back(e->stat_group());
  r.stats.push_back(top->dma.stat_group());
  r.stats.push_back(top->dram.stat_group());
  r.stats.push_back(top->input.stat_group());
  r.stats.push_back(top->output.stat_group());
  for (const auto& w : top->weights) r.stats.push_back(w->stat_group());
  return r;
}

}  // namespace msq
