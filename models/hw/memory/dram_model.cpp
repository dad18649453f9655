#include "models/hw/memory/dram_model.h"

#include <map>
#include <stdexcept>

#include "models/dram.h"
#include "models/hw/memory/ideal_dram.h"

namespace msq {

int DramModel::burst_bytes() const {
  return config().data_width_bits / 8 * config().burst_length;
}

DramModel::DramModel() {
  using U = StatGroup::Unit;
  act_ = group_.define("act", U::Count, "ACTIVATE commands (a row opened)");
  pre_ = group_.define("pre", U::Count, "PRECHARGE commands closing a row for another one");
  rd_ = group_.define("rd", U::Count, "READ bursts");
  wr_ = group_.define("wr", U::Count, "WRITE bursts");
  ref_ = group_.define("ref", U::Count, "REFRESH commands");
  bytes_rd_ = group_.define("read_bytes", U::Bytes, "bytes the DMA read");
  bytes_wr_ = group_.define("write_bytes", U::Bytes, "bytes the DMA wrote");
}

sc_core::sc_time DramModel::serve(sc_core::sc_time start, uint64_t addr, int64_t seg_bytes,
                                  int64_t seg_stride, int64_t seg_count, bool write, int layer) {
  const DramStats b = stats();
  const sc_core::sc_time end = access(start, addr, seg_bytes, seg_stride, seg_count, write);
  const DramStats& a = stats();
  group_.add(act_, (a.row_misses - b.row_misses) + (a.row_conflicts - b.row_conflicts), layer);
  group_.add(pre_, a.row_conflicts - b.row_conflicts, layer);
  group_.add(write ? wr_ : rd_, a.bursts - b.bursts, layer);
  group_.add(ref_, a.refreshes - b.refreshes, layer);
  group_.add(write ? bytes_wr_ : bytes_rd_, seg_bytes * seg_count, layer);
  return end;
}

double DramModel::peak_bytes_per_s() const {
  const DramConfig& c = config();
  return c.clock_mhz * 1e6 * 2.0 * c.data_width_bits / 8.0 * c.channels;
}

uint64_t DramModel::capacity_bytes() const {
  const DramConfig& c = config();
  return uint64_t(c.channels) * c.banks * c.rows * c.row_bytes;
}

namespace {

struct Entry {
  std::string doc;
  DramFactory make;
};

std::map<std::string, Entry>& registry() {
  static std::map<std::string, Entry> r = [] {
    std::map<std::string, Entry> m;
    m["ddr"] = {
        "Banks with an open-page policy, timed per burst from the preset's JEDEC timing "
        "(row hits and misses, refresh, read/write turnaround, bank groups).",
        [](const char* inst, const DramConfig& c) -> std::unique_ptr<DramModel> {
          return std::make_unique<Dram>(inst, c);
        }};
    m["ideal"] = {
        "Every transfer at the preset's peak bandwidth after a fixed CAS latency: the "
        "bound no real access pattern beats.",
        [](const char*, const DramConfig& c) -> std::unique_ptr<DramModel> {
          return std::make_unique<IdealDram>(c);
        }};
    return m;
  }();
  return r;
}

}  // namespace

bool register_dram_model(const std::string& name, const std::string& doc, DramFactory make) {
  return registry().emplace(name, Entry{doc, std::move(make)}).second;
}

std::unique_ptr<DramModel> make_dram_model(const std::string& name, const char* instance,
                                           const DramConfig& cfg) {
  const auto it = registry().find(name);
  if (it == registry().end()) throw std::invalid_argument("unknown DRAM model '" + name + "'");
  return it->second.make(instance, cfg);
}

std::vector<std::string> dram_model_names() {
  std::vector<std::string> v;
  for (const auto& [name, e] : registry()) v.push_back(name);
  return v;
}

std::string dram_model_doc(const std::string& name) {
  const auto it = registry().find(name);
  return it == registry().end() ? std::string() : it->second.doc;
}

}  // namespace msq
