// The lut_sp2_bitserial and dsp48_actpack engines: per-cycle stepping oracles against their job
// timing and values on random tiles (odd row counts, short k, partial passes), whole layers
// against the naive reference, the registry, and the config errors for what they cannot do.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "models/accelerator.h"
#include "models/arith/acc_bound.h"
#include "models/arith/accumulator.h"
#include "models/error.h"
#include "models/hw/engine_registry.h"
#include "models/hw/engines/dsp48_actpack/dsp48_actpack.h"
#include "models/hw/engines/lut_sp2_bitserial/lut_sp2_bitserial.h"
#include "models/resource_model.h"
#include "sim/config_loader.h"
#include "sim/trace.h"
#include "tests/support/random_layers.h"

using namespace msq;
using namespace msq::testing;

namespace {

// A one-row-per-output layer of M rows over K reduction steps, its weights filled by `weight`.
template <typename F>
QuantLayer layer_of(int M, int K, int acc_bits, Overflow ov, std::mt19937& rng, F weight) {
  QuantLayer L;
  L.shape = conv("t", K, 1, M, 1, 1, 0);
  L.act_bits = 8;
  L.acc_bits = acc_bits;
  L.overflow = ov;
  for (int m = 0; m < M; ++m) {
    int bits = 0;
    Scheme s = Scheme::Fixed;
    for (int k = 0; k < K; ++k) L.weights.push_back(weight(m, bits, s));
    L.bits.push_back(uint8_t(bits));
    L.scheme.push_back(uint8_t(s));
    L.bias.push_back(std::uniform_int_distribution<int32_t>(-3000, 3000)(rng));
  }
  return L;
}

// Activations as the input buffer holds them (InputTileValues): blocks of 64 columns, zeros past
// tn; x[k][n] is returned for the oracles.
InputTileValues tile_of(int64_t tn, int64_t tk, std::mt19937& rng,
                        std::vector<std::vector<uint32_t>>& x) {
  InputTileValues t;
  t.tn = tn, t.tk = tk, t.nblocks = (tn + 63) / 64;
  t.x8.assign(size_t(t.nblocks * tk * 64), 0);
  x.assign(size_t(tk), std::vector<uint32_t>(size_t(tn)));
  for (int64_t k = 0; k < tk; ++k)
    for (int64_t n = 0; n < tn; ++n) {
      const uint32_t v = std::uniform_int_distribution<uint32_t>(0, 255)(rng);
      x[size_t(k)][size_t(n)] = v;
      t.x8[size_t(((n / 64) * tk + k) * 64 + n % 64)] = uint8_t(v);
    }
  return t;
}

// Per-row bound as the planner computes it: nonzero when no partial sum can overflow.
std::vector<int8_t> row_bounds(const QuantLayer& L) {
  std::vector<int8_t> r;
  for (int64_t m = 0; m < L.shape.m(); ++m) {
    const int need = acc_bits_l1(L.row(m), L.shape.k(), L.act_bits, L.bias[size_t(m)]);
    r.push_back(int8_t(need > L.acc_bits ? 0 : (need <= 32 ? 32 : 64)));
  }
  return r;
}

// How many digits the bit-serial PE spends on an SP2 level of F: none for 0, one when the level
// is a single term 2^(F - e) (e >= 1), else two.
int oracle_digits(int32_t w, int F) {
  const int64_t a = w < 0 ? -int64_t(w) : w;
  if (a == 0) return 0;
  for (int s = 0; s <= F - 1; ++s)
    if (a == (int64_t(1) << s)) return 1;
  return 2;
}

struct Stepped {
  int64_t cycles = 0;
  std::vector<int64_t> acc;  // [rows_used][tn]
  uint64_t overflows = 0;
};

// The bit-serial array one clock at a time: in lockstep, every k step of a pass spends `eb`
// cycles (the block's digit count, the most digits any of its weights has, at least 1); in digit
// cycle j a PE whose weight has more than j digits adds that digit into its product register, and
// on the last digit cycle the product enters the accumulator. Results leave `depth` cycles after
// the last cycle.
Stepped step_bitserial(const QuantLayer& L, const std::vector<int32_t>& rows, int cols, int depth,
                       int64_t k0, int64_t tk, const std::vector<std::vector<uint32_t>>& x) {
  const int64_t tn = int64_t(x[0].size()), K = L.shape.k();
  int eb = 1;
  for (int32_t m : rows)
    for (int64_t k = 0; k < K; ++k)
      eb = std::max(eb, oracle_digits(L.row(m)[k], Sp2Format(L.bits[m]).F));
  const AccSpec spec{L.acc_bits, L.overflow};
  Stepped s;
  s.acc.assign(rows.size() * size_t(tn), 0);
  for (size_t r = 0; r < rows.size(); ++r)
    for (int64_t n = 0; n < tn; ++n)
      s.acc[r * size_t(tn) + size_t(n)] = acc_load(spec, L.bias[rows[r]], s.overflows);
  std::vector<int64_t> product(rows.size() * size_t(cols), 0);
  int64_t cycle = 0, last = -1;
  for (int64_t pass = 0; pass * cols < tn; ++pass)
    for (int64_t k = 0; k < tk; ++k)
      for (int j = 0; j < eb; ++j, ++cycle) {
        for (size_t r = 0; r < rows.size(); ++r)
          for (int c = 0; c < cols; ++c) {
            const int64_t n = pass * cols + c;
            if (n >= tn) continue;
            const int32_t w = L.row(rows[r])[k0 + k];
            int64_t& p = product[r * size_t(cols) + size_t(c)];
            // The digits sum to the weight: digit j carries its share (the arithmetic of one
            // digit is tests/test_arith_new_engines.cpp's); here, the whole product on the
            // weight's last digit.
            if (j == oracle_digits(w, Sp2Format(L.bits[rows[r]]).F) - 1)
              p += int64_t(w) * x[size_t(k)][size_t(n)];
            if (j == eb - 1) {
              int64_t& a = s.acc[r * size_t(tn) + size_t(n)];
              a = acc_add(spec, a, p, s.overflows);
              p = 0;
            }
          }
        last = cycle;
      }
  s.cycles = last + 1 + depth;
  return s;
}

}  // namespace

