// The SystemC accelerator end to end: values against a naive reference, timing sanity.
#include <gtest/gtest.h>

#include "models/accelerator.h"
#include "tests/support/in_child.h"
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
    sp.shape = conv(i ? "sat" : "wrap", 64, 6, 16, 3, 1, 1);
    sp.acc_bits = 16;
    sp.bias_range = 30000;  // biases near the rails make the sums cross them
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

namespace {
// A config whose buffers are large enough that tiling never limits a test layer.
RunConfig roomy_config() {
  RunConfig c;
  c.device.dsp_kind = DspKind::DSP48E1;
  c.accelerator.lut_core = {16, 16, 4};
  c.accelerator.dsp_core.rows = 8;
  c.accelerator.dsp_core.cols = 16;
  c.accelerator.buffers = {128, 256, 128, true};
  return c;
}
SimOptions timing_only() {
  SimOptions o;
  o.values = false;
  return o;
}
Workload timing_workload(const LayerShape& s, double sp2_fraction) {
  RandomLayerSpec sp;
  sp.shape = s;
  sp.sp2_fraction = sp2_fraction;
  Workload wl;
  wl.layers.push_back(random_layer(sp, 1));
  return wl;
}
}  // namespace

// LUT rows that share a column's shifter outputs (four or more rows of one group and format):
// whole blocks of 64 columns, last blocks that end in their first or second half of 32, two
// groups, two images, and reductions longer than one 16-bit run. Tiles hold whole images here.
TEST(Accelerator, RowsSharingShifterOutputsMatchNaiveReference) {
  Workload wl;
  std::vector<RandomLayerSpec> specs(4);
  specs[0].shape = conv("n324", 16, 18, 48, 3, 1, 1);          // 5 blocks of 64 and 4 columns
  specs[1].shape = conv("n100_g2", 16, 10, 32, 3, 1, 1, 2);    // 64 + 36 columns, two groups
  specs[2].shape = conv("n49_b2", 32, 7, 24, 3, 1, 1, 1, 2);   // 98 columns: 64 + 34
  specs[3].shape = conv("n25_b3", 24, 10, 16, 3, 2, 1, 1, 3);  // 75 columns: 64 + 11
  specs[3].bits = 3;
  for (size_t i = 0; i < specs.size(); ++i) {
    specs[i].sp2_fraction = 0.75;
    wl.layers.push_back(random_layer(specs[i], 300 + i));
    wl.inputs.push_back(random_input(specs[i].shape, 8, 400 + i));
  }
  const SimResult r = simulate(roomy_config(), wl, SimOptions{});
  expect_matches(wl, r);
}

TEST(AcceleratorTiming, BalancedComputeBoundLayerNearPeak) {
  RunConfig c = roomy_config();
  // Products per cycle: LUT 16x16 = 256; DSP 8x16 slices x 2 packed = 256; balanced at 0.5.
  const LayerShape s = conv("deep", 256, 16, 256, 3, 1, 1);
  const SimResult r = simulate(c, timing_workload(s, 0.5), timing_only());
  const LayerResult& l = r.layers[0];
  EXPECT_EQ(l.bound, "compute");
  ASSERT_TRUE(l.packing);
  const double ideal = double(l.macs) / (256 + 256);
  EXPECT_LT(double(l.cycles), ideal * 1.10) << "ideal " << ideal;
  EXPECT_GE(double(l.cycles), ideal);
}

TEST(AcceleratorTiming, HalvingDramBandwidthSlowsOnlyMemoryBoundLayers) {
  // 1x1 conv on a large map with few channels: little compute per byte. A deep 3x3 conv: much.
  const LayerShape mem = conv("wide1x1", 16, 96, 16, 1, 1, 0);
  const LayerShape cmp = conv("deep3x3", 256, 14, 256, 3, 1, 1);
  struct Out {
    int64_t cycles;
    bool memory_bound;
  };
  Out out[2][2];
  for (int half = 0; half < 2; ++half)
    for (int which = 0; which < 2; ++which)
      out[half][which] = in_child<Out>([&] {
        RunConfig c = roomy_config();
        c.memory.axi_ports = 4;  // leave DRAM the bottleneck, not the AXI ports
        if (half) c.memory.dram.data_width_bits /= 2;
        const SimResult r = simulate(c, timing_workload(which ? cmp : mem, 0.5), timing_only());
        return Out{r.layers[0].cycles, r.layers[0].bound == "memory"};
      });
  int64_t cycles[2][2];
  for (int h = 0; h < 2; ++h)
    for (int w = 0; w < 2; ++w) cycles[h][w] = out[h][w].cycles;
  EXPECT_TRUE(out[0][0].memory_bound);
  EXPECT_FALSE(out[0][1].memory_bound);
  const double mem_ratio = double(cycles[1][0]) / double(cycles[0][0]);
  const double cmp_ratio = double(cycles[1][1]) / double(cycles[0][1]);
  EXPECT_GT(mem_ratio, 1.8);
  EXPECT_LT(mem_ratio, 2.2);
  EXPECT_LT(cmp_ratio, 1.05);
}

