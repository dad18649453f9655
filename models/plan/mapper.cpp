#include "models/plan/mapper.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <limits>
#include <utility>
#include <vector>

#include "models/error.h"
#include "models/hw/engine_registry.h"
#include "models/plan/mapping_file.h"

namespace msq {

namespace {

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}
int64_t round_up(int64_t a, int64_t b) {
  return ceil_div(a, b) * b;
}

MappingCost& cost_fn() {
  static MappingCost c;
  return c;
}

constexpr std::array<const char*, 6> kOrders = {"NKM", "NMK", "KNM", "KMN", "MNK", "MKN"};

// The pixel tiles of one tile geometry, as the estimate needs them (they follow make_tiles).
struct NStats {
  int64_t tr = 0, tc = 0;
  int64_t tiles = 0;             // over the whole batch
  int64_t cn[kMaxEngines] = {};  // per engine: sum over tiles of ceil(tn / its columns)
  int64_t max_tn = 0, n = 0;     // largest tile, all columns
  int64_t region_px = 0;         // input pixels the tiles read, halos included
  int64_t max_region_px = 0;     // of one tile
  // Summed over the tiles: the places in DRAM one load of a tile reads and one write of its
  // outputs writes, each an image row from the next (make_tiles, the scheduler's output
  // writes): whole rows are one place, part of each row (part of one output row, or a box) one
  // place per input row, and a box's outputs one per output row.
  int64_t places = 0, out_places = 0;
};

NStats nstats_of(const LayerShape& s, int64_t tr, int64_t tc, const int64_t* cols, int E) {
  NStats ns;
  ns.tr = tr, ns.tc = tc;
  const int64_t Hout = s.out_h(), Wout = s.out_w();
  auto add = [&](int64_t tn, int64_t px, int64_t places, int64_t out_places, int64_t times) {
    ns.tiles += times;
    ns.places += places * times;
    ns.out_places += out_places * times;
    for (int c = 0; c < E; ++c) ns.cn[c] += ceil_div(tn, cols[c]) * times;
    ns.max_tn = std::max(ns.max_tn, tn);
    ns.n += tn * times;
    ns.region_px += px * times;
    ns.max_region_px = std::max(ns.max_region_px, px);
  };
  if (Hout * Wout == 1) {
    const int64_t img = int64_t(s.in_h) * s.in_w;
    for (int64_t b0 = 0; b0 < s.batch; b0 += tr) {
      const int64_t tn = std::min(tr, s.batch - b0);
      add(tn, tn * img, 1, 1, 1);
    }
    return ns;
  }
  for (int64_t oh0 = 0; oh0 < Hout; oh0 += tr)
    for (int64_t ow0 = 0; ow0 < Wout; ow0 += tc) {
      const int64_t r = std::min(tr, Hout - oh0), c = std::min(tc, Wout - ow0);
      const int64_t ih0 = std::max<int64_t>(0, oh0 * s.sh - s.ph);
      const int64_t ih1 = std::min<int64_t>(s.in_h, (oh0 + r - 1) * s.sh - s.ph + s.kh);
      const int64_t iw0 = tc == Wout ? 0 : std::max<int64_t>(0, ow0 * s.sw - s.pw);
      const int64_t iw1 =
          tc == Wout ? s.in_w : std::min<int64_t>(s.in_w, (ow0 + c - 1) * s.sw - s.pw + s.kw);
      const int64_t rows = std::max<int64_t>(0, ih1 - ih0);
      add(r * c, rows * std::max<int64_t>(0, iw1 - iw0), tc == Wout ? 1 : rows, tc == Wout ? 1 : r,
          s.batch);
    }
  return ns;
}

// Everything about a row split that the estimate needs, computed once per split.
struct Ctx {
  const QuantLayer& L;
  const RunConfig& cfg;
  const LayerPlan& base;  // rows, blocks, buffer slots (no tiles)
  int E = 0;              // engines, in engine_specs order
  // The engines' rates (engine_rate).
  int64_t cols[kMaxEngines] = {}, pipe[kMaxEngines] = {}, drain[kMaxEngines] = {},
          cycles_per_k[kMaxEngines] = {};
  int64_t nb[kMaxEngines] = {}, packed_blocks[kMaxEngines] = {};
  std::vector<int64_t> bits_prefix[kMaxEngines], rows_prefix[kMaxEngines];  // over its blocks
  int64_t max_block_bits = 0;
  double bw = 1;  // bytes per fabric cycle
  int64_t setup = 0, burst = 32;
  // The pipeline estimate of grouped convolutions: bytes per fabric cycle of the ports each
  // stream may use, the DRAM's, and whether reads and writes run at once (bound streams: an AXI
  // port's read and write channels are separate; unbound, one transfer holds every port).
  double rate_in = 1, rate_out = 1, rate_w = 1, dram_bw = 1;
  bool duplex = false, w_own_port = false;
  // The DRAM as an in-order controller serves short scattered runs: fabric cycles per burst and
  // per row opened (precharge and activate), and the bytes of a row.
  double burst_cycles = 0, act_cycles = 0;
  int64_t row_bytes = 4096;