TEST(BitSerialEngine, JobEqualsPerCycleOracleOnRandomTiles) {
  std::mt19937 rng(11);
  uint64_t narrow_overflows = 0;
  for (int trial = 0; trial < 80; ++trial) {
    LutCoreConfig c;
    c.rows = std::uniform_int_distribution<int>(1, 9)(rng);
    c.cols = std::uniform_int_distribution<int>(1, 12)(rng);
    c.pipeline_depth = std::uniform_int_distribution<int>(1, 6)(rng);
    const int rows_used = std::uniform_int_distribution<int>(1, c.rows)(rng);
    const int64_t tn = std::uniform_int_distribution<int64_t>(1, 150)(rng);
    const int64_t tk = std::uniform_int_distribution<int64_t>(1, 12)(rng);
    const int64_t k0 = std::uniform_int_distribution<int64_t>(0, 4)(rng);
    const int bits = std::uniform_int_distribution<int>(3, 7)(rng);
    const bool one_digit = trial % 4 == 1;  // single-term weights only: one cycle per k
    const bool narrow = trial % 3 == 0;     // 12-bit accumulators that overflow
    const Sp2Format f(bits);
    std::vector<int32_t> levels;
    for (int32_t w : sp2_levels(f))
      if (!one_digit || oracle_digits(w, f.F) <= 1) levels.push_back(w);
    const QuantLayer L =
        layer_of(rows_used, int(k0 + tk), narrow ? 12 : 32,
                 trial % 2 ? Overflow::Saturate : Overflow::Wrap, rng, [&](int, int& b, Scheme& s) {
                   b = bits, s = Scheme::Sp2;
                   return levels[std::uniform_int_distribution<size_t>(0, levels.size() - 1)(rng)];
                 });
    std::vector<int32_t> rows;
    for (int m = 0; m < rows_used; ++m) rows.push_back(m);
    std::vector<std::vector<uint32_t>> x;
    const InputTileValues tile = tile_of(tn, tk, rng, x);
    const Stepped want = step_bitserial(L, rows, c.cols, c.pipeline_depth, k0, tk, x);

    const int digits = bitserial_block_digits(L, rows);
    EXPECT_EQ(bitserial_job_cycles(c, tn, tk, digits), want.cycles)
        << "trial " << trial << " cols " << c.cols << " tn " << tn << " tk " << tk;
    if (one_digit) {
      EXPECT_EQ(digits, 1);
    }

    RowBlock b;
    b.rows = rows;
    BitSerialTables t;
    t.load(L, {b});
    std::vector<int64_t> acc(size_t(rows_used * tn), 0);
    uint64_t ovf = 0;
    bitserial_block_values(t, L, row_bounds(L), rows, k0, tk, true, tile, acc.data(), ovf);
    ASSERT_EQ(acc, want.acc) << "trial " << trial;
    EXPECT_EQ(ovf, want.overflows) << "trial " << trial;
    if (narrow) narrow_overflows += ovf;
  }
  EXPECT_GT(narrow_overflows, 100u);
}