TEST(Accelerator, InjectedFaultIsVisibleInTheOutputs) {
  Workload wl;
  RandomLayerSpec sp;
  sp.shape = conv("c", 8, 8, 16, 3, 1, 1);
  wl.layers.push_back(random_layer(sp, 5));
  wl.inputs.push_back(random_input(sp.shape, 8, 6));
  SimOptions o;
  o.fault.layer = 0, o.fault.row = 3, o.fault.col = 17, o.fault.xor_mask = 4;
  const SimResult r = simulate(small_config(), wl, o);
  uint64_t ovf = 0;
  const OutTensor ref = naive_conv(wl.layers[0], wl.inputs[0], &ovf);
  size_t diffs = 0, where = 0;
  for (size_t i = 0; i < ref.data.size(); ++i)
    if (ref.data[i] != r.layers[0].out.data[i]) ++diffs, where = i;
  EXPECT_EQ(diffs, 1u);
  EXPECT_EQ(where, size_t(3 * 64 + 17));  // row 3, column 17 of an 8x8 output
}

TEST(Accelerator, ZeroPointsAndClampMatchNaiveReference) {
  Workload wl;
  const char* names[] = {"c3s1", "c3s2", "dw"};
  LayerShape shapes[] = {conv(names[0], 8, 10, 24, 3, 1, 1), conv(names[1], 16, 11, 20, 3, 2, 1),
                         conv(names[2], 12, 9, 12, 3, 1, 1, 12)};
  for (int i = 0; i < 3; ++i) {
    RandomLayerSpec sp;
    sp.shape = shapes[i];
    QuantLayer L = random_layer(sp, 300 + i);
    L.in_zero = 40 + i;
    L.out_zero = 17 + i;
    L.lo = L.out_zero;
    L.hi = 230 - i;
    wl.layers.push_back(std::move(L));
    wl.inputs.push_back(random_input(sp.shape, 8, 400 + i));
  }
  const SimResult r = simulate(small_config(), wl, SimOptions{});
  expect_matches(wl, r);
  for (size_t l = 0; l < 3; ++l)
    for (int64_t v : r.layers[l].out.data) {
      ASSERT_GE(v, wl.layers[l].lo);
      ASSERT_LE(v, wl.layers[l].hi);
    }
}

TEST(Accelerator, WideActivationsMatch) {
  // 12-bit activations take the 16-bit input path of every kernel.
  Workload wl;
  RandomLayerSpec sp;
  sp.shape = conv("a12", 16, 9, 24, 3, 1, 1);
  sp.act_bits = 12;
  sp.fixed8_fraction = 0.25;
  wl.layers.push_back(random_layer(sp, 21));
  wl.inputs.push_back(random_input(sp.shape, 12, 22));
  expect_matches(wl, simulate(small_config(), wl, SimOptions{}));
}

TEST(Accelerator, SpilledSp2RowsOnPackedDspSlicesMatch) {
  // A LUT core much smaller than the DSP core makes the scheduler move SP2 rows to the DSP core,
  // where they pack with a layout wide enough for the SP2 level 2^F (5 bits for 4-bit SP2).
  RunConfig c = small_config();
  c.accelerator.lut_core = {2, 4, 3};
  c.accelerator.dsp_core.rows = 8;
  c.accelerator.scheduler.spill = true;
  Workload wl;
  RandomLayerSpec sp;
  sp.shape = conv("spill", 16, 8, 32, 3, 1, 1);
  sp.sp2_fraction = 0.8;
  wl.layers.push_back(random_layer(sp, 31));
  wl.inputs.push_back(random_input(sp.shape, 8, 32));
  const SimResult r = simulate(c, wl, SimOptions{});
  EXPECT_GT(r.layers[0].spilled_rows, 0);
  EXPECT_TRUE(r.layers[0].packing);
  EXPECT_EQ(r.layers[0].packed_w_bits, 5);
  expect_matches(wl, r);
}

TEST(Accelerator, SaturatingAccumulatorWithPackingMatches) {
  // Saturation only stays exact with packing if the planner keeps rows that could overflow out of
  // the packed slices.
  RunConfig c = small_config();
  Workload wl;
  RandomLayerSpec sp;
  sp.shape = conv("satpack", 64, 6, 16, 3, 1, 1);
  sp.sp2_fraction = 0.25;
  // 24 bits hold any sum of K = 576 products (the data-type bound allows packing), but biases
  // near the rails push some rows over: those must leave the packed slices.
  sp.acc_bits = 24;
  sp.overflow = Overflow::Saturate;
  sp.bias_range = 8388000;
  sp.output = OutputKind::Accumulators;
  wl.layers.push_back(random_layer(sp, 41));
  wl.inputs.push_back(random_input(sp.shape, 8, 42));
  const SimResult r = simulate(c, wl, SimOptions{});
  EXPECT_TRUE(r.layers[0].packing);
  EXPECT_NE(r.layers[0].packing_note.find("run unpacked"), std::string::npos)
      << r.layers[0].packing_note;
  EXPECT_GT(r.layers[0].overflows, 0u);
  expect_matches(wl, r);
}