  Ctx(const QuantLayer& l, const RunConfig& c, const LayerPlan& b) : L(l), cfg(c), base(b) {
    const auto& a = cfg.accelerator;
    // Every engine of the list, by slot; a plan carries one EnginePlan per engine.
    const std::vector<EngineSpec> specs = engine_specs(a);
    E = int(std::min(base.engines.size(), size_t(kMaxEngines)));
    // plan_footprint prices no engine (its config is a placeholder): only the plan's blocks.
    std::fill(std::begin(cols), std::end(cols), int64_t(1));
    std::fill(std::begin(cycles_per_k), std::end(cycles_per_k), int64_t(1));
    for (int e = 0; e < std::min(E, int(specs.size())); ++e) {
      const EngineRate r = engine_rate(specs[size_t(e)]);
      cols[e] = r.cols, cycles_per_k[e] = r.cycles_per_k;
      pipe[e] = specs[size_t(e)].pipeline_depth;
      drain[e] = specs[size_t(e)].drain_cycles;
    }
    for (int e = 0; e < E; ++e) {
      const auto& blocks = base.blocks(e);
      nb[e] = int64_t(blocks.size());
      bits_prefix[e].assign(1, 0);
      rows_prefix[e].assign(1, 0);
      for (const RowBlock& blk : blocks) {
        bits_prefix[e].push_back(bits_prefix[e].back() + blk.weight_bits_per_k);
        rows_prefix[e].push_back(rows_prefix[e].back() + int64_t(blk.rows.size()));
        max_block_bits = std::max(max_block_bits, blk.weight_bits_per_k);
        if (blk.packed) ++packed_blocks[e];
      }
    }
    const auto& m = cfg.memory;
    const double axi = double(m.axi_ports) * m.axi_width_bits / 8.0 *
                       (m.axi_clock_mhz > 0 ? m.axi_clock_mhz / cfg.clock_mhz : 1.0);
    const double dram =
        m.dram.clock_mhz * 2.0 * m.dram.data_width_bits / 8.0 * m.dram.channels / cfg.clock_mhz;
    // The AXI ports move a beat per port clock; row changes, refresh and turnaround keep a DRAM
    // below its peak. The factor only ranks mappings (the simulation times the chosen one).
    bw = std::max(1e-3, std::min(axi, dram * 0.85));
    setup = m.dma_setup_cycles;
    burst = std::max<int64_t>(1, int64_t(m.dram.data_width_bits) / 8 * m.dram.burst_length);
    dram_bw = std::max(1e-3, dram * 0.85);
    const auto& d = m.dram;
    const double per_fabric = cfg.clock_mhz / std::max(1.0, d.clock_mhz) / std::max(1, d.channels);
    burst_cycles = double(std::max(d.tCCD, d.burst_length / 2)) * per_fabric;
    act_cycles = double(d.tRP + d.tRCD) * per_fabric;
    row_bytes = std::max(1, d.row_bytes);
    duplex = m.streams.any();
    const double port = axi / std::max(1, m.axi_ports);
    const auto rate = [&](const std::vector<int>& ports) {
      return std::max(1e-3, ports.empty() ? axi : port * double(ports.size()));
    };
    rate_in = rate(m.streams.inputs), rate_out = rate(m.streams.outputs);
    rate_w = rate(m.streams.weights);
    // Weights overlap the activations when their ports are theirs alone.
    w_own_port = duplex && !m.streams.weights.empty();
    for (int q : m.streams.weights)
      for (const std::vector<int>* v : {&m.streams.inputs, &m.streams.outputs})
        if (v->empty() || std::find(v->begin(), v->end(), q) != v->end()) w_own_port = false;
  }
};

// One k tiling.
struct KStats {
  int kc = 0;
  int64_t k_tiles = 1, tk_max = 0, drains = 0;  // drains: sum over k tiles of ceil(tk / chain)
  int64_t seg_bytes_sum = 0;  // sum over k tiles of one pixel's channels, rounded up to bursts
};

KStats kstats_of(const Ctx& x, int kc) {
  const LayerShape& s = x.L.shape;
  KStats k;
  k.kc = kc;
  k.k_tiles = ceil_div(s.in_c, kc);
  const int64_t win = int64_t(s.kh) * s.kw;
  for (int64_t kt = 0; kt < k.k_tiles; ++kt) {
    const int64_t ch = std::min<int64_t>(kc, s.in_c - kt * kc);
    const int64_t tk = s.groups == 1 ? ch * win : s.k();
    k.tk_max = std::max(k.tk_max, tk);
    if (x.base.chain > 0) k.drains += ceil_div(tk, x.base.chain);
    k.seg_bytes_sum += round_up(ch * x.base.act_bytes, x.burst);
  }
  return k;
}

// The engines' busy cycles: they depend on the tiles, not on the loop order.
void compute_cycles(const Ctx& x, const NStats& ns, const KStats& ks, int64_t* out) {
  const int64_t K = x.L.shape.k();
  const int64_t jobs_per_block = ns.tiles * ks.k_tiles;
  for (int e = 0; e < x.E; ++e)
    out[e] = x.nb[e] * (ns.cn[e] * K * x.cycles_per_k[e] + jobs_per_block * x.pipe[e]) +
             x.packed_blocks[e] * ns.cn[e] * ks.drains * x.drain[e];
}

struct MStats {
  int64_t m_tiles = 1;
  int64_t max_rows = 0;                  // rows of the largest output-channel tile
  int64_t max_bits[kMaxEngines] = {};    // weight bits per k step of an engine's largest tile
  int64_t max_blocks[kMaxEngines] = {};  // blocks of an engine's largest tile
  // Grouped convolutions with several output-channel tiles (channel tiles): each tile loads only
  // its groups' input channels, one run per pixel, and writes its rows, one run per pixel. The
  // most channels of a tile; summed over the tiles, one pixel's input bytes, and the bytes of the
  // DRAM bursts one pixel's input and output runs touch (a run starts where its tile's channels
  // start within the pixel, so a short run can touch two bursts).
  int64_t max_ch = 0, seg_bytes_sum = 0, in_burst_sum = 0, out_burst_sum = 0;
};

// Whether a grouped convolution's output-channel tiles load only their own groups' channels.
bool channel_tiles(const LayerShape& s, int64_t m_tiles) {
  return s.groups > 1 && m_tiles > 1;
}

MStats mstats_of(const Ctx& x, int64_t T) {
  MStats m;
  m.m_tiles = T;
  const LayerShape& s = x.L.shape;
  const bool ct = channel_tiles(s, T);
  std::vector<int32_t> groups;
  const int64_t bb = x.burst;
  const auto touched = [bb](int64_t start, int64_t len) {
    return len <= 0 ? 0 : ((start % bb + len + bb - 1) / bb) * bb;
  };
  int64_t ch0 = 0, row0 = 0;
  for (int64_t mt = 0; mt < T; ++mt) {
    int64_t rows = 0;
    groups.clear();
    for (int e = 0; e < x.E; ++e) {
      const int64_t b0 = x.nb[e] * mt / T, b1 = x.nb[e] * (mt + 1) / T;
      rows += x.rows_prefix[e][size_t(b1)] - x.rows_prefix[e][size_t(b0)];
      m.max_bits[e] =
          std::max(m.max_bits[e], x.bits_prefix[e][size_t(b1)] - x.bits_prefix[e][size_t(b0)]);
      m.max_blocks[e] = std::max(m.max_blocks[e], b1 - b0);
      if (ct)
        for (int64_t b = b0; b < b1; ++b)
          for (int32_t r : x.base.blocks(e)[size_t(b)].rows)
            groups.push_back(r / s.rows_per_group());
    }
    m.max_rows = std::max(m.max_rows, rows);
    if (ct) {
      std::sort(groups.begin(), groups.end());
      const int64_t ch =
          int64_t(std::unique(groups.begin(), groups.end()) - groups.begin()) * (s.in_c / s.groups);
      m.max_ch = std::max(m.max_ch, ch);
      m.seg_bytes_sum += ch * x.base.act_bytes;
      m.in_burst_sum += touched(ch0 * x.base.act_bytes, ch * x.base.act_bytes);
      m.out_burst_sum += touched(row0 * x.base.out_bytes, rows * x.base.out_bytes);
      ch0 += ch, row0 += rows;
    }
  }
  if (!ct) {
    m.max_ch = s.in_c;
    m.seg_bytes_sum = m.in_burst_sum = int64_t(s.in_c) * x.base.act_bytes;
    m.out_burst_sum = s.m() * x.base.out_bytes;
  }
  return m;
}

struct Levels {
  int n, k, m;
};
Levels levels_of(const std::string& order) {
  return Levels{int(order.find('N')), int(order.find('K')), int(order.find('M'))};
}

// A tile stays in its buffer from its first use to its last within its keep level. Unless a
// loop at or inside that level skips the tensor (M for inputs, N for weights) and runs more than
// once, each tile is used once and freed: then one tile is all the buffer must hold.
int64_t input_footprint(const Ctx& x, const NStats& ns, const KStats& ks, const MStats& ms,
                        const Levels& lv, int keep) {
  // Channel tiles: each (pixel tile, output-channel tile) loads its own channels, used by one step.
  if (channel_tiles(x.L.shape, ms.m_tiles)) return ns.max_region_px * ms.max_ch * x.base.act_bytes;
  if (!(lv.m >= keep && ms.m_tiles > 1)) return ns.max_region_px * ks.kc * x.base.act_bytes;
  const int64_t px = lv.n >= keep ? ns.region_px : ns.max_region_px;
  const int64_t ch = lv.k >= keep ? x.L.shape.in_c : ks.kc;
  return px * ch * x.base.act_bytes;
}

int64_t weight_footprint(const Ctx& x, const NStats& ns, const KStats& ks, const MStats& ms,
                         const Levels& lv, int keep, int e) {
  if (x.nb[e] == 0) return 0;
  if (keep == 0) return x.base.engines[size_t(e)].weight_bytes;  // one load for the layer
  if (!(lv.n >= keep && ns.tiles > 1)) {
    int64_t widest = 0;
    for (size_t b = 0; b + 1 < x.bits_prefix[e].size(); ++b)
      widest = std::max(widest, x.bits_prefix[e][b + 1] - x.bits_prefix[e][b]);
    return ceil_div(widest * ks.tk_max, 8);
  }
  const bool all_m = lv.m >= keep, all_k = lv.k >= keep;
  const int64_t bits = all_m ? x.bits_prefix[e].back() : ms.max_bits[e];
  const int64_t blocks = all_m ? x.nb[e] : ms.max_blocks[e];
  const int64_t depth = all_k ? x.L.shape.k() : ks.tk_max;
  return ceil_div(bits * depth, 8) + blocks;  // each block's load rounds up to a byte
}

int64_t output_footprint(const Ctx& x, const NStats& ns, const KStats& ks, const MStats& ms,
                         const Levels& lv) {
  // Partial sums of every output tile the K loop revisits stay in the buffer.
  const bool split = ks.k_tiles > 1;
  const int64_t rows = split && lv.m > lv.k ? x.L.shape.m() : ms.max_rows;
  const int64_t cols = split && lv.n > lv.k ? ns.n : ns.max_tn;
  return rows * cols * (split ? x.base.acc_bytes : x.base.out_bytes);
}

MappingEstimate estimate(const Ctx& x, const NStats& ns, const KStats& ks, const MStats& ms,
                         const std::string& order, int keep_in, int keep_w, const int64_t* comp) {
  const LayerShape& s = x.L.shape;
  const Levels lv = levels_of(order);
  const LayerPlan& b = x.base;
  MappingEstimate e;
  e.compute_cycles.assign(comp, comp + x.E);
  // Weights: loaded again for every pixel tile when the N loop lies outside the kept level.
  const int64_t w_reload = lv.n < keep_w ? ns.tiles : 1;
  e.weight_bytes = b.weight_bytes * w_reload;
  e.weight_reloads = double(w_reload);
  int64_t w_transfers = 0;
  for (int c = 0; c < x.E; ++c)
    if (x.nb[c] > 0) w_transfers += keep_w == 0 ? 1 : x.nb[c] * ks.k_tiles * w_reload;
  // Inputs: loaded again for every output-channel tile when the M loop lies outside; channel
  // tiles load each tile's own channels once.
  const bool ct = channel_tiles(s, ms.m_tiles);
  const int64_t i_reload = !ct && lv.m < keep_in ? ms.m_tiles : 1;
  const int64_t in_once = ct                ? ns.region_px * ms.in_burst_sum
                          : ks.k_tiles == 1 ? ns.region_px * s.in_c * b.act_bytes
                                            : ns.region_px * ks.seg_bytes_sum;
  e.input_bytes = in_once * i_reload;
  e.input_reloads = double(i_reload);
  // Outputs: written once; an output-channel tile's channels of a pixel are one run.
  const int64_t M = s.m();
  e.output_bytes = ct                ? ns.n * ms.out_burst_sum
                   : ms.m_tiles == 1 ? ns.n * M * b.out_bytes
                                     : ns.n * ms.m_tiles *
                                           round_up(ceil_div(M, ms.m_tiles) * b.out_bytes, x.burst);
  const int64_t in_transfers = ns.tiles * (ct ? ms.m_tiles : ks.k_tiles * i_reload);
  e.transfers = w_transfers + in_transfers + ns.tiles * ms.m_tiles;
  e.dma_cycles = int64_t(double(e.weight_bytes + e.input_bytes + e.output_bytes) / x.bw) +
                 e.transfers * x.setup;
  const int64_t compute = *std::max_element(comp, comp + std::max(1, x.E));
  const int64_t steps = ns.tiles * ks.k_tiles * ms.m_tiles;
  // The bandwidth bound, what cannot overlap. DMA-bound: the DMA time holds every load and
  // write; after the last load comes one step of work (weights resident: the last load is an
  // input tile) or one job (streamed weights: a block's weights). Compute-bound: the first input
  // and weight tiles before any job, the last output tile after the last one. It counts neither
  // ports nor DRAM rows; with double buffering the pipeline below does, and an ordinary layer
  // takes the larger of the two (the bound stays exact where compute hides the DMA).
  const int64_t first_w = keep_w == 0 ? 0 : ceil_div(x.max_block_bits * ks.tk_max, 8);
  int64_t jobs = 0;
  for (int c = 0; c < x.E; ++c) jobs = std::max(jobs, x.nb[c] * ns.tiles * ks.k_tiles);
  const int64_t last_unit = std::max<int64_t>(1, keep_w == 0 ? steps : std::max(steps, jobs));
  if (!x.cfg.accelerator.buffers.double_buffer) {
    e.cycles = compute + e.dma_cycles;
  } else if (e.dma_cycles >= compute) {
    e.cycles = e.dma_cycles + compute / last_unit;
  } else {
    const int64_t fill =
        int64_t(double(ns.max_region_px * ks.kc * b.act_bytes + first_w) / x.bw) + 2 * x.setup;
    const int64_t drain = int64_t(double(ms.max_rows * ns.max_tn * b.out_bytes) / x.bw) + x.setup;
    e.cycles = compute + fill + drain;
  }
  if (x.cfg.accelerator.buffers.double_buffer) {
    // Every step runs its jobs while the scheduler loads the next step's tiles and writes the
    // previous one's outputs, each stream on its own ports. A pipeline of `steps` equal stages
    // (each carrying its share of the layer's loads and writes, also when an input tile serves
    // several steps or an output tile waits for its last k tile): the first input tile and
    // weights, the slowest stage for every further step, the last work and output tile.
    // The ports move the bytes, the DRAM whole bursts.
    const double S = double(std::max<int64_t>(1, steps));
    const double in_bytes = double(ns.region_px * ms.seg_bytes_sum) * double(i_reload);
    const double out_bytes = double(ns.n * M * b.out_bytes);
    const double load = in_bytes / S / x.rate_in + double(in_transfers) / S * x.setup;
    const double write = out_bytes / S / x.rate_out + double(ns.tiles * ms.m_tiles) / S * x.setup;
    const double wtime = double(e.weight_bytes) / x.rate_w + double(w_transfers) * x.setup;
    const double wload = keep_w == 0 ? 0.0 : wtime / S;
    const double work = double(compute) / S;
    // The DRAM: every burst the runs touch, and a row opened for every row's worth of the span
    // each transfer sweeps, and one more for each place it reads or writes (a channel tile's
    // runs are a pixel apart, so it sweeps its whole region's rows; a tile of part of each input
    // row reads each input row in its own place, an image row from the next, and a box writes
    // each of its output rows in its own; the other streams' transfers in between close them).
    const int64_t pix_in = int64_t(s.in_c) * b.act_bytes, pix_out = M * b.out_bytes;
    const int64_t in_sweeps = ct ? ms.m_tiles : i_reload * ks.k_tiles;
    const double rows_opened =
        double(in_sweeps) *
            (double(ns.region_px * pix_in) / double(x.row_bytes) + double(ns.places)) +
        double(ms.m_tiles) *
            (double(ns.n * pix_out) / double(x.row_bytes) + double(ns.out_places)) +
        double(e.weight_bytes) / double(x.row_bytes) + double(w_transfers);
    const double dram_time =
        double(e.dram_bytes()) / double(x.burst) * x.burst_cycles + rows_opened * x.act_cycles;
    double period = x.duplex ? std::max(load, write) : load + write;
    period = x.w_own_port ? std::max(period, wload) : period + wload;
    period = std::max({period, work, dram_time / S});
    // Weights that stay for the layer load at its start (the previous layer's may still hold
    // the weight buffer), beside the first input tile when they have their own port; streamed
    // weights hold the first job until its block's weights are in, and a step's jobs wait for
    // the rest of its blocks (a fully connected layer is one step of weight loads).
    const double in_tile =
        in_bytes / double(std::max<int64_t>(1, in_transfers)) / x.rate_in + double(x.setup);
    const double out_tile =
        out_bytes / double(std::max<int64_t>(1, ns.tiles * ms.m_tiles)) / x.rate_out +
        double(x.setup);
    const double w_first = keep_w != 0 ? double(first_w) / x.rate_w + double(x.setup) : wtime;
    const double first = x.w_own_port ? std::max(in_tile, w_first) : in_tile + w_first;
    const int64_t pipeline = int64_t(first + std::max(work, wload) + out_tile + (S - 1) * period);
    e.cycles = s.groups > 1 ? pipeline : std::max(e.cycles, pipeline);
  }
  return e;
}

double cost_of(const LayerPlan& p, const MappingEstimate& e) {
  const MappingCost& f = cost_fn();
  return f ? f(p, e) : double(e.cycles);
}

// Distinct values of ceil(n / t) for t = 1..n, largest first; at most `cap` of them (the
// largest, then a geometric spread of the rest).
std::vector<int64_t> splits(int64_t n, size_t cap) {
  std::vector<int64_t> v;
  for (int64_t t = 1; t <= n; ++t) {
    const int64_t x = ceil_div(n, t);
    if (v.empty() || v.back() != x) v.push_back(x);
  }
  if (v.size() <= cap) return v;
  std::vector<int64_t> out;
  for (size_t i = 0; i < cap; ++i) {
    const size_t j = size_t(double(i) * double(v.size() - 1) / double(cap - 1) + 0.5);
    if (out.empty() || out.back() != v[j]) out.push_back(v[j]);
  }
  return out;
}

}  // namespace

