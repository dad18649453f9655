#include "models/stats/stat_group.h"

namespace msq {

int StatGroup::define(std::string name, Unit unit, std::string description) {
  counters_.push_back({std::move(name), unit, std::move(description)});
  total_.push_back(0);
  for (auto& l : by_layer_) l.push_back(0);
  return int(counters_.size()) - 1;
}

int StatGroup::find(const std::string& name) const {
  for (size_t i = 0; i < counters_.size(); ++i)
    if (counters_[i].name == name) return int(i);
  return -1;
}

void StatGroup::add_layer(int id, int64_t v, int layer) {
  if (size_t(layer) >= by_layer_.size())
    by_layer_.resize(size_t(layer) + 1, std::vector<int64_t>(counters_.size(), 0));
  by_layer_[size_t(layer)][size_t(id)] += v;
}

const char* unit_name(StatGroup::Unit u) {
  switch (u) {
    case StatGroup::Unit::Cycles:
      return "cycles";
    case StatGroup::Unit::Bytes:
      return "bytes";
    case StatGroup::Unit::Macs:
      return "MACs";
    case StatGroup::Unit::Count:
      return "count";
  }
  return "count";
}

}  // namespace msq
