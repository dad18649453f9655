#include "models/tiler.h"

#include <fmt/format.h>

#include <algorithm>

#include "models/arith/acc_bound.h"
#include "models/arith/packed_dsp.h"
#include "models/arith/signed_digits.h"
#include "models/arith/sp2.h"
#include "models/error.h"
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

// Estimated busy cycles of each core for a row split, for balancing the spill.
struct CoreEstimate {
  int64_t lut = 0, dsp = 0;
};

}  // namespace

int64_t lut_job_cycles(const LutCoreConfig& c, int64_t tn, int64_t tk) {
  return ceil_div(tn, c.cols) * tk + c.pipeline_depth;
}

EngineRate engine_rate(const AcceleratorConfig& a, int slot) {
  const std::string impl =
      size_t(slot) < a.engines.size() ? a.engines[size_t(slot)].impl : std::string();
  if (slot == 0) return {a.lut_core.cols, impl == "lut_sp2_bitserial" ? 2 : 1};
  return {impl == "dsp48_actpack" && a.dsp_core.packing ? 2 * a.dsp_core.cols : a.dsp_core.cols, 1};
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
  if (acc.lut_core.rows < 1 || acc.lut_core.cols < 1 || acc.dsp_core.rows < 1 ||
      acc.dsp_core.cols < 1)
    throw InputError(where + ": the LUT and DSP arrays need at least one row and one column");
  if (M < 1 || K < 1 || N < 1) throw InputError(where + ": the layer has an empty dimension");
  if (int64_t(L.scheme.size()) != M || int64_t(L.bits.size()) != M)
    throw InputError(where + ": scheme and bits must have one entry per row");

  // Rows by class.
  std::vector<int32_t> sp2, low_fixed, wide_fixed;
  int low_bits = 0, sp2_bits = 0;
  for (int32_t m = 0; m < M; ++m) {
    if (L.scheme[m] == uint8_t(Scheme::Sp2)) {
      sp2.push_back(m);
      sp2_bits = std::max(sp2_bits, magnitude_bits(L.scheme[m], L.bits[m]));
    } else if (L.bits[m] >= 8) {  // 8-bit rows leave a packed chain too short to pay for itself
      wide_fixed.push_back(m);
    } else {
      low_fixed.push_back(m);
      low_bits = std::max(low_bits, int(L.bits[m]));
    }
  }
  p.sp2_rows = int64_t(sp2.size());
  p.fixed_rows = M - p.sp2_rows;

  const DspGeometry geo = dsp_geometry(cfg.device.dsp_kind);
  // dsp48_actpack packs two columns of one row per slice, not two rows: its rows run one per
  // slice here and the engine packs each job's columns itself.
  const bool act_packing = acc.engines.size() > 1 && acc.engines[1].impl == "dsp48_actpack";
  // The packed layout for a given weight width, or chain 0 when it cannot pack.
  auto layout = [&](int w_bits, int& D) -> int64_t {
    // Two rows of a slice share its activation: rows of different groups never do.
    if (!acc.dsp_core.packing || act_packing || w_bits == 0 || s.groups > 1) return 0;
    D = acc.dsp_core.lane_offset > 0 ? acc.dsp_core.lane_offset : max_lane_offset(geo, w_bits);
    const int64_t chain = packed_max_chain(geo, PackedLayout{w_bits, L.act_bits, D});
    if (chain < 1) return 0;
    if (!packing_overflow_safe(L.acc_bits, K, L.act_bits, w_bits)) return 0;
    return chain;
  };

  const auto& lc = acc.lut_core;
  const auto& dc = acc.dsp_core;
  const EngineRate lr = engine_rate(acc, 0), dr = engine_rate(acc, 1);
  auto estimate = [&](int64_t lut_rows, int64_t packed_rows, int64_t single_rows, int64_t chain) {
    CoreEstimate e;
    e.lut = ceil_div(lut_rows, lc.rows) * ceil_div(N, lr.cols) * K * lr.cycles_per_k;
    const int64_t units = ceil_div(packed_rows, 2);
    e.dsp = ceil_div(units, dc.rows) * ceil_div(N, dc.cols) *
                (K + (chain > 0 ? ceil_div(K, chain) * dc.drain_cycles : 0)) +
            ceil_div(single_rows, dc.rows) * ceil_div(N, dr.cols) * K * dr.cycles_per_k;
    return e;
  };

  // How many SP2 rows to move to the DSP core (only with scheduler.spill).
  int64_t spill = 0;
  int D0 = 0, Ds = 0;
  const int64_t chain0 = layout(low_bits, D0);
  const int64_t chain_s = layout(std::max(low_bits, sp2_bits), Ds);
  if (opt.spill >= 0) {
    spill = std::min<int64_t>(opt.spill, int64_t(sp2.size()));
  } else if (acc.scheduler.spill && !sp2.empty()) {
    auto cost = [&](int64_t k) {
      const int64_t ch = k > 0 ? chain_s : chain0;
      const int64_t packed = ch > 0 ? int64_t(low_fixed.size()) + k : 0;
      const int64_t single =
          int64_t(wide_fixed.size()) + (ch > 0 ? 0 : int64_t(low_fixed.size()) + k);
      const CoreEstimate e = estimate(int64_t(sp2.size()) - k, packed, single, ch);
      return std::max(e.lut, e.dsp);
    };
    int64_t best = cost(0);
    for (int64_t k = 1; k <= int64_t(sp2.size()); ++k) {
      const int64_t c = cost(k);
      if (c < best) best = c, spill = k;
    }
  }
  p.spilled_rows = spill;
  std::vector<int32_t> lut_rows(sp2.begin(), sp2.end() - spill);
  std::vector<int32_t> dsp_candidates = low_fixed;
  dsp_candidates.insert(dsp_candidates.end(), sp2.end() - spill, sp2.end());
  std::sort(dsp_candidates.begin(), dsp_candidates.end());
  p.chain = spill > 0 ? chain_s : chain0;
  p.lane_offset = spill > 0 ? Ds : D0;
  p.packed_w_bits = spill > 0 ? std::max(low_bits, sp2_bits) : low_bits;
  p.packing = p.chain > 0 && !dsp_candidates.empty();

  if (!L.weights.empty()) {
    p.row_sum_bits.resize(size_t(M));
    for (int32_t m = 0; m < M; ++m) {
      const int need = acc_bits_l1(L.row(m), K, L.act_bits, L.bias.empty() ? 0 : L.bias[m]);
      p.row_sum_bits[size_t(m)] = int8_t(need > L.acc_bits ? 0 : (need <= 32 ? 32 : 64));
    }
  }
  std::vector<int32_t> packed_rows, single_rows = wide_fixed;
  if (p.packing) {
    for (int32_t m : dsp_candidates) {
      // With values at hand, each row confirms that no partial sum can overflow: then draining a
      // chain at once is the same as adding its products one by one.
      const bool safe = p.row_sum_bits.empty() || p.row_sum_bits[size_t(m)] != 0;
      (safe ? packed_rows : single_rows).push_back(m);
    }
    if (!single_rows.empty() && single_rows.size() > wide_fixed.size())
      p.packing_note = fmt::format("{} rows could overflow the {}-bit accumulator and run unpacked",
                                   single_rows.size() - wide_fixed.size(), L.acc_bits);
  } else {
    single_rows.insert(single_rows.end(), dsp_candidates.begin(), dsp_candidates.end());
    if (!dsp_candidates.empty()) {
      if (!acc.dsp_core.packing)
        p.packing_note = "packing is off (accelerator.dsp_core.packing)";
      else if (act_packing)
        p.packing_note = "dsp48_actpack packs two activations per slice, not two rows";
      else if (s.groups > 1)
        p.packing_note = "grouped convolution: rows of different groups share no activation";
      else if (!packing_overflow_safe(L.acc_bits, K, L.act_bits, p.packed_w_bits))
        p.packing_note =
            fmt::format("a {}-bit accumulator could overflow over K={}", L.acc_bits, K);
      else
        p.packing_note =
            fmt::format("{}-bit weights do not pack in the {} multiplier", p.packed_w_bits,
                        cfg.device.dsp_kind == DspKind::DSP48E1 ? "DSP48E1" : "DSP48E2");
    }
  }
  std::sort(single_rows.begin(), single_rows.end());
  if (!acc.engines.empty() && acc.engines[0].impl == "lut_sp2_bitserial")
    for (int32_t m : lut_rows)
      if (!bitserial_sp2_bits_ok(L.bits[m]))
        throw InputError(fmt::format(
            "{}: row {} is a {}-bit SP2 row; the lut_sp2_bitserial engine's digits shift by at "
            "most {} and its weights need {} (SP2 rows of 3..7 bits)",
            where, m, int(L.bits[m]), kBitSerialMaxShift, sp2_max_digit_shift(L.bits[m])));
  p.lut_rows = int64_t(lut_rows.size());
  p.dsp_rows = int64_t(packed_rows.size() + single_rows.size());

  // Rows of one block share the activations broadcast along the array's columns, so a grouped
  // convolution's block holds rows of one group only (depthwise: one row per block), unless the
  // mapping lets opt.group_pack groups share a block, each array row then reading its own group's
  // activations (docs/mapping.md).
  const int rpg = s.groups > 1 ? s.rows_per_group() : 0;
  p.group_pack = rpg ? std::max(1, opt.group_pack) : 1;
  auto make_blocks = [&](const std::vector<int32_t>& rows, size_t per_block, bool packed,
                         std::vector<RowBlock>& out) {
    for (size_t i = 0; i < rows.size();) {
      RowBlock b;
      b.packed = packed;
      const int group = rpg ? rows[i] / rpg / p.group_pack : 0;
      while (i < rows.size() && b.rows.size() < per_block &&
             (!rpg || rows[i] / rpg / p.group_pack == group)) {
        b.rows.push_back(rows[i]);
        b.weight_bits_per_k += L.bits[rows[i]];  // codes are stored at the row's width
        ++i;
      }
      out.push_back(std::move(b));
    }
  };
  make_blocks(lut_rows, size_t(lc.rows), false, p.lut_blocks);
  make_blocks(packed_rows, size_t(dc.rows) * 2, true, p.dsp_blocks);
  make_blocks(single_rows, size_t(dc.rows), false, p.dsp_blocks);

  // Buffers.
  const auto& bc = acc.buffers;
  const int slots = bc.double_buffer ? 2 : 1;
  p.input_slot_bytes = int64_t(bc.input_bram36) * kBram36DataBytes / slots;
  p.weight_slot_bytes = int64_t(bc.weight_bram36) * kBram36DataBytes / 2 / slots;
  p.output_slot_bytes = int64_t(bc.output_bram36) * kBram36DataBytes / slots;
  p.act_bytes = L.act_bits <= 8 ? 1 : 2;
  p.acc_bytes = int(ceil_div(L.acc_bits, 8));
  p.out_bytes = L.output == OutputKind::Accumulators ? p.acc_bytes : p.act_bytes;

  // Weights, laid out in DRAM in the order the cores consume them (block by block).
  const std::vector<RowBlock>* core_blocks[2] = {&p.lut_blocks, &p.dsp_blocks};
  for (int c = 0; c < 2; ++c)
    for (const RowBlock& b : *core_blocks[c])
      p.core_weight_bytes[c] += ceil_div(b.weight_bits_per_k * K, 8);
  p.weight_bytes = p.core_weight_bytes[0] + p.core_weight_bytes[1];
  p.weights_resident =
      std::max(p.core_weight_bytes[0], p.core_weight_bytes[1]) <= p.weight_slot_bytes;
  return p;
}