void set_mapping_cost(MappingCost cost) {
  cost_fn() = std::move(cost);
}

int natural_keep(const std::string& order, const char* loops) {
  int j = -1;
  for (const char* l = loops; *l; ++l) j = std::max(j, int(order.find(*l)));
  return j + 1;
}

MappingFootprint plan_footprint(const LayerPlan& p, const QuantLayer& L) {
  RunConfig dummy;
  const Ctx x(L, dummy, p);
  int64_t cols[kMaxEngines];
  std::fill(std::begin(cols), std::end(cols), int64_t(1));
  const NStats ns = nstats_of(L.shape, p.tile_rows, p.tile_cols, cols, x.E);
  const KStats ks = kstats_of(x, p.k_channels);
  const MStats ms = mstats_of(x, p.map.m_tiles);
  const Levels lv = levels_of(p.map.order);
  MappingFootprint f;
  f.input = input_footprint(x, ns, ks, ms, lv, p.map.keep_in);
  f.output = output_footprint(x, ns, ks, ms, lv);
  for (int e = 0; e < x.E; ++e)
    f.weights.push_back(weight_footprint(x, ns, ks, ms, lv, p.map.keep_w, e));
  return f;
}

MappingEstimate estimate_plan(const LayerPlan& p, const QuantLayer& L, const RunConfig& cfg) {
  const Ctx x(L, cfg, p);
  const NStats ns = nstats_of(L.shape, p.tile_rows, p.tile_cols, x.cols, x.E);
  const KStats ks = kstats_of(x, p.k_channels);
  const MStats ms = mstats_of(x, p.map.m_tiles);
  int64_t comp[kMaxEngines] = {};
  compute_cycles(x, ns, ks, comp);
  return estimate(x, ns, ks, ms, p.map.order, p.map.keep_in, p.map.keep_w, comp);
}

