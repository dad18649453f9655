// The RTL as an oracle of the cycle model, job for job: for random layers (odd row counts, short
// k tiles, mixed weight widths, accumulators that wrap or saturate) the engines themselves
// (models/hw/engines/) plan the row blocks (plan_rows), price each job (Engine::job_cycles) and
// compute its values (Engine::compute); the Verilog arrays of rtl/rtl_oracle_top.v, simulated
// clock by clock with Verilator, run the same job from the operands the engine's own weight
// tables hold, and must give the same values and take the same cycles. Nothing of the arithmetic
// or the timing is restated here: the test only moves operands between the two.
#include <gtest/gtest.h>
// Verilator 5.006's headers have an unused parameter (VlClass's copy constructor).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include <verilated.h>

#include "Vrtl_oracle_top.h"
#pragma GCC diagnostic pop

#include <algorithm>
#include <cstdint>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "models/arith/fixed_point.h"
#include "models/arith/packed_dsp.h"
#include "models/arith/sp2.h"
#include "models/buffer.h"
#include "models/config.h"
#include "models/hw/engine_registry.h"
#include "models/hw/engines/dsp48/dsp48.h"
#include "models/hw/engines/dsp48_actpack/dsp48_actpack.h"
#include "models/hw/engines/lut_sp2/lut_sp2.h"
#include "models/hw/engines/lut_sp2_bitserial/lut_sp2_bitserial.h"
#include "models/resource_model.h"
#include "models/scheduler.h"
#include "models/tiler.h"