namespace {

// The activation-packed array one clock at a time. Packed: a pass covers 2 * cols columns, slice
// c columns 2c (low lane) and 2c + 1 (high lane); every cycle each slice multiplies
// (x_hi << D) + x_lo by its row's weight into its P; after `chain` products and at the end of the
// pass the array stops issuing for drain_cycles while P's lanes go into the two columns'
// accumulators. Unpacked: one column per slice, each product into the accumulator.
Stepped step_actpack(const DspCoreConfig& c, const DspGeometry& g, int D, int64_t chain,
                     bool packed, const QuantLayer& L, const std::vector<int32_t>& rows, int64_t k0,
                     int64_t tk, const std::vector<std::vector<uint32_t>>& x) {
  const int64_t tn = int64_t(x[0].size());
  const AccSpec spec{L.acc_bits, L.overflow};
  Stepped s;
  s.acc.assign(rows.size() * size_t(tn), 0);
  for (size_t r = 0; r < rows.size(); ++r)
    for (int64_t n = 0; n < tn; ++n)
      s.acc[r * size_t(tn) + size_t(n)] = acc_load(spec, L.bias[rows[r]], s.overflows);
  auto add = [&](size_t r, int64_t n, int64_t v) {
    int64_t& a = s.acc[r * size_t(tn) + size_t(n)];
    a = acc_add(spec, a, v, s.overflows);
  };
  int64_t cycle = 0;
  const int64_t per_pass = packed ? 2 * int64_t(c.cols) : c.cols;
  for (int64_t pass = 0; pass * per_pass < tn; ++pass) {
    std::vector<PackedAccumulator> P(rows.size() * size_t(c.cols), PackedAccumulator(g, D));
    int64_t in_chain = 0;
    for (int64_t k = 0; k < tk; ++k) {
      for (size_t r = 0; r < rows.size(); ++r)
        for (int col = 0; col < c.cols; ++col) {
          const int32_t w = L.row(rows[r])[k0 + k];
          if (!packed) {
            const int64_t n = pass * c.cols + col;
            if (n < tn) add(r, n, int64_t(w) * x[size_t(k)][size_t(n)]);
            continue;
          }
          const int64_t lo = pass * per_pass + 2 * col, hi = lo + 1;
          if (lo >= tn) continue;
          P[r * size_t(c.cols) + size_t(col)].mac_acts(hi < tn ? x[size_t(k)][size_t(hi)] : 0,
                                                       x[size_t(k)][size_t(lo)], w);
        }
      ++cycle;
      if (packed && (++in_chain == chain || k + 1 == tk)) {
        cycle += c.drain_cycles;
        in_chain = 0;
        for (size_t r = 0; r < rows.size(); ++r)
          for (int col = 0; col < c.cols; ++col) {
            const int64_t lo = pass * per_pass + 2 * col, hi = lo + 1;
            PackedAccumulator& p = P[r * size_t(c.cols) + size_t(col)];
            if (lo < tn) add(r, lo, p.lo());
            if (hi < tn) add(r, hi, p.hi());
            p.clear();
          }
      }
    }
  }
  s.cycles = cycle + c.pipeline_depth;
  return s;
}

}  // namespace

