// The kernel variants (scalar, AVX2, AVX-512, AVX-512 VNNI; models/kernels/isa.h): every variant
// this CPU runs computes the same tiles and the same layers, bit for bit, as an independent
// reference. Variants the CPU lacks are covered by the qemu test (tests/test_isa_qemu.sh).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <set>

#include "models/arith/accumulator.h"
#include "models/arith/requant.h"
#include "models/functional_model.h"
#include "models/hw/engines/dsp48/dsp48.h"
#include "models/hw/engines/lut_sp2/lut_sp2.h"
#include "models/kernels/isa.h"
#include "models/kernels/loops.h"
#include "tests/support/random_layers.h"
#include "tests/support/run_cli.h"

using namespace msq;
using namespace msq::testing;
using kernels::Isa;

namespace {

std::vector<Isa> supported_isas() {
  std::vector<Isa> v;
  for (int i = 0; i < kernels::kIsaCount; ++i)
    if (kernels::isa_supported(Isa(i))) v.push_back(Isa(i));
  return v;
}

RunConfig roomy_config() {
  RunConfig c;
  c.device.dsp_kind = DspKind::DSP48E1;
  c.accelerator.lut_core = {16, 16, 4};
  c.accelerator.dsp_core.rows = 8;
  c.accelerator.dsp_core.cols = 16;
  c.accelerator.buffers = {128, 256, 128, true};
  return c;
}

// Layers that take every kernel: LUT rows in 16-bit lanes (shared shifter outputs or not), 32- and
// 64-bit sums and the checked register; DSP rows packed and single, 32- and 64-bit sums and
// checked; 8- and 16-bit activations; groups.
std::vector<RandomLayerSpec> kernel_specs() {
  std::vector<RandomLayerSpec> v;
  auto add = [&](LayerShape s, auto&& tweak) {
    RandomLayerSpec sp;
    sp.shape = std::move(s);
    sp.output = OutputKind::Accumulators;
    tweak(sp);
    v.push_back(sp);
  };
  add(conv("c3", 32, 12, 40, 3, 1, 1), [](RandomLayerSpec& sp) { sp.sp2_fraction = 0.6; });
  add(conv("g2_b2", 16, 9, 24, 3, 1, 1, 2, 2), [](RandomLayerSpec& sp) { sp.bits = 3; });
  add(conv("dw", 12, 10, 12, 3, 2, 1, 12), [](RandomLayerSpec&) {});
  add(conv("fix8", 24, 8, 32, 3, 1, 1), [](RandomLayerSpec& sp) { sp.fixed8_fraction = 0.4; });
  add(conv("act12", 32, 7, 24, 3, 1, 1), [](RandomLayerSpec& sp) { sp.act_bits = 12; });
  add(conv("act16_wide", 256, 5, 24, 3, 1, 1), [](RandomLayerSpec& sp) {
    sp.act_bits = 16;
    sp.bits = 6;
    sp.acc_bits = 48;
    sp.fixed8_fraction = 0.3;
  });
  add(conv("narrow_wrap", 64, 6, 16, 3, 1, 1), [](RandomLayerSpec& sp) {
    sp.acc_bits = 16;
    sp.bias_range = 30000;
  });
  add(conv("narrow_sat", 48, 6, 16, 3, 1, 1), [](RandomLayerSpec& sp) {
    sp.acc_bits = 18;
    sp.bias_range = 120000;
    sp.overflow = Overflow::Saturate;
  });
  return v;
}

struct TileResult {
  std::vector<int64_t> acc;
  uint64_t overflows = 0;
};

// One tile of tn columns over every k tile of the layer, as the cores would compute it.
class KernelTile {
 public:
  KernelTile(const QuantLayer& L, const LayerPlan& plan, int64_t tn, uint64_t seed)
      : L_(L), plan_(plan), tn_(tn) {
    std::mt19937_64 rng(seed);
    const int64_t K = L.shape.k();
    const int groups = L.shape.groups;
    for (int64_t k0 = 0; k0 < K; k0 += plan.tk) {
      InputTileValues x;
      x.tk = std::min(plan.tk, K - k0);
      x.tn = tn;
      x.nblocks = (tn + InputTileValues::kNB - 1) / InputTileValues::kNB;
      const size_t total = size_t(groups * x.nblocks * x.tk * InputTileValues::kNB);
      std::uniform_int_distribution<int> d(0, (1 << L.act_bits) - 1);
      std::vector<uint16_t> v(total, 0);
      for (int g = 0; g < groups; ++g)
        for (int64_t k = 0; k < x.tk; ++k)
          for (int64_t n = 0; n < tn; ++n) v[index(x, g, k, n)] = uint16_t(d(rng));
      if (L.act_bits <= 8)
        x.x8.assign(v.begin(), v.end());
      else
        x.x16 = v;
      steps_.push_back(std::move(x));
    }
  }

