// Statistics owned by the blocks: each block (an engine, the DMA, the DRAM, a buffer) keeps one
// StatGroup of named counters with a unit and a description, per layer and in total. The
// reporter walks the groups of a run (sim/report.cpp), so the JSON `stats` object, the CSV's
// stat columns and the terminal's block lines come from one source (docs/report.md). Plain C++.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace msq {

class StatGroup {
 public:
  enum class Unit : uint8_t { Cycles, Bytes, Macs, Count };
  struct Counter {
    std::string name;
    Unit unit;
    std::string description;
  };

  explicit StatGroup(std::string block = "") : block_(std::move(block)) {}

  // Defines a counter; returns the id to count into.
  int define(std::string name, Unit unit, std::string description);
  // Adds v to counter `id`, for `layer` (-1: for no layer: only in the total).
  void add(int id, int64_t v, int layer) {
    total_[size_t(id)] += v;
    if (layer >= 0) add_layer(id, v, layer);
  }
  // The same for the layer of the work in flight (set_current_layer).
  void add(int id, int64_t v) { add(id, v, current_layer_); }

  const std::string& block() const { return block_; }
  void set_block(std::string b) { block_ = std::move(b); }
  const std::vector<Counter>& counters() const { return counters_; }
  int find(const std::string& name) const;  // -1: none
  int64_t total(int id) const { return total_[size_t(id)]; }
  int64_t at(int id, int layer) const {
    return size_t(layer) < by_layer_.size() ? by_layer_[size_t(layer)][size_t(id)] : 0;
  }

  // The layer the block that is about to count works for. SystemC threads run one at a time, so
  // a caller sets it right before the call that counts (as the DMA does for the DRAM).
  static void set_current_layer(int layer) { current_layer_ = layer; }
  static int current_layer() { return current_layer_; }

 private:
  void add_layer(int id, int64_t v, int layer);

  static inline int current_layer_ = -1;
  std::string block_;
  std::vector<Counter> counters_;
  std::vector<int64_t> total_;
  std::vector<std::vector<int64_t>> by_layer_;  // [layer][counter]
};

const char* unit_name(StatGroup::Unit u);

}  // namespace msq