TEST(ActPackEngine, JobEqualsPerCycleOracleOnRandomTiles) {
  std::mt19937 rng(12);
  int packed_jobs = 0, single_jobs = 0;
  for (int trial = 0; trial < 80; ++trial) {
    DspCoreConfig c;
    c.rows = std::uniform_int_distribution<int>(1, 9)(rng);
    c.cols = std::uniform_int_distribution<int>(1, 12)(rng);
    c.pipeline_depth = std::uniform_int_distribution<int>(1, 6)(rng);
    c.drain_cycles = std::uniform_int_distribution<int>(0, 3)(rng);
    c.packing = trial % 7 != 3;
    const DspKind kind = trial % 2 ? DspKind::DSP48E2 : DspKind::DSP48E1;
    const DspGeometry g = dsp_geometry(kind);
    const int rows_used = std::uniform_int_distribution<int>(1, c.rows)(rng);
    const int64_t tn = std::uniform_int_distribution<int64_t>(1, 150)(rng);
    const int64_t tk = std::uniform_int_distribution<int64_t>(1, 40)(rng);
    const int64_t k0 = std::uniform_int_distribution<int64_t>(0, 4)(rng);
    const bool narrow = trial % 5 == 0;
    const int bits = std::uniform_int_distribution<int>(2, 8)(rng);
    const QuantLayer L = layer_of(
        rows_used, int(k0 + tk), narrow ? 14 : 32, trial % 3 ? Overflow::Wrap : Overflow::Saturate,
        rng, [&](int m, int& b, Scheme& s) {
          b = m % 3 == 2 ? std::max(2, bits - 1) : bits;
          s = Scheme::Fixed;
          return std::uniform_int_distribution<int32_t>(-fixed_max(b), fixed_max(b))(rng);
        });
    std::vector<int32_t> rows;
    for (int m = 0; m < rows_used; ++m) rows.push_back(m);
    std::vector<std::vector<uint32_t>> x;
    const InputTileValues tile = tile_of(tn, tk, rng, x);
    const std::vector<int8_t> bounds = row_bounds(L);

    // The oracle's own decision: packed when packing is on, the chain is at least 1, no row can
    // overflow, and the stepped packed array is faster than one column per slice.
    const int D = max_act_lane_offset(g, 8);
    const int64_t chain = act_packed_max_chain(g, ActPackLayout{8, bits, D});
    bool safe = true;
    for (int8_t v : bounds) safe = safe && v != 0;
    const Stepped single = step_actpack(c, g, D, 0, false, L, rows, k0, tk, x);
    Stepped want = single;
    if (c.packing && chain >= 1 && safe) {
      const Stepped packed = step_actpack(c, g, D, chain, true, L, rows, k0, tk, x);
      if (packed.cycles < single.cycles) want = packed;
    }
    const ActPackJob job = actpack_job(c, kind, L, bounds, rows, tn, tk);
    EXPECT_EQ(job.cycles, want.cycles) << "trial " << trial << " cols " << c.cols << " tn " << tn
                                       << " tk " << tk << " chain " << chain;
    (job.packed ? packed_jobs : single_jobs)++;
    std::vector<int64_t> acc(size_t(rows_used * tn), 0);
    uint64_t ovf = 0;
    actpack_block_values(job, g, actpack_lane_offset(c, kind, 8), L, bounds, rows, k0, tk, true,
                         tile, acc.data(), ovf);
    ASSERT_EQ(acc, want.acc) << "trial " << trial << " packed " << job.packed;
    EXPECT_EQ(ovf, want.overflows) << "trial " << trial;
  }
  EXPECT_GT(packed_jobs, 20);
  EXPECT_GT(single_jobs, 5);
}

namespace {

RunConfig small_config(const char* lut, const char* dsp) {
  RunConfig c;
  c.device.dsp_kind = DspKind::DSP48E1;
  c.accelerator.lut_core = {8, 8, 3};
  c.accelerator.dsp_core.rows = 4;
  c.accelerator.dsp_core.cols = 8;
  c.accelerator.buffers = {4, 8, 4, true};
  EngineSpec l = lut_engine_spec(c.accelerator.lut_core),
             d = dsp_engine_spec(c.accelerator.dsp_core);
  l.impl = lut, d.impl = dsp;
  c.accelerator.engines = {l, d};
  return c;
}

Workload mixed_layers(int acc_bits, Overflow ov) {
  std::vector<RandomLayerSpec> v(6);
  v[0].shape = conv("c3s1", 8, 10, 23, 3, 1, 1);  // odd rows
  v[1].shape = conv("c3s2", 16, 11, 20, 3, 2, 1, 1, 2);
  v[2].shape = conv("c1", 32, 6, 40, 1, 1, 0);
  v[2].fixed8_fraction = 0.25;
  v[3].shape = conv("dw", 12, 9, 12, 3, 1, 1, 12);
  v[4].shape = conv("c7", 3, 20, 16, 7, 2, 3);
  v[4].output = OutputKind::Accumulators;
  v[5].shape = conv("g2", 8, 7, 8, 3, 1, 1, 2);
  Workload wl;
  for (size_t i = 0; i < v.size(); ++i) {
    v[i].acc_bits = acc_bits;
    v[i].overflow = ov;
    wl.layers.push_back(random_layer(v[i], 300 + i));
    wl.inputs.push_back(random_input(v[i].shape, 8, 400 + i));
  }
  return wl;
}

void expect_matches(const Workload& wl, const SimResult& r) {
  ASSERT_EQ(r.layers.size(), wl.layers.size());
  for (size_t l = 0; l < wl.layers.size(); ++l) {
    uint64_t ovf = 0;
    const OutTensor ref = naive_conv(wl.layers[l], wl.inputs[l], &ovf);
    EXPECT_EQ(ref.data, r.layers[l].out.data) << "layer " << l;
    EXPECT_EQ(ovf, r.layers[l].overflows) << "layer " << l;
  }
}

}  // namespace