  TileResult run(Isa isa, const LutTables& lt, const DspTables& dt) const {
    TileResult r;
    r.acc.assign(size_t(L_.shape.m() * tn_), 0);
    for (size_t kt = 0; kt < steps_.size(); ++kt) {
      const InputTileValues& x = steps_[kt];
      for (const RowBlock& b : plan_.blocks(0))
        lut_block_values(isa, lt, L_, b.rows, int64_t(kt) * plan_.tk, x.tk, kt == 0, x,
                         AccSpec{L_.acc_bits, L_.overflow}, r.acc.data(), r.overflows);
      for (const RowBlock& b : plan_.blocks(1))
        dsp_block_values(isa, dt, L_, plan_, b, int(kt), x.tk, x, 48,
                         AccSpec{L_.acc_bits, L_.overflow}, r.acc.data(), r.overflows);
    }
    return r;
  }

  // The contract, one addition at a time (the planner gives the cores only rows where that is
  // what their wide or packed sums equal).
  TileResult reference() const {
    TileResult r;
    r.acc.assign(size_t(L_.shape.m() * tn_), 0);
    const AccSpec spec{L_.acc_bits, L_.overflow};
    const int64_t K = L_.shape.k();
    for (int64_t m = 0; m < L_.shape.m(); ++m) {
      const int g = L_.shape.groups == 1 ? 0 : int(m / L_.shape.rows_per_group());
      for (int64_t n = 0; n < tn_; ++n) {
        int64_t a = acc_load(spec, L_.bias[size_t(m)], r.overflows);
        for (int64_t k = 0; k < K; ++k) {
          const InputTileValues& x = steps_[size_t(k / plan_.tk)];
          const size_t i = index(x, g, k % plan_.tk, n);
          const int64_t xv = L_.act_bits <= 8 ? x.x8[i] : x.x16[i];
          a = acc_add(spec, a, int64_t(L_.weights[size_t(m * K + k)]) * xv, r.overflows);
        }
        r.acc[size_t(m * tn_ + n)] = a;
      }
    }
    return r;
  }

 private:
  static size_t index(const InputTileValues& x, int g, int64_t k, int64_t n) {
    constexpr int64_t NB = InputTileValues::kNB;
    return size_t(((g * x.nblocks + n / NB) * x.tk + k) * NB + n % NB);
  }

  const QuantLayer& L_;
  const LayerPlan& plan_;
  int64_t tn_;
  std::vector<InputTileValues> steps_;
};

void expect_same(const TileResult& want, const TileResult& got, const std::string& what) {
  ASSERT_EQ(want.acc.size(), got.acc.size()) << what;
  size_t bad = 0;
  for (size_t i = 0; i < want.acc.size(); ++i)
    if (want.acc[i] != got.acc[i] && bad++ < 5)
      ADD_FAILURE() << what << ": element " << i << ": expected " << want.acc[i] << " got "
                    << got.acc[i];
  EXPECT_EQ(bad, 0u) << what;
  EXPECT_EQ(want.overflows, got.overflows) << what;
}

}  // namespace

TEST(IsaKernels, EveryVariantComputesTheSameTiles) {
  const std::vector<Isa> isas = supported_isas();
  ASSERT_FALSE(isas.empty());
  std::set<int> lut_modes, dsp_modes;
  bool packed = false, single = false;
  const std::vector<RandomLayerSpec> specs = kernel_specs();
  for (size_t s = 0; s < specs.size(); ++s) {
    const QuantLayer L = random_layer(specs[s], 500 + s);
    RunConfig cfg = roomy_config();
    cfg.accelerator.accumulator.bits = L.acc_bits;
    cfg.accelerator.accumulator.overflow = L.overflow;
    // Short k tiles: several steps per tile, so that later steps add to earlier sums.
    cfg.accelerator.scheduler.tile_k = 2;
    const LayerPlan plan = plan_layer(L, cfg, L.shape.name);
    LutTables lt;
    DspTables dt;
    lt.load(L, plan, plan.blocks(0));
    dt.load(L, plan, plan.blocks(1));
    for (const RowBlock& b : plan.blocks(0))
      for (int32_t m : b.rows) lut_modes.insert(lt.row_acc[size_t(m)]);
    for (const RowBlock& b : plan.blocks(1)) {
      (b.packed ? packed : single) = true;
      for (int32_t m : b.rows) dsp_modes.insert(dt.row_acc[size_t(m)]);
    }
    // Column counts that end a block of 64 in its first half, its second half, or exactly.
    for (const int64_t tn : {int64_t(5), int64_t(64), int64_t(100)}) {
      const KernelTile tile(L, plan, std::min<int64_t>(tn, L.shape.n()), 900 + s);
      const TileResult want = tile.reference();
      for (Isa isa : isas)
        expect_same(want, tile.run(isa, lt, dt),
                    L.shape.name + " tn " + std::to_string(tn) + " " + kernels::isa_name(isa));
    }
  }
  // Every kernel was taken: LUT rows in 16-bit lanes, 32, 64 bits and checked; DSP rows packed,
  // single in 32 and 64 bits, and checked.
  EXPECT_EQ(lut_modes, (std::set<int>{0, 16, 32, 64}));
  EXPECT_EQ(dsp_modes, (std::set<int>{0, 32, 64}));
  EXPECT_TRUE(packed);
  EXPECT_TRUE(single);
}

