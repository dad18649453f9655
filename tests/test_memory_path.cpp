// The memory path above the DRAM: DMA streams bound to their own AXI ports, the AXI port clock,
// and the AXI HP limits of each device family (refused, or the clock clipped when asked).
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <fstream>

#include "models/accelerator.h"
#include "models/dma.h"
#include "models/error.h"
#include "models/hw/memory/dram_model.h"
#include "sim/config_loader.h"
#include "tests/support/in_child.h"
#include "tests/support/random_layers.h"
#include "tests/support/run_cli.h"

using namespace msq;
using namespace msq::testing;
using sc_core::SC_NS;
using sc_core::sc_time;

namespace {

RunConfig from_text(const std::string& yaml) {
  return load_run_config_node(YAML::Load(yaml), "t.yaml", ".", {});
}
std::string error_of(const std::string& yaml) {
  try {
    from_text(yaml);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

// A DRAM far faster than the ports (the ideal model of the 19.2 GB/s DDR4 preset), so that the
// AXI side sets the pace: 2 ports x 8 bytes at 200 MHz, 1.6 GB/s each.
MemoryConfig two_ports() {
  MemoryConfig m;
  m.model = "ideal";
  m.dram = from_text("memory: {preset: zcu102-ddr4-2400}").memory.dram;
  m.axi_ports = 2;
  m.axi_width_bits = 64;
  m.dma_setup_cycles = 0;
  return m;
}

struct Ends {
  double weights_us, inputs_us;
};

// A weight transfer issued at 0 and an input transfer issued 5 ns later (0 bytes: none).
Ends run_dma(const MemoryConfig& m, int64_t weight_bytes, int64_t input_bytes) {
  return in_child<Ends>([=] {
    auto dram = make_dram_model(m.model, "dram", m.dram);
    Dma dma("dma", m, sc_time(5, SC_NS), *dram);
    Ends e{0, 0};
    sc_core::sc_spawn([&] {
      dma.transfer(Traffic::Weights, 0, weight_bytes, weight_bytes, 1, false);
      e.weights_us = sc_core::sc_time_stamp().to_seconds() * 1e6;
    });
    sc_core::sc_spawn([&] {
      sc_core::wait(sc_time(5, SC_NS));
      dma.transfer(Traffic::Inputs, 1 << 30, input_bytes, input_bytes, 1, false);
      e.inputs_us = sc_core::sc_time_stamp().to_seconds() * 1e6;
    });
    sc_core::sc_start();
    return e;
  });
}

}  // namespace

// MSD binds the weights to one AXI port: a weight transfer alone then gets half the bandwidth of
// one striped over both ports (1.6 against 3.2 GB/s).
TEST(DmaStreams, WeightsBoundToOnePortTakeTwiceAsLong) {
  const int64_t bytes = 256 << 10;
  MemoryConfig striped = two_ports();
  MemoryConfig bound = two_ports();
  bound.streams.weights = {0};
  bound.streams.inputs = {1};
  bound.streams.outputs = {1};
  const Ends a = run_dma(striped, bytes, 0);
  const Ends b = run_dma(bound, bytes, 0);
  EXPECT_NEAR(a.weights_us, double(bytes) / 3.2e9 * 1e6, 0.05);
  EXPECT_NEAR(b.weights_us, double(bytes) / 1.6e9 * 1e6, 0.05);
}

// Streams on disjoint ports run in parallel: a small input transfer behind a large weight
// transfer waits for it when everything is striped, not when each stream has its own port.
TEST(DmaStreams, StreamsOnDisjointPortsOverlap) {
  MemoryConfig striped = two_ports();
  MemoryConfig bound = two_ports();
  bound.streams.weights = {0};
  bound.streams.inputs = {1};
  const Ends a = run_dma(striped, 256 << 10, 16 << 10);
  const Ends b = run_dma(bound, 256 << 10, 16 << 10);
  EXPECT_GT(a.inputs_us, a.weights_us);                              // queued behind the weights
  EXPECT_NEAR(b.inputs_us, 0.005 + (16 << 10) / 1.6e9 * 1e6, 0.05);  // its own port at once
  EXPECT_LT(b.inputs_us, b.weights_us / 5);
}

// Streams sharing a port go one transfer at a time.
TEST(DmaStreams, StreamsSharingAPortSerialize) {
  MemoryConfig shared = two_ports();
  shared.streams.weights = {0};
  shared.streams.inputs = {0};
  const Ends e = run_dma(shared, 64 << 10, 64 << 10);
  EXPECT_NEAR(e.weights_us, (64 << 10) / 1.6e9 * 1e6, 0.05);
  EXPECT_NEAR(e.inputs_us, 2 * (64 << 10) / 1.6e9 * 1e6, 0.05);
}

// An AXI port reads and writes on separate channels: with the streams bound, an output write
// and an input read on the same port run at once, each at the port's rate (MSD moves activations
// in and out over one port this way); two reads on it still take turns (above).
TEST(DmaStreams, AReadAndAWriteShareAPortAtOnce) {
  MemoryConfig m = two_ports();
  m.streams.weights = {1};
  m.streams.inputs = {0};
  m.streams.outputs = {0};
  const int64_t bytes = 64 << 10;
  const double one = double(bytes) / 1.6e9 * 1e6;
  struct ReadWrite {
    double read_us, write_us;
  };
  const ReadWrite ends = in_child<ReadWrite>([=] {
    auto dram = make_dram_model(m.model, "dram", m.dram);
    Dma dma("dma", m, sc_time(5, SC_NS), *dram);
    ReadWrite e{0, 0};
    sc_core::sc_spawn([&] {
      dma.transfer(Traffic::Inputs, 0, bytes, bytes, 1, false);
      e.read_us = sc_core::sc_time_stamp().to_seconds() * 1e6;
    });
    sc_core::sc_spawn([&] {
      sc_core::wait(sc_time(5, SC_NS));
      dma.transfer(Traffic::Outputs, 1 << 30, bytes, bytes, 1, true);
      e.write_us = sc_core::sc_time_stamp().to_seconds() * 1e6;
    });
    sc_core::sc_start();
    return e;
  });
  EXPECT_NEAR(ends.read_us, one, 0.05);
  EXPECT_NEAR(ends.write_us, 0.005 + one, 0.05);  // not queued behind the read (2 * one)
}

// The ports run at memory.axi_clock_mhz when it is given: 100 MHz ports move half the data per
// fabric cycle of 200 MHz ones.
TEST(DmaStreams, PortClockSetsTheAxiRate) {
  MemoryConfig slow = two_ports();
  slow.axi_clock_mhz = 100;
  const Ends e = run_dma(slow, 256 << 10, 0);
  EXPECT_NEAR(e.weights_us, double(256 << 10) / 1.6e9 * 1e6, 0.05);
}

// A whole layer (issue 11): a fully connected layer streams its weights and is AXI-bound; with
// the weights on one of two ports it takes about twice as long as when they are striped.
TEST(DmaStreams, WeightBoundLayerSlowsWhenWeightsHaveOnePort) {
  int64_t cycles[2];
  for (int b = 0; b < 2; ++b)
    cycles[b] = in_child<int64_t>([b] {
      RunConfig c;
      c.accelerator.lut_core = {16, 16, 4};
      c.accelerator.dsp_core.rows = 8;
      c.accelerator.dsp_core.cols = 16;
      c.accelerator.buffers = {16, 64, 16, true};
      c.memory.dram = from_text("memory: {preset: zcu102-ddr4-2400}").memory.dram;
      if (b) c.memory.streams = {{0}, {1}, {1}};
      RandomLayerSpec sp;
      sp.shape = conv("fc", 2048, 1, 1000, 1, 1, 0);
      Workload wl;
      wl.layers.push_back(random_layer(sp, 1));
      SimOptions o;
      o.values = false;
      const SimResult r = simulate(c, wl, o);
      return r.layers[0].cycles;
    });
  const double ratio = double(cycles[1]) / double(cycles[0]);
  EXPECT_GT(ratio, 1.7) << cycles[0] << " " << cycles[1];
  EXPECT_LT(ratio, 2.1) << cycles[0] << " " << cycles[1];
}

// memory.model picks the DRAM the accelerator is built with: the ideal one has no row misses and
// runs a memory-bound layer at least as fast as the ddr one.
TEST(DramModels, RunConfigChoosesTheModel) {
  struct Out {
    int64_t cycles, bursts, hits;
  };
  Out out[2];
  for (int ideal = 0; ideal < 2; ++ideal)
    out[ideal] = in_child<Out>([ideal] {
      RunConfig c = from_text(std::string("memory: {model: ") + (ideal ? "ideal" : "ddr") + "}");
      RandomLayerSpec sp;
      sp.shape = conv("wide1x1", 16, 96, 16, 1, 1, 0);
      Workload wl;
      wl.layers.push_back(random_layer(sp, 1));
      SimOptions o;
      o.values = false;
      const SimResult r = simulate(c, wl, o);
      return Out{r.layers[0].cycles, r.dram.bursts, r.dram.row_hits};
    });
  EXPECT_LT(out[0].hits, out[0].bursts);
  EXPECT_EQ(out[1].hits, out[1].bursts);
  EXPECT_LT(out[1].cycles, out[0].cycles);
}

TEST(AxiLimits, ConfigsBeyondTheDeviceAreRefusedNamingKeyAndLimit) {
  EXPECT_EQ(error_of("device: xc7z020\nmemory: {axi_width_bits: 128}\n"),
            "t.yaml:2: memory.axi_width_bits: expected at most 64 bits, the widest AXI HP port "
            "of the xc7z020 (device.axi_hp_width_bits) (got 128)");
  EXPECT_EQ(error_of("device: xczu9eg\nmemory: {axi_ports: 5}\n"),
            "t.yaml:2: memory.axi_ports: expected at most 4 AXI HP ports, the limit of the "
            "xczu9eg (device.axi_hp_ports) (got 5)");
  EXPECT_EQ(error_of("device: xc7z045\nmemory: {axi_clock_mhz: 200}\n"),
            "t.yaml:2: memory.axi_clock_mhz: expected at most 150 MHz, the fastest AXI HP port "
            "clock of the xc7z045 (device.axi_hp_clock_mhz) (got 200)");
  EXPECT_EQ(error_of("memory: {axi_ports: 2, streams: {weights: [2]}}\n"),
            "t.yaml:1: memory.streams.weights: expected AXI port numbers 0 .. 1 "
            "(memory.axi_ports is 2) (got 2)");
  EXPECT_EQ(error_of("memory: {dram: {bank_groups: 3}}\n"),
            "t.yaml:1: memory.dram.bank_groups: expected a divisor of memory.dram.banks (8) "
            "(got 3)");
  EXPECT_EQ(error_of("memory: {model: ddr5}\n"),
            "t.yaml:1: memory.model: expected one of ddr, ideal (got ddr5)");
  // Within the limits: UltraScale+ ports are 128 bits wide.
  EXPECT_EQ(error_of("device: xczu9eg\nmemory: {axi_width_bits: 128, axi_clock_mhz: 333}\n"), "");
}

// The fabric clock above the port limit: unchecked by default (the behaviour of every existing
// config), clipped to the limit with a warning when memory.clip_axi_clock asks for it.
TEST(AxiLimits, FabricClockAboveThePortLimitIsClippedOnlyWhenAsked) {
  const RunConfig a = from_text("device: xc7z045\nclock_mhz: 200\n");
  EXPECT_EQ(a.memory.axi_clock_mhz, 0);
  EXPECT_EQ(config_warnings(a), "");
  const RunConfig b =
      from_text("device: xc7z045\nclock_mhz: 200\nmemory: {clip_axi_clock: true}\n");
  EXPECT_EQ(b.memory.axi_clock_mhz, 150);
  EXPECT_EQ(config_warnings(b),
            "warning: t.yaml: the AXI ports run at 150 MHz, the xc7z045's AXI HP limit, not at "
            "the 200 MHz fabric clock (memory.clip_axi_clock)");
  const RunConfig c =
      from_text("device: xc7z045\nclock_mhz: 125\nmemory: {clip_axi_clock: true}\n");
  EXPECT_EQ(c.memory.axi_clock_mhz, 0);
}

TEST(AxiLimits, CommandLineExitsTwoOrWarns) {
  TempDir dir;
  const std::string bad = dir / "bad.yaml", clip = dir / "clip.yaml";
  std::ofstream(bad) << "device: xc7z020\nclock_mhz: 100\nmemory:\n  axi_width_bits: 128\n"
                     << "workload: {network: resnet18, layers: [fc]}\n";
  std::ofstream(clip) << "device: xc7z045\nclock_mhz: 200\nmemory: {clip_axi_clock: true}\n"
                      << "workload: {network: resnet18, layers: [fc]}\n";
  const CmdResult r = msqsim("validate " + quoted(bad));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("bad.yaml:4: memory.axi_width_bits: expected at most 64 bits"),
            std::string::npos)
      << r.out;
  const CmdResult w = msqsim("validate " + quoted(clip));
  EXPECT_EQ(w.code, 0) << w.out;
  EXPECT_NE(w.out.find("the AXI ports run at 150 MHz"), std::string::npos) << w.out;
}
