// The RTL as an oracle of the cycle model: the Verilog processing elements and arrays in rtl/,
// simulated clock by clock with Verilator on random tiles, must give the values of the simulator's
// arithmetic (models/arith) and take the cycles of its job timing (lut_job_cycles, dsp_job_cycles)
// for the same job. The arrays' widths are set in rtl/rtl_oracle_top.v and repeated here.
#include <gtest/gtest.h>
// Verilator 5.006's headers have an unused parameter (VlClass's copy constructor).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include <verilated.h>

#include "Vrtl_oracle_top.h"
#pragma GCC diagnostic pop

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "models/arith/accumulator.h"
#include "models/arith/fixed_point.h"
#include "models/arith/packed_dsp.h"
#include "models/arith/sp2.h"
#include "models/config.h"
#include "models/resource_model.h"
#include "models/tiler.h"

namespace {

using namespace msq;

// rtl_oracle_top's parameters.
constexpr int R = 3, C = 4, A = 8, B = 4, LACC = 14, AW = 25, D = 14, DACC = 24;
constexpr int kDepth = 4;  // the PEs' pipeline_depth (rtl/sp2_pe.v, rtl/dsp_pe_packed.v)

// Bit fields of Verilator ports: plain integers up to 64 bits, VlWide above.
template <typename T>
void put(T& port, int lsb, int w, uint64_t v) {
  const uint64_t m = (w >= 64 ? ~uint64_t(0) : (uint64_t(1) << w) - 1) << lsb;
  port = T((uint64_t(port) & ~m) | ((v << lsb) & m));
}
template <std::size_t N>
void put(VlWide<N>& port, int lsb, int w, uint64_t v) {
  for (int i = 0; i < w; ++i) {
    const int bit = lsb + i, word = bit / 32;
    const uint32_t m = uint32_t(1) << (bit % 32);
    port[word] = ((v >> i) & 1) ? (port[word] | m) : (port[word] & ~m);
  }
}
template <std::size_t N>
int64_t get_signed(const VlWide<N>& port, int lsb, int w) {
  uint64_t v = 0;
  for (int i = 0; i < w; ++i) {
    const int bit = lsb + i;
    v |= uint64_t((port[bit / 32] >> (bit % 32)) & 1) << i;
  }
  const int sh = 64 - w;
  return int64_t(v << sh) >> sh;
}

struct Tile {
  int64_t tk, tn;
  std::vector<uint32_t> code;  // [R][tk] SP2 code words (LUT engines)
  std::vector<int32_t> w;      // [2R][tk] fixed weights (DSP: slice r holds rows 2r, 2r + 1)
  std::vector<uint32_t> x;     // [tk][tn]
};

Tile random_tile(std::mt19937& rng) {
  Tile t;
  t.tk = std::uniform_int_distribution<int64_t>(1, 24)(rng);
  t.tn = std::uniform_int_distribution<int64_t>(1, 3 * C)(rng);
  std::uniform_int_distribution<uint32_t> code(0, (1u << B) - 1), act(0, (1u << A) - 1);
  std::uniform_int_distribution<int32_t> fixed(-fixed_max(B), fixed_max(B));
  for (int64_t i = 0; i < R * t.tk; ++i) t.code.push_back(code(rng));
  for (int64_t i = 0; i < 2 * R * t.tk; ++i) t.w.push_back(fixed(rng));
  // Mostly large activations, so that the 14-bit accumulators overflow.
  for (int64_t i = 0; i < t.tk * t.tn; ++i) t.x.push_back(rng() % 4 ? act(rng) | 0x80 : act(rng));
  return t;
}

// The simulator's LUT PE: one product per weight (sp2_shift_add), accumulated by acc_add.
std::vector<int64_t> lut_expected(const Tile& t, const AccSpec& spec, uint64_t& ovf) {
  const Sp2Format f(B);
  std::vector<int64_t> out(size_t(R * t.tn));
  for (int r = 0; r < R; ++r)
    for (int64_t n = 0; n < t.tn; ++n) {
      int64_t acc = 0;
      for (int64_t k = 0; k < t.tk; ++k)
        acc =
            acc_add(spec, acc,
                    sp2_shift_add(f, sp2_unpack(f, t.code[r * t.tk + k]), t.x[k * t.tn + n]), ovf);
      out[size_t(r * t.tn + n)] = acc;
    }
  return out;
}

struct Sim {
  std::unique_ptr<VerilatedContext> ctx = std::make_unique<VerilatedContext>();
  std::unique_ptr<Vrtl_oracle_top> top = std::make_unique<Vrtl_oracle_top>(ctx.get());
  Sim() {
    top->clk = 0;
    top->eval();
  }
  void tick() {
    top->clk = 1;
    top->eval();
    top->clk = 0;
    top->eval();
  }
};

// Runs one job of a LUT engine through its array: `start` in cycle 0, the operands of the step
// the sequencer names in each cycle, and counts the clock edges until the last pass's sums are in
// the readout registers. Fills `outs` [R][tn].
template <typename Ports>
int64_t run_lut_job(Sim& s, Ports p, const Tile& t, std::vector<int64_t>& outs) {
  const int64_t passes = (t.tn + C - 1) / C;
  outs.assign(size_t(R * t.tn), 0);
  int64_t seen = 0;
  for (int64_t cycle = 0; cycle < 100000; ++cycle) {
    *p.start = cycle == 0;
    *p.tk = uint16_t(t.tk);
    *p.passes = uint16_t(passes);
    s.top->eval();
    if (*p.step_valid) {
      const int64_t k = *p.step_k, pass = *p.step_pass;
      for (int r = 0; r < R; ++r) put(*p.codes, r * B, B, t.code[r * t.tk + k]);
      for (int c = 0; c < C; ++c) {
        const int64_t n = pass * C + c;
        put(*p.xs, c * A, A, n < t.tn ? t.x[k * t.tn + n] : 0);
      }
    }
    s.tick();
    if (*p.out_valid) {
      for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c) {
          const int64_t n = seen * C + c;
          if (n < t.tn) outs[size_t(r * t.tn + n)] = get_signed(*p.outs, (r * C + c) * LACC, LACC);
        }
      if (++seen == passes) return cycle + 1;
    }
  }
  return -1;
}