TEST(NewEngines, BitSerialAndActPackLayersMatchNaiveReference) {
  const Workload wl = mixed_layers(32, Overflow::Wrap);
  const SimResult r =
      simulate(small_config("lut_sp2_bitserial", "dsp48_actpack"), wl, SimOptions{});
  expect_matches(wl, r);
  for (const auto& l : r.layers) EXPECT_GT(l.cycles, 0) << l.name;
}

TEST(NewEngines, NarrowSaturatingAccumulatorsMatch) {
  const Workload wl = mixed_layers(16, Overflow::Saturate);
  const SimResult r =
      simulate(small_config("lut_sp2_bitserial", "dsp48_actpack"), wl, SimOptions{});
  expect_matches(wl, r);
  uint64_t ovf = 0;
  for (const auto& l : r.layers) ovf += l.overflows;
  EXPECT_GT(ovf, 0u);
}

// A block of two-digit weights takes two cycles per k step where lut_sp2 takes one; a block of
// one-digit weights runs at lut_sp2's speed. The activation-packed DSP core halves the passes of
// a depthwise row (weight packing cannot pack it: no other row shares its activations).
TEST(NewEngines, TimingFollowsTheDigitsAndThePacking) {
  std::mt19937 rng(3);
  LutCoreConfig lc;
  lc.rows = 4, lc.cols = 8, lc.pipeline_depth = 3;
  const QuantLayer two = layer_of(4, 27, 32, Overflow::Wrap, rng, [](int, int& b, Scheme& s) {
    b = 4, s = Scheme::Sp2;
    return 5;  // 4 + 1
  });
  const QuantLayer one = layer_of(4, 27, 32, Overflow::Wrap, rng, [](int m, int& b, Scheme& s) {
    b = 4, s = Scheme::Sp2;
    return m % 2 ? -4 : 0;
  });
  const std::vector<int32_t> rows = {0, 1, 2, 3};
  EXPECT_EQ(bitserial_job_cycles(lc, 20, 27, bitserial_block_digits(two, rows)),
            2 * (lut_job_cycles(lc, 20, 27) - 3) + 3);
  EXPECT_EQ(bitserial_job_cycles(lc, 20, 27, bitserial_block_digits(one, rows)),
            lut_job_cycles(lc, 20, 27));

  DspCoreConfig dc;
  dc.rows = 4, dc.cols = 8, dc.pipeline_depth = 4, dc.drain_cycles = 1;
  RandomLayerSpec dw;
  dw.shape = conv("dw", 16, 16, 16, 3, 1, 1, 16);
  dw.sp2_fraction = 0.0;
  const QuantLayer L = random_layer(dw, 7);
  const std::vector<int8_t> bounds = row_bounds(L);
  // tk = 9 < chain 18: one drain per pass; 256 columns in 16 passes of 16 instead of 32 of 8.
  const ActPackJob j = actpack_job(dc, DspKind::DSP48E1, L, bounds, {5}, 256, 9);
  EXPECT_TRUE(j.packed);
  EXPECT_EQ(j.chain, 18);
  EXPECT_EQ(j.cycles, 16 * (9 + 1) + 4);
  EXPECT_EQ(dsp_job_cycles(dc, 256, 9, false, 0), 32 * 9 + 4);
  dc.packing = false;
  EXPECT_FALSE(actpack_job(dc, DspKind::DSP48E1, L, bounds, {5}, 256, 9).packed);
  // One pass either way: packing would only add the drain.
  dc.packing = true;
  EXPECT_FALSE(actpack_job(dc, DspKind::DSP48E1, L, bounds, {5}, 8, 9).packed);
}

