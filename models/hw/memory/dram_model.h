// The DRAM as the DMA sees it: an interface that serves transfers and reports its bandwidth, with
// the implementations chosen by name (`memory.model` in a run config) through a small registry.
// docs/memory.md describes the models and how to add one.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <systemc>
#include <vector>

#include "models/config.h"

namespace msq {

struct DramStats {
  int64_t bursts = 0, row_hits = 0, row_misses = 0, row_conflicts = 0, refreshes = 0;
  int64_t bytes_read = 0, bytes_written = 0;
  int64_t data_cycles = 0;  // DRAM cycles the data bus carried data
  int64_t turnarounds = 0;  // read-to-write and write-to-read switches of the data bus
  // Commands and states for the energy model (docs/energy.md).
  int64_t activates = 0, precharges = 0;      // a refresh precharges every open bank
  int64_t read_bursts = 0, write_bursts = 0;  // column commands by direction
  int64_t precharged_cycles = 0;  // channel-cycles with every bank closed, up to the last close
  std::vector<int64_t>
      closed_since;  // per channel: cycle since when every bank is closed, -1: open
  double hit_rate() const { return bursts ? double(row_hits) / bursts : 0.0; }
};

class DramModel {
 public:
  virtual ~DramModel() = default;

  // Serves a transfer of seg_count runs of seg_bytes, seg_stride apart from addr, that may start
  // at `start`; transfers are served in the order they arrive. Returns when its last beat is on
  // the bus. The caller waits; the model only keeps its own state.
  virtual sc_core::sc_time access(sc_core::sc_time start, uint64_t addr, int64_t seg_bytes,
                                  int64_t seg_stride, int64_t seg_count, bool write) = 0;

  virtual const DramStats& stats() const = 0;
  virtual const DramConfig& config() const = 0;

  // Figures of the configured bus and geometry, the same whatever the model does with them.
  int burst_bytes() const;
  double peak_bytes_per_s() const;  // double data rate: two beats per clock on each channel
  uint64_t capacity_bytes() const;
};

// Builds a model; `instance` names the SystemC module when the model is one.
using DramFactory =
    std::function<std::unique_ptr<DramModel>(const char* instance, const DramConfig& cfg)>;

// Adds a model under `name` (false if the name is taken). The built-in models are registered on
// first use of the registry, so a static library cannot drop them.
bool register_dram_model(const std::string& name, const std::string& doc, DramFactory make);

// The model registered under `name`; throws std::invalid_argument for an unknown name (the
// config loader checks names first, so users see an input error instead).
std::unique_ptr<DramModel> make_dram_model(const std::string& name, const char* instance,
                                           const DramConfig& cfg);

// Registered names, sorted, and the one-line description of each.
std::vector<std::string> dram_model_names();
std::string dram_model_doc(const std::string& name);

}  // namespace msq