void check_lut_engine(Overflow policy) {
  Sim s;
  std::mt19937 rng(policy == Overflow::Wrap ? 11 : 12);
  const AccSpec spec{LACC, policy};
  LutCoreConfig cfg;
  cfg.rows = R;
  cfg.cols = C;
  cfg.pipeline_depth = kDepth;
  uint64_t overflows = 0;
  for (int job = 0; job < 60; ++job) {
    const Tile t = random_tile(rng);
    std::vector<int64_t> got;
    int64_t cycles;
    if (policy == Overflow::Wrap) {
      struct {
        decltype(&s.top->lw_start) start;
        decltype(&s.top->lw_tk) tk, passes;
        decltype(&s.top->lw_step_valid) step_valid;
        decltype(&s.top->lw_step_k) step_k, step_pass;
        decltype(&s.top->lw_codes) codes;
        decltype(&s.top->lw_xs) xs;
        decltype(&s.top->lw_outs) outs;
        decltype(&s.top->lw_out_valid) out_valid;
      } p{&s.top->lw_start,  &s.top->lw_tk,        &s.top->lw_passes, &s.top->lw_step_valid,
          &s.top->lw_step_k, &s.top->lw_step_pass, &s.top->lw_codes,  &s.top->lw_xs,
          &s.top->lw_outs,   &s.top->lw_out_valid};
      cycles = run_lut_job(s, p, t, got);
    } else {
      struct {
        decltype(&s.top->ls_start) start;
        decltype(&s.top->ls_tk) tk, passes;
        decltype(&s.top->ls_step_valid) step_valid;
        decltype(&s.top->ls_step_k) step_k, step_pass;
        decltype(&s.top->ls_codes) codes;
        decltype(&s.top->ls_xs) xs;
        decltype(&s.top->ls_outs) outs;
        decltype(&s.top->ls_out_valid) out_valid;
      } p{&s.top->ls_start,  &s.top->ls_tk,        &s.top->ls_passes, &s.top->ls_step_valid,
          &s.top->ls_step_k, &s.top->ls_step_pass, &s.top->ls_codes,  &s.top->ls_xs,
          &s.top->ls_outs,   &s.top->ls_out_valid};
      cycles = run_lut_job(s, p, t, got);
    }
    const std::vector<int64_t> want = lut_expected(t, spec, overflows);
    ASSERT_EQ(cycles, lut_job_cycles(cfg, t.tn, t.tk))
        << "job " << job << " tk " << t.tk << " tn " << t.tn;
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_EQ(got[i], want[i]) << "job " << job << " row " << i / t.tn << " col " << i % t.tn;
  }
  // The tiles are meant to exercise the overflow rule, not to stay inside the range.
  EXPECT_GT(overflows, 0u);
}