TEST(NewEngines, RegistryKnowsBothKinds) {
  ASSERT_NE(find_engine_kind("lut_sp2_bitserial"), nullptr);
  ASSERT_NE(find_engine_kind("dsp48_actpack"), nullptr);
  Fabric f;
  Buffer w0("w0", 4096), w1("w1", 4096);
  AcceleratorConfig a;
  EngineSpec ls = lut_engine_spec(LutCoreConfig{5, 7, 3}), ds = dsp_engine_spec(a.dsp_core);
  ls.impl = "lut_sp2_bitserial";
  ds.impl = "dsp48_actpack", ds.rows = 3, ds.cols = 5, ds.packing = true;
  a.engines = {ls, ds};
  const auto lut = make_engine(EngineContext{f, 0, w0, ls, a});
  const auto dsp = make_engine(EngineContext{f, 1, w1, ds, a});
  EXPECT_STREQ(lut->impl(), "lut_sp2_bitserial");
  EXPECT_STREQ(dsp->impl(), "dsp48_actpack");
  EXPECT_TRUE(lut->caps().sp2);
  EXPECT_FALSE(lut->caps().fixed);
  EXPECT_EQ(lut->caps().max_bits, 7);
  EXPECT_TRUE(dsp->caps().fixed);
  // Two activations per slice, never two rows: the planner must not pack rows for it.
  EXPECT_FALSE(dsp->caps().packing);
  EXPECT_EQ(lut->peak_macs_per_cycle(), 35);
  EXPECT_EQ(dsp->peak_macs_per_cycle(), 30);
  // The registry's static entries agree with the built engines.
  EXPECT_EQ(find_engine_kind("lut_sp2_bitserial")->peak_macs_per_cycle(ls), 35);
  EXPECT_EQ(find_engine_kind("dsp48_actpack")->caps(ds).max_bits, dsp->caps().max_bits);
}

