// A DRAM with no banks: data moves at the peak rate of the bus, each transfer CL cycles after it
// may start or after the previous one's data, whichever is later. It bounds what the `ddr` model
// can reach and shows how much of a run's time the DRAM's row and refresh behaviour costs.
#pragma once

#include "models/hw/memory/dram_model.h"

namespace msq {

class IdealDram : public DramModel {
 public:
  explicit IdealDram(const DramConfig& cfg);

  sc_core::sc_time access(sc_core::sc_time start, uint64_t addr, int64_t seg_bytes,
                          int64_t seg_stride, int64_t seg_count, bool write) override;
  const DramStats& stats() const override { return stats_; }
  const DramConfig& config() const override { return cfg_; }

 private:
  DramConfig cfg_;
  int burst_bytes_;
  double tck_ps_;
  int64_t bus_free_ = 0;  // DRAM cycle the data bus is next free
  DramStats stats_;
};

}  // namespace msq
