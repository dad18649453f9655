#include "models/hw/memory/ideal_dram.h"

#include <algorithm>
#include <cmath>

namespace msq {

IdealDram::IdealDram(const DramConfig& cfg)
    : cfg_(cfg),
      burst_bytes_(cfg.data_width_bits / 8 * cfg.burst_length),
      tck_ps_(1e6 / cfg.clock_mhz) {}

sc_core::sc_time IdealDram::access(sc_core::sc_time start, uint64_t addr, int64_t seg_bytes,
                                   int64_t seg_stride, int64_t seg_count, bool write) {
  const int64_t bb = burst_bytes_;
  // Whole bursts still move: a run that starts or ends inside one carries all of it.
  int64_t bursts = 0;
  for (int64_t s = 0; s < seg_count; ++s) {
    const uint64_t a0 = addr + uint64_t(s * seg_stride);
    bursts += int64_t((a0 + uint64_t(seg_bytes) + bb - 1) / bb - a0 / bb);
  }
  const int64_t t = int64_t(std::ceil(start.to_seconds() * 1e12 / tck_ps_ - 1e-6));
  // Bursts of all channels move in parallel, each burst_length / 2 cycles.
  const int64_t data = (bursts + cfg_.channels - 1) / cfg_.channels * (cfg_.burst_length / 2);
  const int64_t first = std::max(t + cfg_.CL, bus_free_);
  bus_free_ = first + data;
  stats_.bursts += bursts;
  stats_.row_hits += bursts;
  (write ? stats_.write_bursts : stats_.read_bursts) += bursts;
  stats_.data_cycles += bursts * (cfg_.burst_length / 2);
  (write ? stats_.bytes_written : stats_.bytes_read) += seg_bytes * seg_count;
  return sc_core::sc_time(std::ceil(double(bus_free_) * tck_ps_), sc_core::SC_PS);
}

}  // namespace msq