namespace {

// The search, or with `g` (a row of a mapping file) the given tiles with only what the row leaves
// open searched; with `split_only`, on that row split alone.
LayerPlan plan_impl(const QuantLayer& L, const RunConfig& cfg, const std::string& where,
                    const GivenLayerMapping* g, const std::string& gfile,
                    const RowOptions* split_only = nullptr) {
  const LayerShape& s = L.shape;
  const auto& acc = cfg.accelerator;
  const bool search = acc.scheduler.mapping == MappingMode::Search || g;
  // A given row's problems name the file, its line and the layer.
  const auto given_error = [&](const std::string& col, const std::string& what) {
    return InputError(gfile, g->line, col, "layer " + clip_text(g->layer) + ": " + what);
  };
  const bool balance = acc.scheduler.balance == BalanceMode::PerLayer;
  // The estimate takes any engine list, each engine with the rows the row assignment gives it.
  // Moving SP2 rows between engines (balance: per_layer, a given lut_share) knows two engines,
  // one built for SP2 rows and one for fixed-point rows.
  const std::vector<EngineSpec> specs = engine_specs(acc);
  const int E = int(specs.size());
  if (E > kMaxEngines)
    throw InputError(fmt::format("{}: accelerator.engines: expected at most {} engines (got {})",
                                 where, kMaxEngines, E));
  std::vector<EngineCaps> caps;
  for (const EngineSpec& e : specs) caps.push_back(engine_kind(e.impl, e.name).caps(e));
  const bool pair =
      E == 2 && caps[0].home_sp2 != caps[1].home_sp2 && caps[0].home_fixed != caps[1].home_fixed;
  if (g && g->lut_share >= 0 && !pair)
    throw given_error(
        "lut_share",
        fmt::format("a share of the rows on the SP2 engine needs exactly two engines, one built "
                    "for SP2 rows and one for fixed-point rows (accelerator.engines lists {}); "
                    "expected an empty lut_share",
                    E));
  const EngineSpec& sp2e = specs[pair && !caps[0].home_sp2 ? 1 : 0];
  const EngineSpec& fixe = specs[pair && !caps[0].home_sp2 ? 0 : size_t(E - 1)];

  struct Best {
    bool found = false;
    double cost = 0;
    int64_t dram = 0;
    RowOptions rows;
    std::string order;
    int64_t m_tiles = 1, tr = 0, tc = 0;
    int kc = 0, keep_in = 0, keep_w = 0;
    MappingEstimate est;
  } best;
  int64_t evaluated = 0;

  // The fixed rule's plan: a candidate, so that the search is never worse in the estimate.
  LayerPlan fixed;
  bool have_fixed = false;
  std::string fixed_error;
  MappingEstimate fixed_est;
  // A given mapping is not compared with the fixed rule.
  if (!g) try {
      fixed = plan_rows(L, cfg, where, RowOptions{});
      tile_fixed(fixed, L, cfg, where);
      fixed.map.keep_in = natural_keep(fixed.map.order, "NK");
      fixed_est = estimate_plan(fixed, L, cfg);
      have_fixed = true;
      best.found = true;
      best.cost = cost_of(fixed, fixed_est);
      best.dram = fixed_est.dram_bytes();
      best.est = fixed_est;
    } catch (const InputError& e) {
      fixed_error = e.what();
    }

  // Row splits to try: the groups sharing a row block (grouped convolutions), and with
  // balance: per_layer the SP2 rows moved to the fixed-point engine.
  // Groups per row block, per engine slot.
  using Pack = std::array<int, kMaxEngines>;
  Pack ones;
  ones.fill(1);
  std::vector<Pack> packs = {ones};
  if (search && s.groups > 1) {
    // Each group in a block reads its own activations: the input buffer's ports (a 64-bit word
    // per BRAM36 and cycle, half the blocks per slot when double-buffered) must feed every
    // column of every array with each of their groups' activations. An engine reads a column's
    // activation per k step: a bit-serial array every two cycles, an activation-packed one two
    // columns per slice (engine_rate). Each engine takes as many groups as the ports leave it,
    // for every split of the ports among the engines.
    const int slots = acc.buffers.double_buffer ? 2 : 1;
    const int64_t port_bytes = int64_t(acc.buffers.input_bram36) / slots * 8;
    int64_t need[kMaxEngines], gmax[kMaxEngines];
    for (int e = 0; e < E; ++e) {
      const EngineRate r = engine_rate(specs[size_t(e)]);
      need[e] = std::max<int64_t>(1, ceil_div(r.cols, r.cycles_per_k) * (L.act_bits <= 8 ? 1 : 2));
      gmax[e] = std::min<int64_t>(
          s.groups, std::max<int64_t>(1, specs[size_t(e)].rows / std::max(1, s.rows_per_group())));
    }
    // Every engine but the last takes 1.. groups while one group of each later engine still
    // fits; the last takes what is left. Only splits where no engine could take one more group
    // (in ascending order of the first engines' counts; at most kMaxPacks of them).
    constexpr size_t kMaxPacks = 256;
    int64_t min_rest[kMaxEngines + 1] = {};  // one group of each engine from e on
    for (int e = E - 1; e >= 0; --e) min_rest[e] = min_rest[e + 1] + need[e];
    Pack gp = ones;
    const auto walk = [&](const auto& self, int e, int64_t used) -> void {
      if (E > 2 && packs.size() >= kMaxPacks) return;  // two engines: every split, as before
      if (e == E - 1) {
        const int64_t last = std::min(gmax[e], (port_bytes - used) / need[e]);
        gp[size_t(e)] = int(last);
        const int64_t total = used + last * need[e];
        bool more = false, any = false;
        for (int i = 0; i < E; ++i) {
          more |= gp[size_t(i)] < gmax[i] && total + need[i] <= port_bytes;
          any |= gp[size_t(i)] > 1;
        }
        if (!more && any) packs.push_back(gp);
        return;
      }
      for (int64_t g = 1; g <= gmax[e] && used + g * need[e] + min_rest[e + 1] <= port_bytes; ++g) {
        gp[size_t(e)] = int(g);
        self(self, e + 1, used + g * need[e]);
      }
    };
    if (min_rest[0] <= port_bytes) walk(walk, 0, 0);
  }
  std::vector<int64_t> spills = {-1};
  // The row splits tried: with two engines, one for each scheme, `spills`; with any other list
  // and balance: per_layer, the capability split, scheduler.spill's compute balance and moves of
  // one engine's last rows to another engine that can run them.
  std::vector<RowOptions> row_opts;
  if (balance && !pair) {
    row_opts.emplace_back();
    RowOptions balanced;
    balanced.spill_balance = true;
    row_opts.push_back(balanced);
    // From the capability split: for each pair of engines, the numbers of rows that end at a
    // row-block boundary of either engine (two rows a slice when the target packs), at most
    // kMovesPerPair of them spread over the range.
    constexpr size_t kMovesPerPair = 16;
    const LayerPlan split = plan_rows(L, cfg, where, RowOptions{});
    for (int a = 0; a < E; ++a)
      for (int b = 0; b < E; ++b) {
        if (a == b) continue;
        int64_t movable = 0;
        for (int32_t m = 0; m < s.m(); ++m)
          movable += split.row_engine[size_t(m)] == a &&
                     caps[size_t(b)].can_run(L.scheme[size_t(m)], L.bits[size_t(m)]);
        const int64_t na = split.engines[size_t(a)].rows, nb = split.engines[size_t(b)].rows;
        const int64_t ra = specs[size_t(a)].rows, rb = specs[size_t(b)].rows;
        std::vector<int64_t> ks;
        for (int64_t k = 1; k <= movable; ++k)
          if ((na - k) % ra == 0 || (nb + k) % rb == 0 || (nb + k) % (2 * rb) == 0 || k == movable)
            ks.push_back(k);
        for (size_t i = 0; i < std::min(ks.size(), kMovesPerPair); ++i) {
          const size_t j =
              ks.size() <= kMovesPerPair
                  ? i
                  : size_t(double(i) * double(ks.size() - 1) / double(kMovesPerPair - 1) + 0.5);
          RowOptions mv;
          mv.move_from = a, mv.move_to = b, mv.move_rows = ks[j];
          row_opts.push_back(mv);
        }
      }
  } else if (balance) {
    int64_t sp2 = 0, low_fixed = 0;
    for (int64_t m = 0; m < s.m(); ++m) {
      if (L.scheme[size_t(m)] == uint8_t(Scheme::Sp2))
        ++sp2;
      else if (L.bits[size_t(m)] < 8)
        ++low_fixed;
    }
    spills = {0};
    RunConfig with_spill = cfg;
    with_spill.accelerator.scheduler.spill = true;
    spills.push_back(plan_rows(L, with_spill, where, RowOptions{}).spilled_rows);
    // Block boundaries of either engine: a spill between two of them only leaves a block short.
    for (int64_t k = 1; k <= sp2; ++k)
      if ((sp2 - k) % sp2e.rows == 0 || (low_fixed + k) % (2 * fixe.rows) == 0 ||
          (low_fixed + k) % fixe.rows == 0)
        spills.push_back(k);
    std::sort(spills.begin(), spills.end());
    spills.erase(std::unique(spills.begin(), spills.end()), spills.end());
  }
  const int sp2_slot = pair && !caps[0].home_sp2 ? 1 : 0;
  if (g && g->lut_share >= 0) {
    // The share of the layer's rows on the SP2 engine: SP2 rows move to the other engine until
    // it is met; fixed-point rows never move to the SP2 engine.
    const int64_t want = int64_t(std::llround(g->lut_share * double(s.m())));
    const int64_t can = plan_rows(L, cfg, where, RowOptions{0, 1}).engines[size_t(sp2_slot)].rows;
    if (want > can)
      throw given_error(
          "lut_share",
          fmt::format("{} of {} rows on the SP2 engine ({}) is more than the layer's {} SP2 "
                      "rows it can run (at most {:.4g})",
                      want, s.m(), specs[size_t(sp2_slot)].name, can, double(can) / double(s.m())));
    spills = {can - want};
  }
  if (!split_only && balance && !pair) {
    // Per-layer balance on any other engine list: each row split planned on its own (searched
    // or by the fixed tiling rule, as scheduler.mapping says); a split other than the
    // capability split is taken only when it beats that split's plan by more than
    // kBalanceGain in the estimate, which is not precise enough to pay for less.
    constexpr double kBalanceGain = 0.01;
    RunConfig plain = cfg;
    plain.accelerator.scheduler.balance = BalanceMode::Fixed;
    LayerPlan best_plan = plan_impl(L, plain, where, g, gfile);
    const double base_cost = cost_of(best_plan, estimate_plan(best_plan, L, plain));
    double best_cost = base_cost * (1 - kBalanceGain);
    int64_t candidates = best_plan.map.candidates;
    for (size_t i = 1; i < row_opts.size(); ++i) {
      LayerPlan p;
      try {
        p = plan_impl(L, plain, where, g, gfile, &row_opts[i]);
      } catch (const InputError&) {
        continue;
      }
      candidates += p.map.candidates;
      const double c = cost_of(p, estimate_plan(p, L, plain));
      if (c < best_cost) best_cost = c, best_plan = std::move(p);
    }
    best_plan.map.candidates = candidates;
    return best_plan;
  }
  if (split_only) row_opts = {*split_only};
  if (row_opts.empty())
    for (int64_t spill : spills) row_opts.push_back(RowOptions{spill, 1});
  int64_t given_T = 0, given_tr = 0, given_tc = 0;
  int given_kc = 0;
  if (g) {
    const int64_t Ho = s.out_h(), Wo = s.out_w();
    given_T = ceil_div(s.m(), std::min<int64_t>(g->tile_m, s.m()));
    if (Ho * Wo == 1) {
      // One output pixel: tile_rows counts batch elements and there are no columns to split.
      if (g->tile_cols > 0)
        throw given_error("tile_cols",
                          fmt::format("the layer has one output pixel (a fully connected layer: "
                                      "tile_rows counts batch elements); expected an empty "
                                      "tile_cols (got {})",
                                      g->tile_cols));
      given_tr = std::min<int64_t>(g->tile_rows, s.batch), given_tc = 1;
    } else {
      given_tr = std::min<int64_t>(g->tile_rows, Ho);
      // Several rows of part of the columns: a box (Tile::box_cols).
      given_tc = g->tile_cols > 0 ? std::min<int64_t>(g->tile_cols, Wo) : Wo;
    }
    given_kc = int(g->k_channels > 0 ? std::min<int64_t>(g->k_channels, s.in_c) : s.in_c);
    if (s.groups > 1 && given_kc < s.in_c)
      throw given_error("k_channels",
                        fmt::format("a grouped convolution does not split its input channels: "
                                    "expected {} or empty (got {})",
                                    s.in_c, g->k_channels));
  }
  // For the message when no given tiling fits: the least overflow over the orders tried.
  std::string overflow;
  int64_t overflow_excess = -1;

  const int64_t Hout = s.out_h(), Wout = s.out_w();
  const bool fc = Hout * Wout == 1;
  const int64_t tile_n_cap = acc.scheduler.tile_n > 0 ? acc.scheduler.tile_n : INT64_MAX;
  if (!search) {
    // Balance only: the fixed tiling rule for each split.
    for (const RowOptions& split : row_opts) {
      LayerPlan cand;
      try {
        cand = plan_rows(L, cfg, where, split);
        tile_fixed(cand, L, cfg, where);
      } catch (const InputError&) {
        continue;
      }
      const MappingEstimate e = estimate_plan(cand, L, cfg);
      ++evaluated;
      const double c = cost_of(cand, e);
      if (best.found && (c > best.cost || (c == best.cost && e.dram_bytes() >= best.dram)))
        continue;
      best.found = true;
      best.cost = c, best.dram = e.dram_bytes();
      best.est = e;
      fixed = std::move(cand);  // the plan to return
    }
    packs.clear();
  }
  // Two passes: the least cost, then among the mappings within kTolerance of it the one that
  // moves the fewest DRAM bytes (a cycle estimate is not precise enough to pay for traffic).
  constexpr double kTolerance = 0.01;
  const double fixed_cost = best.found ? best.cost : 0;
  double min_cost = best.found ? best.cost : std::numeric_limits<double>::infinity();
  double limit = min_cost;
  int pass = 0;
  const auto accept = [&](double c, int64_t dram) {
    if (pass == 0) {
      min_cost = std::min(min_cost, c);
      return false;
    }
    if (c > limit) return false;
    return !best.found || dram < best.dram || (dram == best.dram && c < best.cost);
  };
  for (pass = 0; pass < 2 && !packs.empty(); ++pass) {
    if (pass == 1) {
      limit = min_cost * (1 + kTolerance);
      if (have_fixed) limit = std::min(limit, fixed_cost);  // never worse than the fixed rule
      best.found = have_fixed && fixed_cost <= limit;
      evaluated = 0;
    }
    for (const Pack& gp : packs)
      for (const RowOptions& split : row_opts) {
        RowOptions ro = split;
        ro.group_pack = *std::max_element(gp.begin(), gp.begin() + std::max(1, E));
        std::copy(gp.begin(), gp.end(), ro.engine_pack);
        ro.m_tiles = given_T;
        const LayerPlan base = plan_rows(L, cfg, where, ro);
        const Ctx x(L, cfg, base);
        // Pixel tiles: whole output rows, or parts of one row when a row is too large.
        std::vector<NStats> nss;
        if (g) {
          nss.push_back(nstats_of(s, given_tr, given_tc, x.cols, x.E));
        } else if (fc) {
          for (int64_t tb : splits(s.batch, 24)) nss.push_back(nstats_of(s, tb, 1, x.cols, x.E));
        } else {
          for (int64_t tr : splits(Hout, 24)) nss.push_back(nstats_of(s, tr, Wout, x.cols, x.E));
          for (int64_t tc : splits(Wout, 12))
            if (tc < Wout) nss.push_back(nstats_of(s, 1, tc, x.cols, x.E));
        }
        std::vector<int> kcs;
        if (g) {
          kcs.push_back(given_kc);
        } else if (s.groups > 1) {
          kcs = {s.in_c};
        } else {
          // A split k tile reads a short run per pixel: runs of whole DRAM bursts only.
          const int64_t align = std::max<int64_t>(1, x.burst / x.base.act_bytes);
          for (int64_t kc : splits(s.in_c, 24)) {
            if (kc < s.in_c && kc > align) kc = std::min<int64_t>(s.in_c, round_up(kc, align));
            if (acc.scheduler.tile_k > 0 && kc > 1 && kc * s.kh * s.kw > acc.scheduler.tile_k)
              continue;
            if (std::find(kcs.begin(), kcs.end(), int(kc)) == kcs.end()) kcs.push_back(int(kc));
          }
          if (kcs.empty()) kcs = {1};
        }
        const int64_t max_nb =
            std::max<int64_t>(1, *std::max_element(x.nb, x.nb + std::max(1, x.E)));
        const std::vector<int64_t> mts = g        ? std::vector<int64_t>{std::min(given_T, max_nb)}
                                         : search ? splits(max_nb, 16)
                                                  : std::vector<int64_t>{1};
        std::vector<MStats> mss;
        for (int64_t T : mts) mss.push_back(mstats_of(x, T));
        const std::vector<const char*> orders =
            g && !g->order.empty() ? std::vector<const char*>{g->order.c_str()}
            : search               ? std::vector<const char*>(kOrders.begin(), kOrders.end())
                                   : std::vector<const char*>{"NKM"};
        for (const NStats& ns : nss) {
          if (!g && ns.max_tn > tile_n_cap) continue;
          for (int kc : kcs) {
            const KStats ks = kstats_of(x, kc);
            int64_t comp[kMaxEngines] = {};
            compute_cycles(x, ns, ks, comp);
            for (const MStats& ms : mss)
              for (const char* o : orders) {
                const std::string order = o;
                const Levels lv = levels_of(order);
                if (g) {
                  // The given tiles at the least footprint the order allows: what overflows.
                  const int nat_in = channel_tiles(s, ms.m_tiles) ? 0 : natural_keep(order, "NK");
                  const int nat_w = natural_keep(order, "MK");
                  const int ki = g->keep_in >= 0 ? std::min(g->keep_in, nat_in) : nat_in;
                  const int kw = g->keep_w >= 0 ? std::min(g->keep_w, nat_w) : nat_w;
                  // The input tile, each engine's weight tile, the output tile.
                  std::vector<std::pair<std::string, int64_t>> need = {
                      {"input tile", input_footprint(x, ns, ks, ms, lv, ki)}};
                  std::vector<int64_t> have = {base.input_slot_bytes};
                  for (int e = 0; e < x.E; ++e) {
                    need.emplace_back(fmt::format("weight tile of engine {}", e),
                                      weight_footprint(x, ns, ks, ms, lv, kw, e));
                    have.push_back(base.weight_slot_bytes);
                  }
                  need.emplace_back("output tile (partial sums kept across K)",
                                    output_footprint(x, ns, ks, ms, lv));
                  have.push_back(base.output_slot_bytes);
                  int64_t excess = 0;
                  std::string msg;
                  for (size_t i = 0; i < need.size(); ++i)
                    if (need[i].second > have[i]) {
                      excess += need[i].second - have[i];
                      msg += fmt::format("{}{} {} bytes > its buffer slot's {}",
                                         msg.empty() ? "" : "; ", need[i].first, need[i].second,
                                         have[i]);
                    }
                  if (excess > 0 && (overflow_excess < 0 || excess < overflow_excess))
                    overflow_excess = excess, overflow = fmt::format("order {}: {}", order, msg);
                }
                if (output_footprint(x, ns, ks, ms, lv) > base.output_slot_bytes) continue;
                int keep_in = -1, keep_w = -1;
                const int from_in = g && g->keep_in >= 0 ? g->keep_in : 0;
                const int from_w = g && g->keep_w >= 0 ? g->keep_w : 0;
                if (channel_tiles(s, ms.m_tiles)) {
                  // Inputs indexed by N and M, each tile used by one step: nothing to widen.
                  if (input_footprint(x, ns, ks, ms, lv, 0) <= base.input_slot_bytes)
                    keep_in = natural_keep(order, "NM");
                } else {
                  const int nat = natural_keep(order, "NK");
                  for (int k = std::min(from_in, nat); k <= nat && keep_in < 0; ++k) {
                    if (input_footprint(x, ns, ks, ms, lv, k) <= base.input_slot_bytes) keep_in = k;
                    if (g && g->keep_in >= 0) break;  // the given level or none
                  }
                }
                {
                  const int nat = natural_keep(order, "MK");
                  for (int k = std::min(from_w, nat); k <= nat && keep_w < 0; ++k) {
                    bool fits = true;
                    for (int e = 0; e < x.E && fits; ++e)
                      fits = weight_footprint(x, ns, ks, ms, lv, k, e) <= base.weight_slot_bytes;
                    if (fits) keep_w = k;
                    if (g && g->keep_w >= 0) break;
                  }
                }
                if (keep_in < 0 || keep_w < 0) continue;
                ++evaluated;
                const MappingEstimate e = estimate(x, ns, ks, ms, order, keep_in, keep_w, comp);
                const double c = cost_of(base, e);
                if (!accept(c, e.dram_bytes())) continue;
                best.found = true;
                best.cost = c, best.dram = e.dram_bytes();
                best.rows = ro;
                best.order = order;
                best.m_tiles = ms.m_tiles, best.tr = ns.tr, best.tc = ns.tc, best.kc = kc;
                best.keep_in = keep_in, best.keep_w = keep_w;
                best.est = e;
              }
          }
        }
      }
  }
  if (!best.found && g)
    throw given_error(
        "tile_m",
        "the given tiles do not fit the buffers" +
            (overflow.empty() ? std::string(" at the given keep levels") : " (" + overflow + ")") +
            "; expected smaller tiles (tile_m, k_channels, tile_rows, tile_cols) or larger "
            "accelerator.buffers");
  if (!best.found)
    throw InputError(
        fixed_error.empty()
            ? fmt::format("{}: no mapping fits the input, weight and output buffers", where)
            : fixed_error);
  LayerPlan p;
  if (best.order.empty()) {
    p = std::move(fixed);  // nothing beat the fixed rule
  } else {
    p = plan_rows(L, cfg, where, best.rows);
    make_tiles(p, L, best.kc, best.tr, best.tc);
    p.map.order = best.order;
    p.map.m_tiles = best.m_tiles;
    p.map.keep_in = best.keep_in;
    p.map.keep_w = best.keep_w;
    p.weights_resident = best.keep_w == 0;
  }
  p.map.searched = !g;
  p.map.given = g != nullptr;
  p.map.est_cycles = best.est.cycles;
  p.map.est_dram_bytes = best.est.dram_bytes();
  if (have_fixed) {
    p.map.fixed_est_cycles = fixed_est.cycles;
    p.map.fixed_est_dram_bytes = fixed_est.dram_bytes();
  }
  p.map.candidates = evaluated;
  return p;
}

}  // namespace