TEST(RtlOracle, Sp2ArrayWrapsLikeTheCycleModel) {
  check_lut_engine(Overflow::Wrap);
}

TEST(RtlOracle, Sp2ArraySaturatesLikeTheCycleModel) {
  check_lut_engine(Overflow::Saturate);
}

// The bit-serial array (the lut_sp2_bitserial engine, docs/arithmetic.md): a weight's digits are
// its nonzero SP2 terms, e1's first, padded with zero digits to the block's digit count (the most
// digits of any weight of the job's rows, at least 1); every k step takes that many cycles. The
// values: each exact product added by acc_add, the bit-parallel PE's values; the cycles:
// ceil(tn / cols) * tk * digits + pipeline_depth.
TEST(RtlOracle, BitSerialArrayMatchesTheCycleModel) {
  Sim s;
  std::mt19937 rng(13);
  const Sp2Format f(B);
  const AccSpec spec{LACC, Overflow::Saturate};
  int64_t one_digit_jobs = 0, overflows = 0;
  for (int job = 0; job < 60; ++job) {
    Tile t = random_tile(rng);
    // Every fourth job has only single-term weights (e2 = 0): one digit per step.
    if (job % 4 == 3)
      for (auto& c : t.code) c &= ~((1u << f.m2) - 1);
    // Each weight's digit words {s, e}, zero digits (e = 0) as padding.
    std::vector<std::vector<uint32_t>> digs(t.code.size());
    int digits = 1;
    for (size_t i = 0; i < t.code.size(); ++i) {
      const Sp2Code c = sp2_unpack(f, t.code[i]);
      for (int e : {int(c.e1), int(c.e2)})
        if (e != 0) digs[i].push_back((uint32_t(c.s) << f.m1) | uint32_t(e));
      digits = std::max(digits, int(digs[i].size()));
    }
    one_digit_jobs += digits == 1;
    const int64_t passes = (t.tn + C - 1) / C;
    std::vector<int64_t> got(size_t(R * t.tn));
    int64_t seen = 0, cycles = -1;
    for (int64_t cycle = 0; cycle < 100000 && cycles < 0; ++cycle) {
      s.top->bs_start = cycle == 0;
      s.top->bs_tk = uint16_t(t.tk);
      s.top->bs_passes = uint16_t(passes);
      s.top->bs_digits = uint16_t(digits);
      s.top->eval();
      if (s.top->bs_step_valid) {
        const int64_t k = s.top->bs_step_k, pass = s.top->bs_step_pass;
        const size_t sub = s.top->bs_step_sub;
        for (int r = 0; r < R; ++r) {
          const auto& d = digs[size_t(r * t.tk + k)];
          put(s.top->bs_ds, r * (1 + f.m1), 1 + f.m1, sub < d.size() ? d[sub] : 0);
        }
        for (int c = 0; c < C; ++c) {
          const int64_t n = pass * C + c;
          put(s.top->bs_xs, c * A, A, n < t.tn ? t.x[k * t.tn + n] : 0);
        }
      }
      s.tick();
      if (s.top->bs_out_valid) {
        for (int r = 0; r < R; ++r)
          for (int c = 0; c < C; ++c) {
            const int64_t n = seen * C + c;
            if (n < t.tn)
              got[size_t(r * t.tn + n)] = get_signed(s.top->bs_outs, (r * C + c) * LACC, LACC);
          }
        if (++seen == passes) cycles = cycle + 1;
      }
    }
    ASSERT_EQ(cycles, passes * t.tk * digits + kDepth)
        << "job " << job << " tk " << t.tk << " tn " << t.tn << " digits " << digits;
    uint64_t ovf = 0;
    const std::vector<int64_t> want = lut_expected(t, spec, ovf);
    overflows += int64_t(ovf);
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_EQ(got[i], want[i]) << "job " << job << " row " << i / t.tn << " col " << i % t.tn;
  }
  EXPECT_GE(one_digit_jobs, 10);
  EXPECT_GT(overflows, 0);
}