namespace {

std::string config_error(const std::string& yaml) {
  try {
    load_run_config_node(YAML::Load(yaml), "t.yaml", ".", {});
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

const std::string kNew =
    "accelerator:\n"
    "  engines:\n"
    "    - {impl: lut_sp2_bitserial, rows: 40, cols: 40}\n"
    "    - {impl: dsp48_actpack, rows: 14, cols: 15}\n";

}  // namespace

TEST(NewEngines, ConfigTakesBothKindsWithTheirSlotsKeys) {
  const RunConfig c = load_run_config_node(YAML::Load(kNew), "t.yaml", ".", {});
  EXPECT_EQ(c.accelerator.engines[0].impl, "lut_sp2_bitserial");
  EXPECT_EQ(c.accelerator.engines[1].impl, "dsp48_actpack");
  EXPECT_EQ(c.accelerator.engines[0].rows, 40);
  EXPECT_EQ(c.accelerator.engines[1].cols, 15);
  // The resolved config keeps the kinds when written back as YAML and reloaded.
  const RunConfig back = load_run_config_node(config_to_yaml(c), "back.yaml", ".", {});
  EXPECT_EQ(back.accelerator.engines[0].impl, "lut_sp2_bitserial");
  EXPECT_EQ(back.accelerator.engines[1].impl, "dsp48_actpack");
}

TEST(NewEngines, BadConfigsNameTheKeyAndWhatIsExpected) {
  const std::string L = "accelerator:\n  engines:\n";
  const std::string unknown =
      config_error(L + "    - {impl: lut_sp2_bitserial, packing: true}\n    - {impl: dsp48}\n");
  EXPECT_NE(unknown.find("t.yaml:3: accelerator.engines[0].packing: unknown key for a "
                         "lut_sp2_bitserial engine, expected one of impl, name, rows, cols, "
                         "pipeline_depth"),
            std::string::npos)
      << unknown;
  const std::string typo = config_error(L + "    - {impl: lut_sp2}\n    - {impl: dsp48_actpak}\n");
  EXPECT_NE(typo.find("accelerator.engines[1].impl: expected one of lut_sp2, dsp48, "
                      "lut_sp2_bitserial, dsp48_actpack (got dsp48_actpak); did you mean "
                      "'dsp48_actpack'?"),
            std::string::npos)
      << typo;
  const std::string order =
      config_error(L + "    - {impl: dsp48_actpack}\n    - {impl: lut_sp2_bitserial}\n");
  // Any order: rows go to the engines by capability, not by position.
  EXPECT_EQ(order, "");
  const std::string bits8 = config_error(kNew + "workload: {weight_bits: 8}\n");
  EXPECT_NE(bits8.find("t.yaml:5: workload.weight_bits: a lut_sp2_bitserial engine takes SP2 "
                       "rows of 3..7 bits: its digits are a sign and a 3-bit shift (0..7), and "
                       "8-bit SP2 weights need shifts up to 14"),
            std::string::npos)
      << bits8;
  // Fixed-point only: no SP2 row reaches the bit-serial engine.
  EXPECT_EQ(config_error(kNew + "workload: {weight_bits: 8, sp2_fraction: 0}\n"), "");
  const std::string act = config_error(kNew + "workload: {act_bits: 16}\n");
  EXPECT_NE(act.find("t.yaml:5: workload.act_bits: a dsp48_actpack engine packs two "
                     "activations into the DSP48E1's 25-bit A port"),
            std::string::npos)
      << act;
  EXPECT_NE(act.find("use act_bits <= "), std::string::npos) << act;
  const std::string off =
      config_error(L + "    - {impl: lut_sp2}\n    - {impl: dsp48_actpack, lane_offset: 20}\n");
  EXPECT_NE(off.find("t.yaml:4: accelerator.engines[1].lane_offset: a dsp48_actpack engine packs"),
            std::string::npos)
      << off;
}

// A trace or network whose rows the bit-serial engine cannot take is refused by the planner,
// naming the layer and the row.
TEST(NewEngines, PlannerRefusesRowsTheDigitWordCannotHold) {
  RandomLayerSpec sp;
  sp.shape = conv("c", 4, 4, 4, 3, 1, 1);
  sp.bits = 8;
  sp.sp2_fraction = 1.0;
  const QuantLayer L = random_layer(sp, 1);
  RunConfig c = small_config("lut_sp2_bitserial", "dsp48");
  try {
    plan_layer(L, c, "layer 0 (c)");
    FAIL() << "8-bit SP2 rows were planned on the bit-serial engine";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("layer 0 (c): row 0 is a 8-bit SP2 row; the "
                                         "lut_sp2_bitserial engine's digits shift by at most 7 "
                                         "and its weights need 14"),
              std::string::npos)
        << e.what();
  }
  // With spill, the rows the bit-serial engine cannot take go to the DSP engine, which can.
  c.accelerator.scheduler.spill = true;
  const LayerPlan spilled = plan_layer(L, c, "layer 0 (c)");
  EXPECT_EQ(spilled.engines[0].rows, 0);
  EXPECT_EQ(spilled.engines[1].rows, L.shape.m());
  c.accelerator.scheduler.spill = false;
  c.accelerator.engines[0].impl = "lut_sp2";
  EXPECT_NO_THROW(plan_layer(L, c, "layer 0 (c)"));
}

// With scheduler.spill, SP2 rows that move to the activation-packed DSP core are multiplied as
// the small integers they are, packed at their F + 2 bits, and still match the reference.
TEST(NewEngines, SpilledSp2RowsOnActPackMatch) {
  RunConfig c = small_config("lut_sp2_bitserial", "dsp48_actpack");
  c.accelerator.engines[0].rows = 2, c.accelerator.engines[0].cols = 2;
  c.accelerator.engines[0].pipeline_depth = 3;
  c.accelerator.scheduler.spill = true;
  Workload wl;
  for (int i = 0; i < 2; ++i) {
    RandomLayerSpec sp;
    sp.shape = i ? conv("dw", 12, 9, 12, 3, 1, 1, 12) : conv("c", 8, 9, 13, 3, 1, 1);
    sp.sp2_fraction = 0.9;
    wl.layers.push_back(random_layer(sp, 50 + i));
    wl.inputs.push_back(random_input(sp.shape, 8, 60 + i));
  }
  const SimResult r = simulate(c, wl, SimOptions{});
  expect_matches(wl, r);
  for (const auto& l : r.layers) EXPECT_GT(l.spilled_rows, 0) << l.name;
}

// The PE costs of the new kinds: the synthesized cost functions (docs/resources.md) at the
// engine's widths, and the estimate's lines built from the kinds the engine list names.
TEST(NewEngines, PeCostsFollowTheWidths) {
  const ResourceCosts k =
      load_resource_costs(std::string(MSQ_SOURCE_DIR) + "/configs/resources/costs.yaml");
  RunConfig c;
  c.workload.act_bits = 8, c.workload.weight_bits = 4;  // SP2 4 bits: m1 = 2
  c.accelerator.accumulator.bits = 16;
  EXPECT_DOUBLE_EQ(bitserial_pe_cost(c, k).lut, bitserial_pe_cost(8, 2, 16, Overflow::Wrap, k).lut);
  EXPECT_DOUBLE_EQ(bitserial_pe_cost(c, k).ff, bitserial_pe_cost(8, 2, 16, Overflow::Wrap, k).ff);
  const PeCost narrow = bitserial_pe_cost(c, k);
  c.accelerator.accumulator.bits = 32;
  EXPECT_GT(bitserial_pe_cost(c, k).lut, narrow.lut);
  EXPECT_GT(bitserial_pe_cost(c, k).ff, narrow.ff);
  // DSP48E1, 8-bit activations: D = 16, two lanes when packed.
  const PeCost packed = actpack_pe_cost(c, k);
  EXPECT_DOUBLE_EQ(packed.lut, dsp_actpacked_pe_cost(8, 4, 16, 32, 4, k).lut);
  EXPECT_EQ(packed.dsp, 1);
  c.accelerator.dsp_core.packing = false;
  const PeCost single = actpack_pe_cost(c, k);
  EXPECT_LT(single.lut, packed.lut);
  EXPECT_LT(single.ff, packed.ff);
  c.accelerator.dsp_core.packing = true;

  c.accelerator.lut_core = {40, 40, 4};
  const int64_t parallel = estimate_resources(c, k).lines[0].lut;
  EngineSpec ls = lut_engine_spec(c.accelerator.lut_core),
             ds = dsp_engine_spec(c.accelerator.dsp_core);
  ls.impl = "lut_sp2_bitserial", ds.impl = "dsp48_actpack";
  c.accelerator.engines = {ls, ds};
  const ResourceEstimate e = estimate_resources(c, k);
  EXPECT_EQ(e.lines[0].block, "lut_core");
  EXPECT_GE(e.lines[0].lut, int64_t(1600 * bitserial_pe_cost(c, k).lut));
  EXPECT_LT(e.lines[0].lut, parallel);
  EXPECT_GE(e.lines[1].lut, int64_t(256 * packed.lut));
}

// The golden traces of the new kinds (tests/traces/README.md) replay on the engines they name, and
// the depthwise one really packs two columns per slice.
TEST(NewEngines, GoldenTracesUseTheNewKinds) {
  const std::string dir = std::string(MSQ_SOURCE_DIR) + "/tests/traces/";
  const Trace bs = read_trace(dir + "bitserial_actpack");
  const RunConfig c1 = load_run_config_node(bs.config, "bitserial_actpack", dir, {});
  EXPECT_EQ(c1.accelerator.engines[0].impl, "lut_sp2_bitserial");
  EXPECT_EQ(c1.accelerator.engines[1].impl, "dsp48_actpack");
  const Trace dw = read_trace(dir + "actpack_dw3x3");
  const RunConfig c2 = load_run_config_node(dw.config, "actpack_dw3x3", dir, {});
  ASSERT_EQ(c2.accelerator.engines[1].impl, "dsp48_actpack");
  const QuantLayer& L = dw.layers.at(0).layer;
  const LayerPlan p = plan_layer(L, c2, "actpack_dw3x3");
  ASSERT_FALSE(p.blocks(1).empty());
  const ActPackJob j = actpack_job(c2.accelerator.engines[1].dsp(), c2.device.dsp_kind, L,
                                   p.row_sum_bits, p.blocks(1)[0].rows, p.tiles[0].tn, p.tk);
  EXPECT_TRUE(j.packed);
  EXPECT_EQ(p.blocks(1)[0].rows.size(), 1u);  // depthwise: one row per block
}
