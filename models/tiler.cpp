#include "models/tiler.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <map>

#include "models/arith/acc_bound.h"
#include "models/arith/packed_dsp.h"
#include "models/arith/signed_digits.h"
#include "models/arith/sp2.h"
#include "models/error.h"
#include "models/hw/engine_registry.h"
#include "models/plan/mapper.h"

namespace msq {

namespace {

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

// Signed width that holds every weight of a row: fixed b-bit codes need b bits, an SP2 row's
// largest level 2^F needs F + 2.
int magnitude_bits(uint8_t scheme, int bits) {
  return scheme == uint8_t(Scheme::Sp2) ? Sp2Format(bits).F + 2 : bits;
}

// What the estimate of an engine's cycles needs to know of a set of rows: how many, how many of
// them run one per slice on a packing engine whatever happens (fixed rows of 8 bits or more: their
// packed chain would be too short to pay for itself), and the widest weight of the others.
struct RowSet {
  int64_t n = 0, wide = 0;
  int max_mag = 0;
  void add(const RowSet& o) {
    n += o.n, wide += o.wide;
    max_mag = std::max(max_mag, o.max_mag);
  }
};

const char* scheme_name(uint8_t scheme) {
  return scheme == uint8_t(Scheme::Sp2) ? "SP2" : "fixed";
}

}  // namespace

int64_t lut_job_cycles(const LutCoreConfig& c, int64_t tn, int64_t tk) {
  return ceil_div(tn, c.cols) * tk + c.pipeline_depth;
}

EngineRate engine_rate(const EngineSpec& e) {
  if (e.impl == "lut_sp2_bitserial") return {e.cols, 2};
  if (e.impl == "dsp48_actpack" && e.packing) return {2 * int64_t(e.cols), 1};
  return {e.cols, 1};
}

EngineRate engine_rate(const AcceleratorConfig& a, int slot) {
  return engine_rate(engine_specs(a).at(size_t(slot)));
}

int64_t dsp_job_cycles(const DspCoreConfig& c, int64_t tn, int64_t tk, bool packed, int64_t chain) {
  const int64_t drains = packed ? ceil_div(tk, chain) * c.drain_cycles : 0;
  return ceil_div(tn, c.cols) * (tk + drains) + c.pipeline_depth;
}

bool packing_overflow_safe(int acc_bits, int64_t K, int act_bits, int w_bits) {
  return acc_bits >= acc_bits_datatype(K, act_bits, w_bits, false) + 1;
}

LayerPlan plan_rows(const QuantLayer& L, const RunConfig& cfg, const std::string& where,
                    const RowOptions& opt) {
  const LayerShape& s = L.shape;
  const auto& acc = cfg.accelerator;
  const int64_t M = s.m(), K = s.k(), N = s.n();
  LayerPlan p;
  const std::vector<EngineSpec> specs = engine_specs(acc);
  const size_t E = specs.size();
  if (E == 0) throw InputError(where + ": the accelerator has no engine (accelerator.engines)");
  std::vector<EngineCaps> caps;
  for (const EngineSpec& e : specs) {
    caps.push_back(engine_kind(e.impl, e.name).caps(e));
    if (e.rows < 1 || e.cols < 1)
      throw InputError(where + ": engine " + e.name + " needs at least one row and one column");
  }
  if (M < 1 || K < 1 || N < 1) throw InputError(where + ": the layer has an empty dimension");
  if (int64_t(L.scheme.size()) != M || int64_t(L.bits.size()) != M)
    throw InputError(where + ": scheme and bits must have one entry per row");
  for (int32_t m = 0; m < M; ++m) p.sp2_rows += L.scheme[m] == uint8_t(Scheme::Sp2);
  p.fixed_rows = M - p.sp2_rows;

  // Each engine's accumulator on this layer: its own, else the layer's.
  std::vector<int> acc_bits(E);
  for (size_t e = 0; e < E; ++e)
    acc_bits[e] = specs[e].own_accumulator ? specs[e].accumulator.bits : L.acc_bits;

  const DspGeometry geo = dsp_geometry(cfg.device.dsp_kind);
  // Engine e's packed layout for a given weight width, or chain 0 when it cannot pack.
  auto layout = [&](size_t e, int w_bits, int& D) -> int64_t {
    // Two rows of a slice share its activation: rows of different groups never do.
    if (!caps[e].packing || !specs[e].packing || w_bits == 0 || s.groups > 1) return 0;
    D = specs[e].lane_offset > 0 ? specs[e].lane_offset : max_lane_offset(geo, w_bits);
    const int64_t chain = packed_max_chain(geo, PackedLayout{w_bits, L.act_bits, D});
    if (chain < 1) return 0;
    if (!packing_overflow_safe(acc_bits[e], K, L.act_bits, w_bits)) return 0;
    return chain;
  };
  // Estimated busy cycles of engine e running a set of rows.
  auto estimate = [&](size_t e, const RowSet& r) -> int64_t {
    const EngineSpec& sp = specs[e];
    const EngineRate rate = engine_rate(sp);
    const int64_t passes = ceil_div(N, rate.cols);
    if (!caps[e].packing) return ceil_div(r.n, sp.rows) * passes * K * rate.cycles_per_k;
    int D = 0;
    const int64_t chain = layout(e, r.wide < r.n ? r.max_mag : 0, D);
    const int64_t packed = chain > 0 ? r.n - r.wide : 0, single = r.n - packed;
    return ceil_div(ceil_div(packed, 2), sp.rows) * ceil_div(N, sp.cols) *
               (K + (chain > 0 ? ceil_div(K, chain) * sp.drain_cycles : 0)) +
           ceil_div(single, sp.rows) * passes * K * rate.cycles_per_k;
  };
  auto row_set = [&](int32_t m) {
    RowSet r;
    r.n = 1;
    if (L.scheme[m] != uint8_t(Scheme::Sp2) && L.bits[m] >= 8)
      r.wide = 1;
    else
      r.max_mag = magnitude_bits(L.scheme[m], L.bits[m]);
    return r;
  };

  // Which engines may run each row: those built for its scheme (or, when none is, every engine
  // that can run it); with scheduler.spill also any other engine that can run it.
  std::vector<uint32_t> home(size_t(M), 0), able(size_t(M), 0), capable(size_t(M), 0);
  const bool spill = acc.scheduler.spill || opt.spill_balance;
  for (int32_t m = 0; m < M; ++m) {
    for (size_t e = 0; e < E; ++e)
      if (caps[e].can_run(L.scheme[m], L.bits[m])) {
        able[size_t(m)] |= 1u << e;
        if (caps[e].home(L.scheme[m])) home[size_t(m)] |= 1u << e;
      }
    if (!able[size_t(m)]) {
      std::string list;
      for (size_t e = 0; e < E; ++e) {
        const EngineCaps& c = caps[e];
        std::string runs = c.sp2 && c.fixed ? "SP2 and fixed"
                           : c.sp2          ? "SP2"
                           : c.fixed        ? "fixed"
                                            : "no";
        list += fmt::format("{}{} ({}: {} rows of {}..{} bits)", e ? ", " : "", specs[e].name,
                            specs[e].impl, runs, c.min_bits, c.max_bits);
      }
      throw InputError(
          fmt::format("{}: row {} ({}, {} bits) has no engine that can run it; the engines are {} "
                      "(accelerator.engines)",
                      where, m, scheme_name(L.scheme[m]), int(L.bits[m]), list));
    }
    capable[size_t(m)] = able[size_t(m)];
    if (!home[size_t(m)]) {
      // An engine built for the row's scheme that cannot take its width does not hand the row to
      // another engine unasked: only scheduler.spill (or the mapping search) moves it.
      if (!spill && opt.spill < 0)
        for (size_t e = 0; e < E; ++e)
          if (caps[e].home(L.scheme[m])) {
            if (specs[e].impl == "lut_sp2_bitserial")
              throw InputError(fmt::format(
                  "{}: row {} is a {}-bit SP2 row; the lut_sp2_bitserial engine's digits shift "
                  "by at most {} and its weights need {} (SP2 rows of 3..7 bits)",
                  where, m, int(L.bits[m]), kBitSerialMaxShift, sp2_max_digit_shift(L.bits[m])));
            throw InputError(fmt::format(
                "{}: row {} ({}, {} bits): engine {} ({}) is built for it but takes {}..{} bits; "
                "accelerator.scheduler.spill lets another engine run it",
                where, m, scheme_name(L.scheme[m]), int(L.bits[m]), specs[e].name, specs[e].impl,
                caps[e].min_bits, caps[e].max_bits));
          }
      home[size_t(m)] = able[size_t(m)];
    }
    if (spill || opt.spill >= 0)
      able[size_t(m)] |= home[size_t(m)];
    else
      able[size_t(m)] = home[size_t(m)];
  }

  // First placement: each row to its home engines, split among several in proportion to their
  // peak throughput, in row order.
  std::vector<std::vector<int32_t>> rows_of(E);
  {
    std::map<uint32_t, std::vector<int32_t>> by_home;
    for (int32_t m = 0; m < M; ++m) by_home[home[size_t(m)]].push_back(m);
    for (const auto& [mask, rows] : by_home) {
      std::vector<size_t> es;
      int64_t total = 0;
      for (size_t e = 0; e < E; ++e)
        if (mask >> e & 1)
          es.push_back(e),
              total += engine_kind(specs[e].impl, specs[e].name).peak_macs_per_cycle(specs[e]);
      size_t at = 0;
      int64_t acc_peak = 0;
      for (size_t i = 0; i < es.size(); ++i) {
        acc_peak +=
            engine_kind(specs[es[i]].impl, specs[es[i]].name).peak_macs_per_cycle(specs[es[i]]);
        const size_t end =
            i + 1 == es.size()
                ? rows.size()
                : size_t(int64_t(rows.size()) * acc_peak / std::max<int64_t>(1, total));
        for (; at < end; ++at) rows_of[es[i]].push_back(rows[at]);
      }
    }
    for (auto& r : rows_of) std::sort(r.begin(), r.end());
  }

  // Then move rows between engines while that shortens the layer: for each pair, the best number
  // of the source's last movable rows, taken when it lowers the busiest engine's estimate, or
  // keeps it and lowers the pair's. Deterministic: pairs in list order, the fewest rows on a tie.
  if (opt.spill >= 0) {
    // The mapping search's split (two engines): the last opt.spill SP2 rows of the SP2 engine
    // move to the other one.
    if (E != 2)
      throw InputError(
          fmt::format("{}: accelerator.scheduler.balance: per_layer needs exactly two "
                      "engines; the design has {}",
                      where, E));
    const size_t a = caps[0].home_sp2 ? 0 : 1, b = 1 - a;
    std::vector<int32_t> mv, keep;
    for (int32_t m : rows_of[a])
      (L.scheme[m] == uint8_t(Scheme::Sp2) && (able[size_t(m)] >> b & 1) ? mv : keep).push_back(m);
    const size_t k = size_t(std::min<int64_t>(opt.spill, int64_t(mv.size())));
    keep.insert(keep.end(), mv.begin(), mv.end() - int64_t(k));
    rows_of[b].insert(rows_of[b].end(), mv.end() - int64_t(k), mv.end());
    std::sort(keep.begin(), keep.end());
    std::sort(rows_of[b].begin(), rows_of[b].end());
    rows_of[a] = std::move(keep);
  } else if (E > 1) {
    auto set_of = [&](const std::vector<int32_t>& rows) {
      RowSet r;
      for (int32_t m : rows) r.add(row_set(m));
      return r;
    };
    std::vector<int64_t> est(E);
    for (size_t e = 0; e < E; ++e) est[e] = estimate(e, set_of(rows_of[e]));
    for (int iter = 0; iter < 64; ++iter) {
      bool moved = false;
      for (size_t a = 0; a < E; ++a)
        for (size_t b = 0; b < E; ++b) {
          if (a == b || rows_of[a].empty()) continue;
          std::vector<int32_t> mv;
          RowSet fixed_part;
          for (int32_t m : rows_of[a])
            if (able[size_t(m)] >> b & 1)
              mv.push_back(m);
            else
              fixed_part.add(row_set(m));
          if (mv.empty()) continue;
          int64_t others = 0;
          for (size_t e = 0; e < E; ++e)
            if (e != a && e != b) others = std::max(others, est[e]);
          const int64_t cur_pair = std::max(est[a], est[b]);
          const int64_t cur = std::max(others, cur_pair);
          // Prefix sets of mv: what stays on a when the last k move.
          std::vector<RowSet> prefix(mv.size() + 1);
          for (size_t i = 0; i < mv.size(); ++i) {
            prefix[i + 1] = prefix[i];
            prefix[i + 1].add(row_set(mv[i]));
          }
          const RowSet to_base = set_of(rows_of[b]);
          RowSet moved_set;
          size_t best_k = 0;
          int64_t best = cur, best_pair = cur_pair, best_ea = 0, best_eb = 0;
          for (size_t k = 1; k <= mv.size(); ++k) {
            moved_set.add(row_set(mv[mv.size() - k]));
            RowSet stay = fixed_part, to = to_base;
            stay.add(prefix[mv.size() - k]);
            to.add(moved_set);
            const int64_t ea = estimate(a, stay), eb = estimate(b, to);
            const int64_t pair = std::max(ea, eb), ms = std::max(others, pair);
            if (ms < best || (ms == best && pair < best_pair)) {
              best = ms, best_pair = pair, best_k = k, best_ea = ea, best_eb = eb;
            }
          }
          if (best_k == 0) continue;
          const std::vector<int32_t> go(mv.end() - int64_t(best_k), mv.end());
          std::vector<int32_t> keep;
          std::set_difference(rows_of[a].begin(), rows_of[a].end(), go.begin(), go.end(),
                              std::back_inserter(keep));
          rows_of[a] = std::move(keep);
          rows_of[b].insert(rows_of[b].end(), go.begin(), go.end());
          std::sort(rows_of[b].begin(), rows_of[b].end());
          est[a] = best_ea, est[b] = best_eb;
          moved = true;
        }
      if (!moved) break;
    }
  }
  if (opt.spill < 0 && opt.move_rows > 0 && opt.move_from >= 0 && opt.move_to >= 0 &&
      opt.move_from != opt.move_to && size_t(std::max(opt.move_from, opt.move_to)) < E) {
    // Per-layer balance on any engine list: the last rows of one engine that another can run.
    const size_t a = size_t(opt.move_from), b = size_t(opt.move_to);
    std::vector<int32_t> mv, keep;
    for (int32_t m : rows_of[a]) (capable[size_t(m)] >> b & 1 ? mv : keep).push_back(m);
    const size_t k = size_t(std::min<int64_t>(opt.move_rows, int64_t(mv.size())));
    keep.insert(keep.end(), mv.begin(), mv.end() - int64_t(k));
    rows_of[b].insert(rows_of[b].end(), mv.end() - int64_t(k), mv.end());
    std::sort(keep.begin(), keep.end());
    std::sort(rows_of[b].begin(), rows_of[b].end());
    rows_of[a] = std::move(keep);
  }

  p.row_engine.assign(size_t(M), 0);
  for (size_t e = 0; e < E; ++e)
    for (int32_t m : rows_of[e]) p.row_engine[size_t(m)] = int8_t(e);
  if (!L.weights.empty()) {
    // Per row, against the accumulator of the engine that runs it.
    p.row_sum_bits.resize(size_t(M));
    for (int32_t m = 0; m < M; ++m) {
      const int need = acc_bits_l1(L.row(m), K, L.act_bits, L.bias.empty() ? 0 : L.bias[m]);
      p.row_sum_bits[size_t(m)] =
          int8_t(need > acc_bits[size_t(p.row_engine[size_t(m)])] ? 0 : (need <= 32 ? 32 : 64));
    }
  }

  // Rows of one block share the activations broadcast along the array's columns, so a grouped
  // convolution's block holds rows of one group only (depthwise: one row per block), unless the
  // mapping lets opt.group_pack groups share a block, each array row then reading its own group's
  // activations (docs/mapping.md).
  const int rpg = s.groups > 1 ? s.rows_per_group() : 0;
  const auto pack_of = [&](size_t e) {
    if (!rpg) return 1;
    return std::max(
        1, e < size_t(kMaxEngines) && opt.engine_pack[e] > 0 ? opt.engine_pack[e] : opt.group_pack);
  };
  p.group_pack = 1;
  for (size_t e = 0; e < E; ++e) p.group_pack = std::max(p.group_pack, pack_of(e));
  auto make_blocks = [&](const std::vector<int32_t>& rows, size_t per_block, bool packed, int D,
                         int64_t chain, int pack, std::vector<RowBlock>& out) {
    if (opt.m_tiles > 1 && !rpg && !rows.empty()) {
      const size_t per_tile = (rows.size() + size_t(opt.m_tiles) - 1) / size_t(opt.m_tiles);
      const size_t n = (per_tile + per_block - 1) / per_block;
      per_block = std::min(per_block, (per_tile + n - 1) / n);
    }
    for (size_t i = 0; i < rows.size();) {
      RowBlock b;
      b.packed = packed;
      if (packed) b.lane_offset = D, b.chain = chain;
      // Up to `pack` of this engine's groups, whichever they are: the other engine's rows
      // leave gaps in the group numbers, which must not leave array rows idle.
      int groups_in = 0, last_group = -1;
      const auto fits = [&](int32_t row) {
        if (!rpg) return true;
        const int g = row / rpg;
        if (g == last_group) return true;
        if (groups_in == pack) return false;
        ++groups_in, last_group = g;
        return true;
      };
      while (i < rows.size() && b.rows.size() < per_block && fits(rows[i])) {
        b.rows.push_back(rows[i]);
        b.weight_bits_per_k += L.bits[rows[i]];  // codes are stored at the row's width
        b.sp2_rows += L.scheme[rows[i]] == uint8_t(Scheme::Sp2);
        ++i;
      }
      out.push_back(std::move(b));
    }
  };
  p.engines.resize(E);
  bool layer_packing_set = false;
  for (size_t e = 0; e < E; ++e) {
    EnginePlan& ep = p.engines[e];
    const EngineSpec& sp = specs[e];
    const std::vector<int32_t>& rows = rows_of[e];
    ep.rows = int64_t(rows.size());
    ep.acc_bits = acc_bits[e];
    ep.group_pack = pack_of(e);
    for (int32_t m : rows) ep.spilled_rows += (home[size_t(m)] >> e & 1) == 0;
    if (!caps[e].packing) {
      make_blocks(rows, size_t(sp.rows), false, 0, 0, ep.group_pack, ep.blocks);
      continue;
    }
    std::vector<int32_t> cand, single_rows;
    int w_bits = 0;
    for (int32_t m : rows) {
      if (L.scheme[m] != uint8_t(Scheme::Sp2) && L.bits[m] >= 8) {
        single_rows.push_back(m);
      } else {
        cand.push_back(m);
        w_bits = std::max(w_bits, magnitude_bits(L.scheme[m], L.bits[m]));
      }
    }
    const size_t wide = single_rows.size();
    int D = 0;
    ep.chain = layout(e, w_bits, D);
    ep.lane_offset = D;
    ep.packed_w_bits = w_bits;
    ep.packing = ep.chain > 0 && !cand.empty();
    std::vector<int32_t> packed_rows;
    if (ep.packing) {
      for (int32_t m : cand) {
        // With values at hand, each row confirms that no partial sum can overflow: then draining
        // a chain at once is the same as adding its products one by one.
        const bool safe = p.row_sum_bits.empty() || p.row_sum_bits[size_t(m)] != 0;
        (safe ? packed_rows : single_rows).push_back(m);
      }
      if (single_rows.size() > wide)
        ep.packing_note =
            fmt::format("{} rows could overflow the {}-bit accumulator and run unpacked",
                        single_rows.size() - wide, acc_bits[e]);
    } else {
      single_rows.insert(single_rows.end(), cand.begin(), cand.end());
      if (!cand.empty()) {
        if (!sp.packing)
          ep.packing_note = sp.name == "dsp_core" && acc.engines.empty()
                                ? "packing is off (accelerator.dsp_core.packing)"
                                : "packing is off (engine " + sp.name + ")";
        else if (s.groups > 1)
          ep.packing_note = "grouped convolution: rows of different groups share no activation";
        else if (!packing_overflow_safe(acc_bits[e], K, L.act_bits, w_bits))
          ep.packing_note =
              fmt::format("a {}-bit accumulator could overflow over K={}", acc_bits[e], K);
        else
          ep.packing_note =
              fmt::format("{}-bit weights do not pack in the {} multiplier", w_bits,
                          cfg.device.dsp_kind == DspKind::DSP48E1 ? "DSP48E1" : "DSP48E2");
      }
    }
    std::sort(single_rows.begin(), single_rows.end());
    make_blocks(packed_rows, size_t(sp.rows) * 2, true, ep.lane_offset, ep.chain, ep.group_pack,
                ep.blocks);
    make_blocks(single_rows, size_t(sp.rows), false, 0, 0, ep.group_pack, ep.blocks);
    // The layer's packing as the report shows it: the first packing engine with rows to pack.
    if (!layer_packing_set && (!cand.empty() || e + 1 == E)) {
      layer_packing_set = true;
      p.packing = ep.packing, p.chain = ep.chain, p.lane_offset = ep.lane_offset;
      p.packed_w_bits = ep.packed_w_bits, p.packing_note = ep.packing_note;
    }
  }
  for (const EnginePlan& ep : p.engines) p.spilled_rows += ep.spilled_rows;

  // Buffers.
  const auto& bc = acc.buffers;
  const int slots = bc.double_buffer ? 2 : 1;
  p.input_slot_bytes = int64_t(bc.input_bram36) * kBram36DataBytes / slots;
  p.weight_slot_bytes = int64_t(bc.weight_bram36) * kBram36DataBytes / int64_t(E) / slots;
  p.output_slot_bytes = int64_t(bc.output_bram36) * kBram36DataBytes / slots;
  p.act_bytes = L.act_bits <= 8 ? 1 : 2;
  p.acc_bytes = int(ceil_div(L.acc_bits, 8));
  p.out_bytes = L.output == OutputKind::Accumulators ? p.acc_bytes : p.act_bytes;

  // Weights, laid out in DRAM in the order the engines consume them (block by block).
  int64_t most = 0;
  for (EnginePlan& ep : p.engines) {
    for (const RowBlock& b : ep.blocks) ep.weight_bytes += ceil_div(b.weight_bits_per_k * K, 8);
    p.weight_bytes += ep.weight_bytes;
    most = std::max(most, ep.weight_bytes);
  }
  p.weights_resident = most <= p.weight_slot_bytes;
  return p;
}

void tile_fixed(LayerPlan& p, const QuantLayer& L, const RunConfig& cfg, const std::string& where) {
  const LayerShape& s = L.shape;
  const auto& acc = cfg.accelerator;
  const auto& bc = acc.buffers;
  const int64_t M = s.m();
  const size_t E = p.engines.size();
  const int64_t Hout = s.out_h(), Wout = s.out_w();
  const int64_t kh_in = std::min<int64_t>(s.in_h, s.kh), kw_in = std::min<int64_t>(s.in_w, s.kw);
  // K tiles: whole input channels; split only when one output pixel's window of all channels
  // does not fit the input buffer.
  p.k_channels = s.in_c;
  if (cfg.accelerator.scheduler.tile_k > 0 && s.groups == 1)
    p.k_channels = int(
        std::clamp<int64_t>(cfg.accelerator.scheduler.tile_k / (int64_t(s.kh) * s.kw), 1, s.in_c));
  const int64_t pixel_window = kh_in * kw_in * p.act_bytes;
  if (pixel_window * p.k_channels > p.input_slot_bytes) {
    const int64_t fit = p.input_slot_bytes / pixel_window;
    if (fit < 1 || s.groups != 1)
      throw InputError(fmt::format(
          "{}: the input buffer is too small for one tile: one output pixel reads {} bytes ({} "
          "channels x {}x{} window), a buffer slot holds {} (accelerator.buffers.input_bram36 = "
          "{}{})",
          where, pixel_window * (s.groups == 1 ? 1 : s.in_c), s.groups == 1 ? 1 : s.in_c, kh_in,
          kw_in, p.input_slot_bytes, bc.input_bram36, bc.double_buffer ? ", double-buffered" : ""));
    p.k_channels = int(fit);
  }
  if (!p.weights_resident) {
    // Streamed weights: one block's weights for a k tile must fit a slot of the core's half of
    // the weight buffer; shorten the k tile until they do.
    int64_t widest = 0;
    for (const EnginePlan& ep : p.engines)
      for (const RowBlock& b : ep.blocks) widest = std::max(widest, b.weight_bits_per_k);
    const int64_t window = int64_t(s.kh) * s.kw;
    const int64_t fit = p.weight_slot_bytes * 8 / std::max<int64_t>(1, widest * window);
    if (fit < p.k_channels) {
      if (fit < 1 || s.groups != 1)
        throw InputError(fmt::format(
            "{}: the weight buffer is too small for one tile: a block of rows needs {} bytes of "
            "weights per input channel{}, a core's buffer slot holds {} "
            "(accelerator.buffers.weight_bram36 = {}: {}{})",
            where, ceil_div(widest * window, 8),
            s.groups != 1 ? " (all channels of a group at once)" : "", p.weight_slot_bytes,
            bc.weight_bram36,
            E == 2 ? std::string("half per core") : fmt::format("split among {} engines", E),
            bc.double_buffer ? ", double-buffered" : ""));
      p.k_channels = int(fit);
    }
  }
  p.k_tiles = ceil_div(s.in_c, p.k_channels);

  const int64_t per_col_out = M * (p.k_tiles > 1 ? p.acc_bytes : p.out_bytes);
  int64_t max_tn = p.output_slot_bytes / per_col_out;
  if (max_tn < 1)
    throw InputError(fmt::format(
        "{}: the output buffer is too small for one tile: one output column of {} rows needs {} "
        "bytes, a buffer slot holds {} (accelerator.buffers.output_bram36 = {})",
        where, M, per_col_out, p.output_slot_bytes, bc.output_bram36));
  if (acc.scheduler.tile_n > 0) max_tn = std::min<int64_t>(max_tn, acc.scheduler.tile_n);

  const int64_t c_bytes = int64_t(p.k_channels) * p.act_bytes;
  if (Hout * Wout == 1) {
    // One output pixel per image (fully connected): tiles run over the batch.
    const int64_t img = int64_t(s.in_h) * s.in_w;
    const int64_t tb = std::max<int64_t>(
        1, std::min({int64_t(s.batch), max_tn, p.input_slot_bytes / (img * c_bytes)}));
    make_tiles(p, L, p.k_channels, tb, 1);
  } else {
    auto rows_in = [&](int64_t tr) { return std::min<int64_t>(s.in_h, (tr - 1) * s.sh + s.kh); };
    auto cols_in = [&](int64_t tc) { return std::min<int64_t>(s.in_w, (tc - 1) * s.sw + s.kw); };
    int64_t tr = 0, tc = Wout;
    // With the weights resident, smaller tiles cost nothing extra and let the next tile load (and
    // the last one drain) while this one computes: aim for at least four tiles per layer.
    const int64_t r_max = p.weights_resident && s.batch < 4
                              ? std::max<int64_t>(1, ceil_div(Hout * s.batch, 4))
                              : Hout;
    for (int64_t r = std::min(Hout, r_max); r >= 1; --r)
      if (r * Wout <= max_tn && rows_in(r) * s.in_w * c_bytes <= p.input_slot_bytes) {
        tr = r;
        break;
      }
    if (tr == 0) {
      tr = 1;
      tc = 0;
      for (int64_t c = Wout; c >= 1; --c)
        if (c <= max_tn && kh_in * cols_in(c) * c_bytes <= p.input_slot_bytes) {
          tc = c;
          break;
        }
      if (tc == 0)
        throw InputError(fmt::format("{}: no tile fits the input and output buffers", where));
    }
    make_tiles(p, L, p.k_channels, tr, tc);
  }
  p.map = LoopMapping{};  // N, K, M: each input tile read once, psums of all rows kept
  p.map.keep_in = natural_keep(p.map.order, "NK");
  p.map.keep_w = p.weights_resident ? 0 : natural_keep(p.map.order, "MK");
}

void make_tiles(LayerPlan& p, const QuantLayer& L, int k_channels, int64_t tr, int64_t tc) {
  const LayerShape& s = L.shape;
  const int64_t Hout = s.out_h(), Wout = s.out_w();
  p.k_channels = k_channels;
  p.k_tiles = ceil_div(s.in_c, p.k_channels);
  p.tk = s.groups == 1 ? int64_t(p.k_channels) * s.kh * s.kw : s.k();
  p.tiles.clear();
  p.tn = 0;
  p.tile_rows = tr, p.tile_cols = tc;
  const int64_t c_bytes = int64_t(p.k_channels) * p.act_bytes;
  const int64_t pix_stride = int64_t(s.in_c) * p.act_bytes;
  if (Hout * Wout == 1) {
    const int64_t img = int64_t(s.in_h) * s.in_w;
    const int64_t tb = tr;
    for (int64_t b0 = 0; b0 < s.batch; b0 += tb) {
      Tile t;
      t.n0 = b0;
      t.tn = std::min(tb, s.batch - b0);
      t.offset = b0 * img * pix_stride;
      if (p.k_channels == s.in_c) {
        t.seg_count = 1, t.seg_bytes = t.tn * img * c_bytes, t.seg_stride = t.seg_bytes;
      } else {
        t.seg_count = t.tn * img, t.seg_bytes = c_bytes, t.seg_stride = pix_stride;
      }
      p.tiles.push_back(t);
    }
  } else {
    for (int64_t b = 0; b < s.batch; ++b)
      for (int64_t oh0 = 0; oh0 < Hout; oh0 += tr)
        for (int64_t ow0 = 0; ow0 < Wout; ow0 += tc) {
          const int64_t r = std::min(tr, Hout - oh0), c = std::min(tc, Wout - ow0);
          Tile t;
          t.n0 = (b * Hout + oh0) * Wout + ow0;
          t.tn = r * c;
          const int64_t ih0 = std::max<int64_t>(0, oh0 * s.sh - s.ph);
          const int64_t ih1 = std::min<int64_t>(s.in_h, (oh0 + r - 1) * s.sh - s.ph + s.kh);
          const int64_t iw0 = tc == Wout ? 0 : std::max<int64_t>(0, ow0 * s.sw - s.pw);
          const int64_t iw1 =
              tc == Wout ? s.in_w : std::min<int64_t>(s.in_w, (ow0 + c - 1) * s.sw - s.pw + s.kw);
          const int64_t nrows = std::max<int64_t>(0, ih1 - ih0),
                        ncols = std::max<int64_t>(0, iw1 - iw0);
          t.offset = ((b * s.in_h + ih0) * s.in_w + iw0) * pix_stride;
          if (tr > 1 && tc < Wout) t.box_cols = c;
          if (p.k_channels < s.in_c && (t.box_cols > 0 || ncols < s.in_w)) {
            // Only the k tile's channels of each pixel, of part of each input row (a box, or the
            // kh input rows of a part of one output row): a run per pixel of the input columns,
            // a group per input row, the rows a whole image row apart in the HWC tensor.
            t.seg_count = ncols, t.seg_bytes = c_bytes, t.seg_stride = pix_stride;
            t.grp_count = nrows, t.grp_stride = int64_t(s.in_w) * pix_stride;
          } else if (p.k_channels == s.in_c && tc == Wout) {
            t.seg_count = 1, t.seg_bytes = nrows * ncols * c_bytes, t.seg_stride = t.seg_bytes;
          } else if (p.k_channels == s.in_c) {
            t.seg_count = nrows, t.seg_bytes = ncols * c_bytes,
            t.seg_stride = int64_t(s.in_w) * pix_stride;
          } else {
            // Whole input rows, contiguous in the HWC tensor, only the k tile's channels of
            // each pixel: one short run per pixel.
            t.seg_count = nrows * ncols, t.seg_bytes = c_bytes, t.seg_stride = pix_stride;
          }
          p.tiles.push_back(t);
        }
  }
  for (const Tile& t : p.tiles) p.tn = std::max(p.tn, t.tn);
}

LayerPlan plan_layer(const QuantLayer& L, const RunConfig& cfg, const std::string& where) {
  if (cfg.accelerator.scheduler.mapping == MappingMode::Given) return given_plan(L, cfg, where);
  if (cfg.accelerator.scheduler.mapping == MappingMode::Search ||
      cfg.accelerator.scheduler.balance == BalanceMode::PerLayer)
    return search_plan(L, cfg, where);
  LayerPlan p = plan_rows(L, cfg, where, RowOptions{});
  tile_fixed(p, L, cfg, where);
  return p;
}

}  // namespace msq
