// A single layer of a network simulated alone, for tests that look at one layer's timing or
// estimate; each simulation runs in a forked child (SystemC elaborates once per process).
#pragma once

#include <fstream>
#include <string>
#include <vector>

#include "models/accelerator.h"
#include "models/workload_builder.h"
#include "sim/config_loader.h"
#include "tests/support/in_child.h"

namespace msq::testing {

// The layer writes 8-bit activations as it does inside the network (a network's last layer
// would write its accumulators).
inline Workload one_layer(const RunConfig& c, const std::string& layer, bool values) {
  std::vector<LayerShape> keep;
  for (const LayerShape& s : load_network(c.workload))
    if (s.name == layer) keep.push_back(s);
  WorkloadConfig w = c.workload;
  w.last_layer_accumulators = false;
  return build_workload(c.workload.network, keep, w, c.accelerator.accumulator, values);
}

struct GivenLayer {
  int64_t cycles = 0, est = 0, k_tiles = 0, m_tiles = 0, tile_rows = 0, tile_cols = 0;
  bool memory_bound = false;
};

// `layer` of `network` on MSD's PYNQ-Z2 design (configs/msd/pynq_z2.yaml), timing only, under a
// mapping file of one row: `row` is "tile_m,k_channels,tile_rows,tile_cols".
inline GivenLayer run_given_layer(const std::string& network, const std::string& layer,
                                  const std::string& row) {
  const std::string file = ::testing::TempDir() + "given_" + network + "_" + layer + ".csv";
  {
    std::ofstream f(file);
    f << "layer,tile_m,k_channels,tile_rows,tile_cols\n" << layer << "," << row << "\n";
  }
  return in_child<GivenLayer>([&] {
    const RunConfig c =
        load_run_config(std::string(MSQ_SOURCE_DIR) + "/configs/msd/pynq_z2.yaml",
                        {"workload.network=" + network, "accelerator.scheduler.mapping=given",
                         "accelerator.scheduler.mapping_file=" + file});
    const SimResult r =
        simulate(c, one_layer(c, layer, false), SimOptions{false, {}, nullptr, nullptr});
    const LayerResult& l = r.layers.at(0);
    GivenLayer g;
    g.cycles = l.cycles;
    g.est = l.mapping.est_cycles;
    g.k_tiles = l.k_tiles;
    g.m_tiles = l.mapping.m_tiles;
    g.tile_rows = l.tile_rows, g.tile_cols = l.tile_cols;
    g.memory_bound = l.bound == "memory";
    return g;
  });
}

}  // namespace msq::testing