TEST(IsaKernels, EveryVariantComputesTheSameFunctionalModel) {
  std::vector<RandomLayerSpec> specs = kernel_specs();
  for (RandomLayerSpec& sp : specs) sp.output = OutputKind::Activations;
  specs[0].output = OutputKind::Accumulators;
  for (size_t s = 0; s < specs.size(); ++s) {
    const QuantLayer L = random_layer(specs[s], 700 + s);
    const ActTensor in = random_input(L.shape, L.act_bits, 800 + s);
    uint64_t ovf = 0;
    const OutTensor want = naive_conv(L, in, &ovf);
    for (Isa isa : supported_isas()) {
      const FunctionalResult r = run_functional(L, in, isa);
      EXPECT_EQ(r.out.data, want.data) << L.shape.name << " " << kernels::isa_name(isa);
      EXPECT_EQ(r.overflows, ovf) << L.shape.name << " " << kernels::isa_name(isa);
    }
  }
}

TEST(IsaKernels, EveryVariantComputesTheSameLoops) {
  std::mt19937_64 rng(3);
  std::vector<int64_t> x(301);
  for (auto& v : x) v = int64_t(rng());  // whole int64 range: the product wraps
  for (int i = 0; i < 20; ++i) x[size_t(i)] = int64_t(rng() % 4096) - 2048;
  std::vector<int32_t> w(1000);
  for (auto& v : w) v = int32_t(rng() % 65535) - 32767;
  w[7] = -32768;
  int64_t abs_sum = 0, s1 = 0, s2 = 0;
  for (int32_t v : w) abs_sum += std::abs(v), s1 += v, s2 += int64_t(v) * v;
  for (Isa isa : supported_isas()) {
    kernels::set_active_isa(isa);
    for (const int shift : {1, 17, 40}) {
      std::vector<int64_t> y(x.size());
      kernels::requantize_run(x.data(), y.data(), int64_t(x.size()), 123457, shift, 8);
      for (size_t i = 0; i < x.size(); ++i)
        ASSERT_EQ(y[i], requantize(x[i], 123457, shift, 8)) << kernels::isa_name(isa) << " " << i;
    }
    EXPECT_EQ(kernels::abs_sum(w.data(), int64_t(w.size())), abs_sum) << kernels::isa_name(isa);
    int64_t a = 0, b = 0;
    kernels::sum_and_squares(w.data(), int64_t(w.size()), a, b);
    EXPECT_EQ(a, s1) << kernels::isa_name(isa);
    EXPECT_EQ(b, s2) << kernels::isa_name(isa);
  }
}

TEST(IsaSelection, EnvironmentPicksAVariantOrSaysWhatIsAccepted) {
  ASSERT_EQ(setenv("MSQSIM_ISA", "scalar", 1), 0);
  EXPECT_EQ(kernels::isa_env_error(), "");
  ASSERT_EQ(setenv("MSQSIM_ISA", "avx3", 1), 0);
  const std::string e = kernels::isa_env_error();
  EXPECT_NE(e.find("MSQSIM_ISA=avx3: unknown kernel variant, expected scalar, avx2, avx512 or "
                   "avx512vnni"),
            std::string::npos)
      << e;
  unsetenv("MSQSIM_ISA");
  EXPECT_EQ(kernels::isa_env_error(), "");
  EXPECT_TRUE(kernels::isa_supported(Isa::Scalar));
  EXPECT_TRUE(kernels::isa_supported(kernels::best_isa()));
}

TEST(IsaSelection, BadVariantExitsWithOneMessage) {
  const CmdResult r = run_cmd("MSQSIM_ISA=sse9 " + quoted(MSQSIM_EXE) + " --version");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.out.find("msqsim: MSQSIM_ISA=sse9: unknown kernel variant"), 0u) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  const CmdResult ok = run_cmd("MSQSIM_ISA=scalar " + quoted(MSQSIM_EXE) + " --version");
  EXPECT_EQ(ok.code, 0);
  EXPECT_NE(ok.out.find("kernels: scalar"), std::string::npos) << ok.out;
}