namespace {

using namespace msq;

// rtl_oracle_top's parameters: R x C arrays, A-bit activations, B-bit SP2 codes (M1 = 2, M2 = 1)
// and B-bit activation-packed weights, LACC-bit LUT accumulators (and the du array's), a lane
// offset D and DACC-bit accumulators for the dp, dw and ap arrays.
constexpr int R = 3, C = 4, A = 8, B = 4, M1 = 2, LACC = 14, AW = 25, D = 14, DACC = 24;
constexpr int kDepth = 4;  // the PEs' pipeline depth (rtl/sp2_pe.v, rtl/dsp_pe_packed.v)

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

// Clocks one job through an array: `start(true)` in cycle 0, then in every cycle `feed()` puts
// the operands of the step the array's sequencer names, and after each edge `collect(pass)` reads
// the readout registers when `out_valid()` says a pass is finished. Returns the edges until the
// last pass's sums are there (the job's cycles), or -1.
template <typename Start, typename Feed, typename Valid, typename Collect>
int64_t clock_job(Sim& s, int64_t passes, Start start, Feed feed, Valid out_valid,
                  Collect collect) {
  int64_t seen = 0;
  for (int64_t cycle = 0; cycle < 100000; ++cycle) {
    start(cycle == 0);
    s.top->eval();
    feed();
    s.tick();
    if (out_valid()) {
      collect(seen);
      if (++seen == passes) return cycle + 1;
    }
  }
  return -1;
}

RunConfig oracle_config(const std::string& lut_impl, const std::string& dsp_impl) {
  RunConfig cfg;
  auto& a = cfg.accelerator;
  a.lut_core.rows = R, a.lut_core.cols = C, a.lut_core.pipeline_depth = kDepth;
  a.dsp_core.rows = R, a.dsp_core.cols = C, a.dsp_core.pipeline_depth = kDepth;
  a.dsp_core.packing = true, a.dsp_core.lane_offset = D, a.dsp_core.drain_cycles = 1;
  // Self-contained entries, the same arrays as the old spelling's sections above.
  a.engines = {lut_engine_spec(a.lut_core), dsp_engine_spec(a.dsp_core)};
  a.engines[0].impl = lut_impl, a.engines[1].impl = dsp_impl;
  cfg.device.dsp_kind = DspKind::DSP48E1;
  return cfg;
}

// One job as an engine sees it, with the values and cycles the engine gives for it.
struct Job {
  const QuantLayer* L = nullptr;
  LayerRun* run = nullptr;
  const RowBlock* b = nullptr;
  Step st;
  int64_t k0 = 0, tn = 0;
  InputTileValues x;
  std::vector<std::vector<uint32_t>> xs;  // [k][n], the same activations
  std::vector<int64_t> want;              // [M][tn] after the engine's compute()
  int64_t cycles = 0;                     // the engine's job_cycles()
  uint64_t overflows = 0;                 // the engine's count for this job
  uint32_t act(int64_t k, int64_t n) const { return n < tn ? xs[size_t(k)][size_t(n)] : 0; }
};

// The engines of one design, built by the registry as the simulator builds them, and the layers
// and runs they have seen (an engine may key state by a block's address: blocks live as long as
// their run, as in the simulator).
struct Harness {
  RunConfig cfg;
  Fabric fabric;
  Buffer w0{"w0", 1 << 20}, w1{"w1", 1 << 20};
  std::unique_ptr<Engine> lut, dsp;
  std::deque<QuantLayer> layers;
  std::deque<LayerRun> runs;
  Harness(const std::string& lut_impl, const std::string& dsp_impl)
      : cfg(oracle_config(lut_impl, dsp_impl)) {
    fabric.dsp_kind = cfg.device.dsp_kind;
    lut = make_engine(EngineContext{fabric, 0, w0, cfg.accelerator.engines[0], cfg.accelerator});
    dsp = make_engine(EngineContext{fabric, 1, w1, cfg.accelerator.engines[1], cfg.accelerator});
  }
  // Plans the layer (rows, blocks, packing, per-row bounds) with k tiles of `tk` steps and hands
  // it to both engines.
  LayerRun& prepare(QuantLayer L, int64_t tk) {
    layers.push_back(std::move(L));
    runs.emplace_back();
    LayerRun& run = runs.back();
    run.layer = &layers.back();
    run.plan = plan_rows(layers.back(), cfg, "rtl oracle layer", RowOptions{});
    run.plan.tk = tk;
    run.values = true;
    lut->load_layer(run);
    dsp->load_layer(run);
    return run;
  }
  // A job of block b of engine e: a random k tile (the last one may be short) over tn columns of
  // random activations, mostly large so that narrow accumulators overflow.
  Job job(Engine& e, LayerRun& run, const RowBlock& b, int64_t tn, std::mt19937& rng) {
    Job j;
    j.L = run.layer, j.run = &run, j.b = &b, j.tn = tn;
    const int64_t K = j.L->shape.k(), tiles = (K + run.plan.tk - 1) / run.plan.tk;
    j.st.kt = int(std::uniform_int_distribution<int64_t>(0, tiles - 1)(rng));
    j.k0 = int64_t(j.st.kt) * run.plan.tk;
    j.st.tk = std::min(run.plan.tk, K - j.k0);
    j.st.first_k = j.st.kt == 0;
    const int64_t NB = InputTileValues::kNB;
    j.x.tn = tn, j.x.tk = j.st.tk, j.x.nblocks = (tn + NB - 1) / NB;
    j.x.x8.assign(size_t(j.x.nblocks * j.st.tk * NB), 0);
    j.xs.assign(size_t(j.st.tk), std::vector<uint32_t>(size_t(tn)));
    std::uniform_int_distribution<uint32_t> act(0, (1u << A) - 1);
    for (int64_t k = 0; k < j.st.tk; ++k)
      for (int64_t n = 0; n < tn; ++n) {
        const uint32_t v = rng() % 4 ? act(rng) | 0x80 : act(rng);
        j.xs[size_t(k)][size_t(n)] = v;
        j.x.x8[size_t(((n / NB) * j.st.tk + k) * NB + n % NB)] = uint8_t(v);
      }
    // Later k tiles add into what the earlier ones left; the arrays start each job from 0, and
    // so does the output tile here (and the layers' biases are 0).
    OutputTileValues acc;
    acc.acc.assign(size_t(j.L->shape.m() * tn), 0);
    j.cycles = e.job_cycles(run, b, tn, j.st.tk);
    const uint64_t before = run.overflows;
    e.compute(run, b, j.st, j.x, acc);
    j.overflows = run.overflows - before;
    j.want = std::move(acc.acc);
    return j;
  }
};

// A layer of M rows (a 1x1 convolution over K input channels), zero biases, weights from
// `weight(m, k)`; `bits`/`scheme` per row.
template <typename W>
QuantLayer layer_of(int M, int K, int acc_bits, Overflow ov, const std::vector<uint8_t>& bits,
                    Scheme scheme, W weight) {
  QuantLayer L;
  L.shape.name = "rtl";
  L.shape.in_c = K, L.shape.in_h = L.shape.in_w = 4, L.shape.out_c = M;
  L.shape.kh = L.shape.kw = 1, L.shape.sh = L.shape.sw = 1;
  L.act_bits = A;
  L.acc_bits = acc_bits;
  L.overflow = ov;
  for (int m = 0; m < M; ++m) {
    for (int k = 0; k < K; ++k) L.weights.push_back(weight(m, k));
    L.bits.push_back(bits[size_t(m)]);
    L.scheme.push_back(uint8_t(scheme));
    L.bias.push_back(0);
  }
  return L;
}

// What the tests require of their random jobs, so that no case passes by not happening.
struct Coverage {
  int64_t jobs = 0, short_rows = 0, later_k = 0, short_k = 0, partial_pass = 0;
  uint64_t overflows = 0;
  void count(const Job& j, int64_t slots, int64_t cols) {
    ++jobs;
    short_rows += int64_t(j.b->rows.size()) < slots;
    later_k += j.st.kt > 0;
    short_k += j.st.tk < j.run->plan.tk;
    partial_pass += j.tn % cols != 0;
    overflows += j.overflows;
  }
  void expect(bool overflow, int64_t min_jobs = 60) const {
    EXPECT_GE(jobs, min_jobs);
    EXPECT_GT(short_rows, 0);
    EXPECT_GT(later_k, 0);
    EXPECT_GT(short_k, 0);
    EXPECT_GT(partial_pass, 0);
    if (overflow) {
      EXPECT_GT(overflows, 0u);  // the accumulators' rule was exercised
    }
  }
};

std::string where(const Job& j) {
  std::ostringstream s;
  s << "layer K " << j.L->shape.k() << " M " << j.L->shape.m() << " acc " << j.L->acc_bits
    << ", block of " << j.b->rows.size() << " rows" << (j.b->packed ? " (packed)" : "") << ", kt "
    << j.st.kt << " tk " << j.st.tk << " tn " << j.tn;
  return s.str();
}

// Most weights of a row share one sign, so that its sums grow and narrow accumulators overflow.
int32_t lean(int32_t w, int row_sign, std::mt19937& rng) {
  const int32_t mag = w < 0 ? -w : w;
  return rng() % 5 ? row_sign * mag : -row_sign * mag;
}

// A random SP2 layer for the LUT engines: 4-bit rows (the arrays' code width), M and K random;
// with `one_term`, only levels of one nonzero term. Some layers have small weights and short
// rows, so that the planner proves their sums safe and the engines take their fast paths.
QuantLayer sp2_layer(std::mt19937& rng, Overflow ov, bool one_term) {
  const Sp2Format f(B);
  std::vector<int32_t> levels, small;
  for (int32_t w : sp2_levels(f)) {
    const Sp2Code c = sp2_encode(f, w);
    if (one_term && c.e2 != 0) continue;
    levels.push_back(w);
    if (w >= -1 && w <= 1) small.push_back(w);
  }
  const bool tame = rng() % 5 == 0;
  const int M = std::uniform_int_distribution<int>(1, 2 * R + 2)(rng);
  const int K = std::uniform_int_distribution<int>(1, tame ? 4 : 24)(rng);
  const std::vector<int32_t>& pool = tame ? small : levels;
  std::vector<int> sign;
  for (int m = 0; m < M; ++m) sign.push_back(rng() % 2 ? 1 : -1);
  return layer_of(
      M, K, LACC, ov, std::vector<uint8_t>(size_t(M), uint8_t(B)), Scheme::Sp2,
      [&](int m, int) { return lean(pool[rng() % pool.size()], sign[size_t(m)], rng); });
}

// K tiles of a layer: whole, or cut so that the last one is short.
int64_t k_tile(int64_t K, std::mt19937& rng) {
  return rng() % 2 ? K : std::uniform_int_distribution<int64_t>(1, K)(rng);
}

// A random fixed-point layer for the DSP engines: per-row widths in [2, max_bits] (8-bit rows
// never pack), accumulators of LACC bits (which wrap; few rows pack) or DACC bits (rows pack).
QuantLayer fixed_layer(std::mt19937& rng, int max_bits, int acc_bits) {
  const int M = std::uniform_int_distribution<int>(1, 3 * R + 1)(rng);
  // Narrow accumulators get longer reductions, so that low-bit rows overflow them too.
  const int K = std::uniform_int_distribution<int>(1, acc_bits == LACC ? 40 : 24)(rng);
  // One width for most rows of a layer, so that the packed layout's chain varies by layer.
  const int common = std::uniform_int_distribution<int>(2, max_bits)(rng);
  std::vector<uint8_t> bits;
  for (int m = 0; m < M; ++m)
    bits.push_back(
        uint8_t(rng() % 4 ? common : std::uniform_int_distribution<int>(2, max_bits)(rng)));
  std::vector<int> sign;
  for (int m = 0; m < M; ++m) sign.push_back(rng() % 2 ? 1 : -1);
  return layer_of(M, K, acc_bits, Overflow::Wrap, bits, Scheme::Fixed, [&](int m, int) {
    const int32_t top = fixed_max(bits[size_t(m)]);
    return lean(std::uniform_int_distribution<int32_t>(-top, top)(rng), sign[size_t(m)], rng);
  });
}

// The readout of an array: PE (r, c) at (r * C + c) * w.
template <typename P>
int64_t pe_out(const P& port, int r, int c, int w) {
  return get_signed(port, (r * C + c) * w, w);
}

// Requires the array's sums (got[row][n], for the block's rows) to be the engine's.
void expect_values(const Job& j, const std::map<int32_t, std::vector<int64_t>>& got) {
  ASSERT_EQ(got.size(), j.b->rows.size()) << where(j);
  for (int32_t m : j.b->rows)
    for (int64_t n = 0; n < j.tn; ++n)
      ASSERT_EQ(got.at(m)[size_t(n)], j.want[size_t(m * j.tn + n)])
          << where(j) << ", row " << m << " column " << n;
}

// The top's ports are references to its signals.
template <typename T>
using Port = std::remove_reference_t<T>;

// The ports of one bit-parallel LUT array of the top (lw_*, ls_*).
struct LutPorts {
  Port<decltype(Vrtl_oracle_top::lw_start)>* start;
  Port<decltype(Vrtl_oracle_top::lw_tk)>*tk, *passes;
  Port<decltype(Vrtl_oracle_top::lw_step_valid)>* step_valid;
  Port<decltype(Vrtl_oracle_top::lw_step_k)>*step_k, *step_pass;
  Port<decltype(Vrtl_oracle_top::lw_codes)>* codes;
  Port<decltype(Vrtl_oracle_top::lw_xs)>* xs;
  Port<decltype(Vrtl_oracle_top::lw_outs)>* outs;
  Port<decltype(Vrtl_oracle_top::lw_out_valid)>* out_valid;
};
#define MSQ_LUT_PORTS(P)                                                              \
  LutPorts {                                                                          \
    &s.top->P##_start, &s.top->P##_tk, &s.top->P##_passes, &s.top->P##_step_valid,    \
        &s.top->P##_step_k, &s.top->P##_step_pass, &s.top->P##_codes, &s.top->P##_xs, \
        &s.top->P##_outs, &s.top->P##_out_valid                                       \
  }

// The bit-parallel LUT arrays (lw: wrapping, ls: saturating) against the lut_sp2 engine. The
// weight buffer's code words are the engine's own (LutTables).
void run_lut(Sim& s, LutPorts p, const Job& j, const LutTables& t) {
  const int64_t passes = (j.tn + C - 1) / C, K = j.L->shape.k();
  const std::vector<int32_t>& rows = j.b->rows;
  std::map<int32_t, std::vector<int64_t>> got;
  for (int32_t m : rows) got[m].assign(size_t(j.tn), 0);
  const int64_t cycles = clock_job(
      s, passes,
      [&](bool start) {
        *p.start = start;
        *p.tk = uint16_t(j.st.tk);
        *p.passes = uint16_t(passes);
      },
      [&] {
        if (!*p.step_valid) return;
        const int64_t k = *p.step_k, pass = *p.step_pass;
        for (int r = 0; r < R; ++r)
          put(*p.codes, r * B, B,
              size_t(r) < rows.size() ? t.codes[size_t(rows[size_t(r)] * K + j.k0 + k)] : 0);
        for (int c = 0; c < C; ++c) put(*p.xs, c * A, A, j.act(k, pass * C + c));
      },
      [&] { return bool(*p.out_valid); },
      [&](int64_t pass) {
        for (size_t r = 0; r < rows.size(); ++r)
          for (int c = 0; c < C; ++c)
            if (pass * C + c < j.tn)
              got[rows[r]][size_t(pass * C + c)] = pe_out(*p.outs, int(r), c, LACC);
      });
  ASSERT_EQ(cycles, j.cycles) << where(j);
  expect_values(j, got);
}

void check_lut_engine(Overflow policy) {
  Sim s;
  Harness h("lut_sp2", "dsp48");
  std::mt19937 rng(policy == Overflow::Wrap ? 11 : 12);
  Coverage cov;
  for (int layer = 0; layer < 24; ++layer) {
    QuantLayer L = sp2_layer(rng, policy, false);
    const int64_t K = L.shape.k();
    LayerRun& run = h.prepare(std::move(L), k_tile(K, rng));
    ASSERT_TRUE(run.plan.blocks(1).empty());
    LutTables t;  // the weight buffer as lut_sp2 fills it
    t.load(*run.layer, run.plan, run.plan.blocks(0));
    for (const RowBlock& b : run.plan.blocks(0))
      for (int rep = 0; rep < 2; ++rep) {
        const Job j =
            h.job(*h.lut, run, b, std::uniform_int_distribution<int64_t>(1, 3 * C)(rng), rng);
        cov.count(j, R, C);
        if (policy == Overflow::Wrap)
          run_lut(s, MSQ_LUT_PORTS(lw), j, t);
        else
          run_lut(s, MSQ_LUT_PORTS(ls), j, t);
        if (::testing::Test::HasFatalFailure()) return;
      }
  }
  cov.expect(true);
}

TEST(RtlOracle, Sp2ArrayWrapsLikeTheLutEngine) {
  check_lut_engine(Overflow::Wrap);
}

TEST(RtlOracle, Sp2ArraySaturatesLikeTheLutEngine) {
  check_lut_engine(Overflow::Saturate);
}

// The ports of one bit-serial array of the top (bw_*: wrapping, PEs without a product register;
// bs_*: saturating, with one).
struct BitSerialPorts {
  Port<decltype(Vrtl_oracle_top::bs_start)>* start;
  Port<decltype(Vrtl_oracle_top::bs_tk)>*tk, *passes, *digits;
  Port<decltype(Vrtl_oracle_top::bs_step_valid)>* step_valid;
  Port<decltype(Vrtl_oracle_top::bs_step_k)>*step_k, *step_pass, *step_sub;
  Port<decltype(Vrtl_oracle_top::bs_ds)>* ds;
  Port<decltype(Vrtl_oracle_top::bs_xs)>* xs;
  Port<decltype(Vrtl_oracle_top::bs_outs)>* outs;
  Port<decltype(Vrtl_oracle_top::bs_out_valid)>* out_valid;
};
#define MSQ_BS_PORTS(P)                                                                          \
  BitSerialPorts {                                                                               \
    &s.top->P##_start, &s.top->P##_tk, &s.top->P##_passes, &s.top->P##_digits,                   \
        &s.top->P##_step_valid, &s.top->P##_step_k, &s.top->P##_step_pass, &s.top->P##_step_sub, \
        &s.top->P##_ds, &s.top->P##_xs, &s.top->P##_outs, &s.top->P##_out_valid                  \
  }

// The bit-serial arrays against the lut_sp2_bitserial engine: the weight buffer holds each
// weight's digits as the engine lists them (BitSerialTables), padded with zero digits to the
// block's digit count (bitserial_block_digits), in the PE's digit word {s, e}, shift = F - e.
// The wrapping array adds every digit straight into its accumulators, the engine whole products:
// values and cycles must still be equal job for job.
void check_bitserial_engine(Overflow policy) {
  Sim s;
  Harness h("lut_sp2_bitserial", "dsp48");
  std::mt19937 rng(policy == Overflow::Wrap ? 14 : 13);
  const BitSerialPorts p = policy == Overflow::Wrap ? MSQ_BS_PORTS(bw) : MSQ_BS_PORTS(bs);
  const int F = (1 << M1) - 1;
  ASSERT_EQ(Sp2Format(B).F, F);
  Coverage cov;
  int64_t one_digit = 0, two_digit = 0;
  for (int layer = 0; layer < 24; ++layer) {
    QuantLayer L = sp2_layer(rng, policy, layer % 4 == 3);
    const int64_t K = L.shape.k();
    LayerRun& run = h.prepare(std::move(L), k_tile(K, rng));
    BitSerialTables t;
    t.load(*run.layer, run.plan.blocks(0));
    for (const RowBlock& b : run.plan.blocks(0)) {
      const int digits = bitserial_block_digits(*run.layer, b.rows);
      (digits == 1 ? one_digit : two_digit) += 1;
      for (int rep = 0; rep < 2; ++rep) {
        const Job j =
            h.job(*h.lut, run, b, std::uniform_int_distribution<int64_t>(1, 3 * C)(rng), rng);
        cov.count(j, R, C);
        const int64_t passes = (j.tn + C - 1) / C;
        std::map<int32_t, std::vector<int64_t>> got;
        for (int32_t m : b.rows) got[m].assign(size_t(j.tn), 0);
        const int64_t cycles = clock_job(
            s, passes,
            [&](bool start) {
              *p.start = start;
              *p.tk = uint16_t(j.st.tk);
              *p.passes = uint16_t(passes);
              *p.digits = uint16_t(digits);
            },
            [&] {
              if (!*p.step_valid) return;
              const int64_t k = *p.step_k, pass = *p.step_pass;
              const int sub = *p.step_sub;
              for (int r = 0; r < R; ++r) {
                uint32_t word = 0;  // a zero digit
                if (size_t(r) < b.rows.size()) {
                  const DigitList& dl = t.digits[size_t(b.rows[size_t(r)] * K + j.k0 + k)];
                  if (sub < dl.n)
                    word = (uint32_t(dl.d[sub].neg) << M1) | uint32_t(F - dl.d[sub].shift);
                }
                put(*p.ds, r * (1 + M1), 1 + M1, word);
              }
              for (int c = 0; c < C; ++c) put(*p.xs, c * A, A, j.act(k, pass * C + c));
            },
            [&] { return bool(*p.out_valid); },
            [&](int64_t pass) {
              for (size_t r = 0; r < b.rows.size(); ++r)
                for (int c = 0; c < C; ++c)
                  if (pass * C + c < j.tn)
                    got[b.rows[r]][size_t(pass * C + c)] = pe_out(*p.outs, int(r), c, LACC);
            });
        ASSERT_EQ(cycles, j.cycles) << where(j) << ", digits " << digits;
        expect_values(j, got);
        if (::testing::Test::HasFatalFailure()) return;
      }
    }
  }
  cov.expect(true);
  EXPECT_GE(one_digit, 5);
  EXPECT_GE(two_digit, 5);
}

TEST(RtlOracle, BitSerialArrayMatchesTheBitSerialEngine) {
  check_bitserial_engine(Overflow::Saturate);
}

TEST(RtlOracle, BitSerialArrayWithoutProductRegisterWrapsLikeTheEngine) {
  check_bitserial_engine(Overflow::Wrap);
}

// An unpacked job (one row per slice, every product into the accumulator) on the du (LACC-bit)
// or dw (DACC-bit) array, whichever has the layer's accumulator width.
void run_unpacked(Sim& s, const Job& j) {
  const int acc = j.L->acc_bits;
  ASSERT_TRUE(acc == LACC || acc == DACC) << where(j);
  const bool narrow = acc == LACC;
  auto& top = *s.top;
  const int64_t passes = (j.tn + C - 1) / C;
  const std::vector<int32_t>& rows = j.b->rows;
  ASSERT_LE(rows.size(), size_t(R)) << where(j);
  std::map<int32_t, std::vector<int64_t>> got;
  for (int32_t m : rows) got[m].assign(size_t(j.tn), 0);
  const int64_t cycles = clock_job(
      s, passes,
      [&](bool start) {
        (narrow ? top.du_start : top.dw_start) = start;
        (narrow ? top.du_tk : top.dw_tk) = uint16_t(j.st.tk);
        (narrow ? top.du_passes : top.dw_passes) = uint16_t(passes);
      },
      [&] {
        if (!(narrow ? top.du_step_valid : top.dw_step_valid)) return;
        const int64_t k = narrow ? top.du_step_k : top.dw_step_k;
        const int64_t pass = narrow ? top.du_step_pass : top.dw_step_pass;
        for (int r = 0; r < R; ++r) {
          const int64_t w = size_t(r) < rows.size() ? j.L->row(rows[size_t(r)])[j.k0 + k] : 0;
          put(narrow ? top.du_as : top.dw_as, r * AW, AW, uint64_t(w));
        }
        for (int c = 0; c < C; ++c)
          put(narrow ? top.du_xs : top.dw_xs, c * A, A, j.act(k, pass * C + c));
      },
      [&] { return bool(narrow ? top.du_out_valid : top.dw_out_valid); },
      [&](int64_t pass) {
        for (size_t r = 0; r < rows.size(); ++r)
          for (int c = 0; c < C; ++c)
            if (pass * C + c < j.tn)
              got[rows[r]][size_t(pass * C + c)] = narrow ? pe_out(top.du_outs, int(r), c, LACC)
                                                          : pe_out(top.dw_outs, int(r), c, DACC);
      });
  ASSERT_EQ(cycles, j.cycles) << where(j) << " (unpacked)";
  expect_values(j, got);
}

// The DSP arrays against the dsp48 engine: packed blocks on the dp array, from the packed operands
// the engine's weight buffer holds (DspTables; slice i: rows 2i (high lane) and 2i + 1 (low lane),
// a lone last row in the low lane) and the planner's chain; unpacked blocks (8-bit rows, rows
// whose sums could overflow, layers whose accumulator is too narrow to pack) one row per slice.
TEST(RtlOracle, DspArraysMatchTheDsp48Engine) {
  Sim s;
  Harness h("lut_sp2", "dsp48");
  std::mt19937 rng(14);
  Coverage packed_cov, single_cov;
  for (int layer = 0; layer < 40; ++layer) {
    QuantLayer L = fixed_layer(rng, 8, layer % 3 == 0 ? LACC : DACC);
    const int64_t K = L.shape.k();
    LayerRun& run = h.prepare(std::move(L), k_tile(K, rng));
    ASSERT_TRUE(run.plan.blocks(0).empty());
    DspTables t;
    t.load(*run.layer, run.plan, run.plan.blocks(1));
    for (const RowBlock& b : run.plan.blocks(1))
      for (int rep = 0; rep < 2; ++rep) {
        const Job j =
            h.job(*h.dsp, run, b, std::uniform_int_distribution<int64_t>(1, 3 * C)(rng), rng);
        if (!b.packed) {
          single_cov.count(j, R, C);
          run_unpacked(s, j);
          if (HasFatalFailure()) return;
          continue;
        }
        // A packed row's sums provably fit the layer's accumulator (the planner's check), so
        // the dp array's DACC-bit registers hold the same values when the layer's is LACC bits.
        packed_cov.count(j, 2 * R, C);
        const std::vector<int32_t>& rows = b.rows;
        const int64_t passes = (j.tn + C - 1) / C;
        std::map<int32_t, std::vector<int64_t>> got;
        for (int32_t m : rows) got[m].assign(size_t(j.tn), 0);
        const int64_t cycles = clock_job(
            s, passes,
            [&](bool start) {
              s.top->dp_start = start;
              s.top->dp_tk = uint16_t(j.st.tk);
              s.top->dp_passes = uint16_t(passes);
              s.top->dp_chain = uint16_t(run.plan.chain);
            },
            [&] {
              if (!s.top->dp_step_valid) return;
              const int64_t k = s.top->dp_step_k, pass = s.top->dp_step_pass;
              for (int r = 0; r < R; ++r) {
                const size_t i = size_t(2 * r);
                const int64_t a =
                    i < rows.size() ? t.packed_a[size_t(rows[i])][size_t(j.k0 + k)] : 0;
                put(s.top->dp_as, r * AW, AW, uint64_t(a));
              }
              for (int c = 0; c < C; ++c) put(s.top->dp_xs, c * A, A, j.act(k, pass * C + c));
            },
            [&] { return bool(s.top->dp_out_valid); },
            [&](int64_t pass) {
              for (size_t i = 0; i < rows.size(); i += 2)
                for (int c = 0; c < C; ++c) {
                  const int64_t n = pass * C + c;
                  if (n >= j.tn) continue;
                  const int r = int(i / 2);
                  if (i + 1 < rows.size()) {
                    got[rows[i]][size_t(n)] = pe_out(s.top->dp_outs_hi, r, c, DACC);
                    got[rows[i + 1]][size_t(n)] = pe_out(s.top->dp_outs_lo, r, c, DACC);
                  } else {
                    got[rows[i]][size_t(n)] = pe_out(s.top->dp_outs_lo, r, c, DACC);
                  }
                }
            });
        ASSERT_EQ(cycles, j.cycles) << where(j) << ", chain " << run.plan.chain;
        expect_values(j, got);
        if (HasFatalFailure()) return;
      }
  }
  packed_cov.expect(false, 30);
  single_cov.expect(true);
}

// The activation-packed array against the dsp48_actpack engine: the engine decides per job
// (actpack_job) whether it runs packed, and with which chain; packed jobs run on the ap array
// (slice (r, c): output columns 2c in the low lane and 2c + 1 in the high lane of row r), the
// others one column per slice on the unpacked array of the layer's accumulator width.
TEST(RtlOracle, ActivationPackedArrayMatchesTheActPackEngine) {
  Sim s;
  Harness h("lut_sp2", "dsp48_actpack");
  std::mt19937 rng(15);
  Coverage packed_cov, single_cov;
  for (int layer = 0; layer < 40; ++layer) {
    QuantLayer L = fixed_layer(rng, B, layer % 3 == 0 ? LACC : DACC);
    const int64_t K = L.shape.k();
    LayerRun& run = h.prepare(std::move(L), k_tile(K, rng));
    for (const RowBlock& b : run.plan.blocks(1))
      for (int rep = 0; rep < 2; ++rep) {
        const Job j =
            h.job(*h.dsp, run, b, std::uniform_int_distribution<int64_t>(1, 6 * C)(rng), rng);
        const ActPackJob how =
            actpack_job(h.cfg.accelerator.dsp_core, h.fabric.dsp_kind, *run.layer,
                        run.plan.row_sum_bits, b.rows, j.tn, j.st.tk);
        ASSERT_EQ(how.cycles, j.cycles) << where(j);
        if (!how.packed) {
          single_cov.count(j, R, C);
          run_unpacked(s, j);
          if (HasFatalFailure()) return;
          continue;
        }
        packed_cov.count(j, R, 2 * C);
        const std::vector<int32_t>& rows = b.rows;
        const int64_t passes = (j.tn + 2 * C - 1) / (2 * C);
        std::map<int32_t, std::vector<int64_t>> got;
        for (int32_t m : rows) got[m].assign(size_t(j.tn), 0);
        const int64_t cycles = clock_job(
            s, passes,
            [&](bool start) {
              s.top->ap_start = start;
              s.top->ap_tk = uint16_t(j.st.tk);
              s.top->ap_passes = uint16_t(passes);
              s.top->ap_chain = uint16_t(how.chain);
            },
            [&] {
              if (!s.top->ap_step_valid) return;
              const int64_t k = s.top->ap_step_k, pass = s.top->ap_step_pass;
              for (int r = 0; r < R; ++r) {
                const int64_t w = size_t(r) < rows.size() ? j.L->row(rows[size_t(r)])[j.k0 + k] : 0;
                put(s.top->ap_ws, r * B, B, uint64_t(w));
              }
              for (int c = 0; c < 2 * C; ++c)
                put(s.top->ap_xs, c * A, A, j.act(k, pass * 2 * C + c));
            },
            [&] { return bool(s.top->ap_out_valid); },
            [&](int64_t pass) {
              for (size_t r = 0; r < rows.size(); ++r)
                for (int c = 0; c < C; ++c) {
                  const int64_t n = pass * 2 * C + 2 * c;
                  if (n < j.tn)
                    got[rows[r]][size_t(n)] = pe_out(s.top->ap_outs_lo, int(r), c, DACC);
                  if (n + 1 < j.tn)
                    got[rows[r]][size_t(n + 1)] = pe_out(s.top->ap_outs_hi, int(r), c, DACC);
                }
            });
        ASSERT_EQ(cycles, j.cycles) << where(j) << ", chain " << how.chain;
        expect_values(j, got);
        if (HasFatalFailure()) return;
      }
  }
  packed_cov.expect(false);
  single_cov.expect(true);
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
               bs = lut["sp2_pe_bitserial A=8 M1=2 ACC=32 SAT=0"],
               bss = lut["sp2_pe_bitserial A=8 M1=2 ACC=32 SAT=1"],
               apk = lut["dsp_pe_actpacked A=8 WB=8 AW=25 D=16 ACC=32"],
               glue = lut["engine_glue R=8 C=8 WB=4 A=8 ACC=32"];
  for (double v : {sp2, dsp, bs, bss, apk, glue}) ASSERT_GT(v, 0);
  EXPECT_NEAR(sp2_pe_cost(cfg, k).lut, sp2, 0.25 * sp2);
  EXPECT_NEAR(dsp_pe_cost(cfg, k).lut, dsp, 0.25 * dsp);
  EXPECT_EQ(dsp_pe_cost(cfg, k).dsp, 1);
  const PeCost wrap = bitserial_pe_cost(8, 2, 32, Overflow::Wrap, k),
               sat = bitserial_pe_cost(8, 2, 32, Overflow::Saturate, k);
  EXPECT_NEAR(wrap.lut, bs, 0.25 * bs);
  EXPECT_NEAR(sat.lut, bss, 0.25 * bss);
  // The wrapping PE has no product register: it is priced below the saturating one by what
  // synthesis saves, within a quarter of the saturating PE's LUTs.
  ASSERT_LT(bs, bss);
  EXPECT_LT(wrap.lut, sat.lut);
  EXPECT_LT(wrap.ff, sat.ff);
  EXPECT_NEAR(sat.lut - wrap.lut, bss - bs, 0.25 * bss);
  // The estimate prices the bit-serial engine by its accumulator mode.
  RunConfig c;
  c.workload.act_bits = 8, c.workload.weight_bits = 4;
  EngineSpec e = lut_engine_spec({8, 8, 4});
  e.impl = "lut_sp2_bitserial";
  c.accelerator.engines = {e};
  const int64_t wrapped = estimate_resources(c, k).lines[0].lut;
  c.accelerator.accumulator.overflow = Overflow::Saturate;
  const int64_t saturated = estimate_resources(c, k).lines[0].lut;
  EXPECT_NEAR(double(saturated - wrapped), 64 * (sat.lut - wrap.lut), 64.0);
  c.accelerator.accumulator.overflow = Overflow::Wrap;
  c.accelerator.engines[0].own_accumulator = true;
  c.accelerator.engines[0].accumulator = {32, Overflow::Saturate};
  EXPECT_EQ(estimate_resources(c, k).lines[0].lut, saturated);
  EXPECT_NEAR(dsp_actpacked_pe_cost(8, 8, 16, 32, 4, k).lut, apk, 0.25 * apk);
  EXPECT_NEAR(engine_glue_cost(8, 8, 4, 8, 32, k).lut, glue, 0.25 * glue);
}

}  // namespace
