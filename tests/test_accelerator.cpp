// The SystemC accelerator end to end: values against a naive reference, timing sanity.
#include <gtest/gtest.h>

#include "models/accelerator.h"
#include "tests/support/random_layers.h"

using namespace msq;
using namespace msq::testing;

namespace {

RunConfig small_config() {
  RunConfig c;
  c.device.dsp_kind = DspKind::DSP48E1;
  c.accelerator.lut_core = {8, 8, 3};
  c.accelerator.dsp_core.rows = 4;
  c.accelerator.dsp_core.cols = 8;
  c.accelerator.buffers = {4, 8, 4, true};
  return c;
}

void expect_matches(const Workload& wl, const SimResult& r) {
  ASSERT_EQ(r.layers.size(), wl.layers.size());
  for (size_t l = 0; l < wl.layers.size(); ++l) {
    uint64_t ovf = 0;
    const OutTensor ref = naive_conv(wl.layers[l], wl.inputs[l], &ovf);
    ASSERT_EQ(ref.data.size(), r.layers[l].out.data.size()) << "layer " << l;
    size_t bad = 0;
    for (size_t i = 0; i < ref.data.size(); ++i)
      if (ref.data[i] != r.layers[l].out.data[i] && bad++ < 5)
        ADD_FAILURE() << "layer " << l << " element " << i << ": expected " << ref.data[i]
                      << " got " << r.layers[l].out.data[i];
    EXPECT_EQ(bad, 0u) << "layer " << l;
    EXPECT_EQ(ovf, r.layers[l].overflows) << "layer " << l;
  }
}

}  // namespace

TEST(Accelerator, MixedLayersMatchNaiveReference) {
  Workload wl;
  const std::vector<RandomLayerSpec> specs = [] {
    std::vector<RandomLayerSpec> v(6);
    v[0].shape = conv("c3s1", 8, 10, 24, 3, 1, 1);
    v[1].shape = conv("c3s2", 16, 11, 20, 3, 2, 1, 1, 2);
    v[2].shape = conv("c1", 32, 6, 40, 1, 1, 0);
    v[2].fixed8_fraction = 0.25;
    v[3].shape = conv("dw", 12, 9, 12, 3, 1, 1, 12);
    v[4].shape = conv("c7", 3, 20, 16, 7, 2, 3);
    v[4].output = OutputKind::Accumulators;
    v[5].shape = conv("g2", 8, 8, 8, 3, 1, 1, 2);
    return v;
  }();
  for (size_t i = 0; i < specs.size(); ++i) {
    wl.layers.push_back(random_layer(specs[i], 100 + i));
    wl.inputs.push_back(random_input(specs[i].shape, 8, 200 + i));
  }
  const SimResult r = simulate(small_config(), wl, SimOptions{});
  expect_matches(wl, r);
  EXPECT_GT(r.total_cycles, 0);
  for (const auto& l : r.layers) EXPECT_GT(l.cycles, 0) << l.name;
}

TEST(Accelerator, NarrowAccumulatorWrapAndSaturateMatch) {
  Workload wl;
  for (int i = 0; i < 2; ++i) {
    RandomLayerSpec sp;
    sp.shape = conv(i ? "sat" : "wrap", 32, 6, 16, 3, 1, 1);
    sp.acc_bits = 16;
    sp.overflow = i ? Overflow::Saturate : Overflow::Wrap;
    sp.output = OutputKind::Accumulators;
    wl.layers.push_back(random_layer(sp, 7 + i));
    wl.inputs.push_back(random_input(sp.shape, 8, 9 + i));
  }
  const SimResult r = simulate(small_config(), wl, SimOptions{});
  expect_matches(wl, r);
  EXPECT_GT(r.layers[0].overflows, 0u);
  EXPECT_GT(r.layers[1].overflows, 0u);
}