TEST(RtlOracle, PackedDspArrayMatchesTheCycleModel) {
  Sim s;
  std::mt19937 rng(14);
  const DspGeometry geo = dsp_geometry(DspKind::DSP48E1);
  const int64_t chain = packed_max_chain(geo, PackedLayout{B, A, D});
  ASSERT_GE(chain, 2);
  const AccSpec spec{DACC, Overflow::Wrap};
  DspCoreConfig cfg;
  cfg.rows = R;
  cfg.cols = C;
  cfg.pipeline_depth = kDepth;
  cfg.drain_cycles = 1;
  int64_t drains = 0;
  for (int job = 0; job < 60; ++job) {
    const Tile t = random_tile(rng);
    const int64_t passes = (t.tn + C - 1) / C;
    drains += passes * ((t.tk + chain - 1) / chain);
    std::vector<int64_t> hi(size_t(R * t.tn)), lo(size_t(R * t.tn));
    int64_t seen = 0, cycles = -1;
    for (int64_t cycle = 0; cycle < 100000 && cycles < 0; ++cycle) {
      s.top->dp_start = cycle == 0;
      s.top->dp_tk = uint16_t(t.tk);
      s.top->dp_passes = uint16_t(passes);
      s.top->dp_chain = uint16_t(chain);
      s.top->eval();
      if (s.top->dp_step_valid) {
        const int64_t k = s.top->dp_step_k, pass = s.top->dp_step_pass;
        for (int r = 0; r < R; ++r) {
          // The weight buffer's packed operand, as the DSP core's load_layer forms it.
          const int64_t a = int64_t(uint64_t(int64_t(t.w[(2 * r) * t.tk + k])) << D) +
                            t.w[(2 * r + 1) * t.tk + k];
          put(s.top->dp_as, r * AW, AW, uint64_t(a));
        }
        for (int c = 0; c < C; ++c) {
          const int64_t n = pass * C + c;
          put(s.top->dp_xs, c * A, A, n < t.tn ? t.x[k * t.tn + n] : 0);
        }
      }
      s.tick();
      if (s.top->dp_out_valid) {
        for (int r = 0; r < R; ++r)
          for (int c = 0; c < C; ++c) {
            const int64_t n = seen * C + c;
            if (n >= t.tn) continue;
            hi[size_t(r * t.tn + n)] = get_signed(s.top->dp_outs_hi, (r * C + c) * DACC, DACC);
            lo[size_t(r * t.tn + n)] = get_signed(s.top->dp_outs_lo, (r * C + c) * DACC, DACC);
          }
        if (++seen == passes) cycles = cycle + 1;
      }
    }
    ASSERT_EQ(cycles, dsp_job_cycles(cfg, t.tn, t.tk, true, chain))
        << "job " << job << " tk " << t.tk << " tn " << t.tn;
    uint64_t ovf = 0;
    for (int r = 0; r < R; ++r)
      for (int64_t n = 0; n < t.tn; ++n) {
        // The packed accumulator drained every `chain` products, lanes into the row sums.
        PackedAccumulator pa(geo, D);
        int64_t want_hi = 0, want_lo = 0, plain_hi = 0, plain_lo = 0;
        for (int64_t k0 = 0; k0 < t.tk; k0 += chain) {
          pa.clear();
          for (int64_t k = k0; k < std::min(t.tk, k0 + chain); ++k) {
            const uint32_t x = t.x[k * t.tn + n];
            pa.mac(t.w[(2 * r) * t.tk + k], t.w[(2 * r + 1) * t.tk + k], x);
            plain_hi += int64_t(t.w[(2 * r) * t.tk + k]) * x;
            plain_lo += int64_t(t.w[(2 * r + 1) * t.tk + k]) * x;
          }
          want_hi = acc_add(spec, want_hi, pa.hi(), ovf);
          want_lo = acc_add(spec, want_lo, pa.lo(), ovf);
        }
        const size_t i = size_t(r * t.tn + n);
        ASSERT_EQ(hi[i], want_hi) << "job " << job << " slice " << r << " col " << n;
        ASSERT_EQ(lo[i], want_lo) << "job " << job << " slice " << r << " col " << n;
        // Within the chain limit the lanes never collide: the products themselves.
        ASSERT_EQ(hi[i], plain_hi);
        ASSERT_EQ(lo[i], plain_lo);
      }
  }
  EXPECT_GT(drains, 60);
}