void tile_fixed(LayerPlan& p, const QuantLayer& L, const RunConfig& cfg, const std::string& where) {
  const LayerShape& s = L.shape;
  const auto& acc = cfg.accelerator;
  const auto& bc = acc.buffers;
  const int64_t M = s.m();
  const std::vector<RowBlock>* core_blocks[2] = {&p.lut_blocks, &p.dsp_blocks};
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
    for (const auto* blocks : core_blocks)
      for (const RowBlock& b : *blocks) widest = std::max(widest, b.weight_bits_per_k);
    const int64_t window = int64_t(s.kh) * s.kw;
    const int64_t fit = p.weight_slot_bytes * 8 / std::max<int64_t>(1, widest * window);
    if (fit < p.k_channels) {
      if (fit < 1 || s.groups != 1)
        throw InputError(fmt::format(
            "{}: the weight buffer is too small for one tile: a block of rows needs {} bytes of "
            "weights per input channel{}, a core's buffer slot holds {} "
            "(accelerator.buffers.weight_bram36 = {}: half per core{})",
            where, ceil_div(widest * window, 8),
            s.groups != 1 ? " (all channels of a group at once)" : "", p.weight_slot_bytes,
            bc.weight_bram36, bc.double_buffer ? ", double-buffered" : ""));
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
          if (p.k_channels == s.in_c && tc == Wout) {
            t.seg_count = 1, t.seg_bytes = nrows * ncols * c_bytes, t.seg_stride = t.seg_bytes;
          } else if (p.k_channels == s.in_c) {
            t.seg_count = nrows, t.seg_bytes = ncols * c_bytes,
            t.seg_stride = int64_t(s.in_w) * pix_stride;
          } else {
            // Only the k tile's channels of each pixel: one short run per pixel.
            t.seg_count = nrows * ncols, t.seg_bytes = c_bytes, t.seg_stride = pix_stride;
          }
          p.tiles.push_back(t);
        }
  }
  for (const Tile& t : p.tiles) p.tn = std::max(p.tn, t.tn);
}

LayerPlan plan_layer(const QuantLayer& L, const RunConfig& cfg, const std::string& where) {
  if (cfg.accelerator.scheduler.mapping == MappingMode::Search ||
      cfg.accelerator.scheduler.balance == BalanceMode::PerLayer)
    return search_plan(L, cfg, where);
  LayerPlan p = plan_rows(L, cfg, where, RowOptions{});
  tile_fixed(p, L, cfg, where);
  return p;
}

}  // namespace msq