LayerPlan search_plan(const QuantLayer& L, const RunConfig& cfg, const std::string& where) {
  return plan_impl(L, cfg, where, nullptr, "");
}

LayerPlan given_plan(const QuantLayer& L, const RunConfig& cfg, const std::string& where) {
  const std::shared_ptr<const GivenMapping> gm =
      load_given_mapping(cfg.accelerator.scheduler.mapping_file);
  const auto it = gm->layers.find(L.shape.name);
  if (it != gm->layers.end()) return plan_impl(L, cfg, where, &it->second, gm->file);
  // Not in the file: the search plans it (the config loader says which layers).
  RunConfig c = cfg;
  c.accelerator.scheduler.mapping = MappingMode::Search;
  return search_plan(L, c, where);
}

BufferConfig search_buffer_split(const std::vector<QuantLayer>& layers, const RunConfig& cfg,
                                 int64_t* cycles) {
  const BufferConfig& given = cfg.accelerator.buffers;
  const int total = given.weight_bram36 + given.input_bram36 + given.output_bram36;
  const int step = std::max(1, total / 16);
  // The estimated cycles of the network under a split; -1 when a layer cannot run on it.
  const auto network = [&](const BufferConfig& b) -> int64_t {
    RunConfig c = cfg;
    c.accelerator.buffers = b;
    int64_t sum = 0;
    for (const QuantLayer& q : layers) {
      try {
        const LayerPlan p = plan_layer(q, c, q.shape.name);
        sum += estimate_plan(p, q, c).cycles;
      } catch (const InputError&) {
        return -1;
      }
    }
    return sum;
  };
  BufferConfig best = given;
  int64_t best_cycles = network(given);
  for (int w = step; w + 2 * step <= total; w += step)
    for (int i = step; w + i + step <= total; i += step) {
      BufferConfig b = given;
      b.weight_bram36 = w, b.input_bram36 = i, b.output_bram36 = total - w - i;
      const int64_t c = network(b);
      if (c >= 0 && (best_cycles < 0 || c < best_cycles)) best = b, best_cycles = c;
    }
  if (cycles) *cycles = best_cycles;
  return best;
}

}  // namespace msq