// The activation-packed DSP PE: P += ((x_hi << D) + x_lo) * w, drained every `chain` products into
// the two column sums by the same lane split. The model: each lane's plain integer sum of products
// (the chain limit of the weight-packed layout bounds the low lane the same way: |w x| per
// product), accumulated per drain with acc_add; the timing of a DSP core whose pass covers two
// output columns per slice column (dsp_job_cycles with 2C columns).
TEST(RtlOracle, ActivationPackedDspArrayMatchesTheCycleModel) {
  Sim s;
  std::mt19937 rng(15);
  const DspGeometry geo = dsp_geometry(DspKind::DSP48E1);
  // The A port holds x_hi above D bits, unsigned on a signed port.
  ASSERT_LE(D + A + 1, geo.a_bits);
  const int64_t chain = packed_max_chain(geo, PackedLayout{B, A, D});
  ASSERT_GE(chain, 2);
  const AccSpec spec{DACC, Overflow::Wrap};
  DspCoreConfig cfg;
  cfg.rows = R;
  cfg.cols = 2 * C;
  cfg.pipeline_depth = kDepth;
  cfg.drain_cycles = 1;
  int64_t drains = 0;
  for (int job = 0; job < 60; ++job) {
    const Tile t = random_tile(rng);  // rows r use the fixed weights t.w[r][k]
    const int64_t passes = (t.tn + 2 * C - 1) / (2 * C);
    drains += passes * ((t.tk + chain - 1) / chain);
    std::vector<int64_t> got(size_t(R * t.tn));
    int64_t seen = 0, cycles = -1;
    for (int64_t cycle = 0; cycle < 100000 && cycles < 0; ++cycle) {
      s.top->ap_start = cycle == 0;
      s.top->ap_tk = uint16_t(t.tk);
      s.top->ap_passes = uint16_t(passes);
      s.top->ap_chain = uint16_t(chain);
      s.top->eval();
      if (s.top->ap_step_valid) {
        const int64_t k = s.top->ap_step_k, pass = s.top->ap_step_pass;
        for (int r = 0; r < R; ++r) put(s.top->ap_ws, r * B, B, uint64_t(t.w[r * t.tk + k]));
        for (int j = 0; j < 2 * C; ++j) {
          const int64_t n = pass * 2 * C + j;
          put(s.top->ap_xs, j * A, A, n < t.tn ? t.x[k * t.tn + n] : 0);
        }
      }
      s.tick();
      if (s.top->ap_out_valid) {
        for (int r = 0; r < R; ++r)
          for (int c = 0; c < C; ++c) {
            const int64_t n = seen * 2 * C + 2 * c;
            const int lsb = (r * C + c) * DACC;
            if (n < t.tn) got[size_t(r * t.tn + n)] = get_signed(s.top->ap_outs_hi, lsb, DACC);
            if (n + 1 < t.tn)
              got[size_t(r * t.tn + n + 1)] = get_signed(s.top->ap_outs_lo, lsb, DACC);
          }
        if (++seen == passes) cycles = cycle + 1;
      }
    }
    ASSERT_EQ(cycles, dsp_job_cycles(cfg, t.tn, t.tk, true, chain))
        << "job " << job << " tk " << t.tk << " tn " << t.tn;
    uint64_t ovf = 0;
    for (int r = 0; r < R; ++r)
      for (int64_t n = 0; n < t.tn; ++n) {
        int64_t want = 0, plain = 0;
        for (int64_t k0 = 0; k0 < t.tk; k0 += chain) {
          int64_t lane = 0;  // one drained chain of this column's products
          for (int64_t k = k0; k < std::min(t.tk, k0 + chain); ++k)
            lane += int64_t(t.w[r * t.tk + k]) * t.x[k * t.tn + n];
          want = acc_add(spec, want, lane, ovf);
          plain += lane;
        }
        ASSERT_EQ(got[size_t(r * t.tn + n)], want) << "job " << job << " row " << r << " col " << n;
        ASSERT_EQ(want, plain);  // 24-bit sums of <= 24 products of 4x8 bits never wrap
      }
  }
  EXPECT_GT(drains, 60);
}

// The cost file the model loads by default (configs/resources/costs.yaml, generated by
// tools/synth_costs.py) prices the synthesized blocks that rtl/synth/yosys_runs_xc7.csv records
// within 25% of their LUT sites: the default PEs (a=8, b=4, acc=32, depth 4, DSP48E1 with D=21),
// the bit-serial PE, the activation-packed DSP PE and an 8x8 engine's glue.
TEST(RtlOracle, SynthesizedCostFileLoadsAndMatchesItsRuns) {
  const std::string root = MSQ_SOURCE_DIR;
  const ResourceCosts k = load_resource_costs(root + "/configs/resources/costs.yaml");
  std::ifstream csv(root + "/rtl/synth/yosys_runs_xc7.csv");
  ASSERT_TRUE(csv) << "rtl/synth/yosys_runs_xc7.csv";
  std::map<std::string, double> lut;  // hierarchical runs: the LUT sites of all parts of a block
  std::string line;
  while (std::getline(csv, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
    if (f.size() == 9 && f[0] == "hier") lut[f[1] + " " + f[2]] += std::stod(f[4]);
  }
  const RunConfig cfg;
  const double sp2 = lut["sp2_pe A=8 M1=2 M2=1 ACC=32"],
               dsp = lut["dsp_pe_packed A=8 AW=25 D=21 ACC=32"],
               bs = lut["sp2_pe_bitserial A=8 M1=2 ACC=32"],
               apk = lut["dsp_pe_actpacked A=8 WB=8 AW=25 D=16 ACC=32"],
               glue = lut["engine_glue R=8 C=8 WB=4 A=8 ACC=32"];
  for (double v : {sp2, dsp, bs, apk, glue}) ASSERT_GT(v, 0);
  EXPECT_NEAR(sp2_pe_cost(cfg, k).lut, sp2, 0.25 * sp2);
  EXPECT_NEAR(dsp_pe_cost(cfg, k).lut, dsp, 0.25 * dsp);
  EXPECT_EQ(dsp_pe_cost(cfg, k).dsp, 1);
  EXPECT_NEAR(bitserial_pe_cost(8, 2, 32, k).lut, bs, 0.25 * bs);
  EXPECT_NEAR(dsp_actpacked_pe_cost(8, 8, 16, 32, 4, k).lut, apk, 0.25 * apk);
  EXPECT_NEAR(engine_glue_cost(8, 8, 4, 8, 32, k).lut, glue, 0.25 * glue);
}

}  // namespace
