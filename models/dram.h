// Off-chip DRAM: channels of banks with an open-page policy, timed per burst in the DRAM's own
// clock (tRCD, tRP, CL, tRAS, tCCD, refresh every tREFI for tRFC). Achieved bandwidth comes out
// of the row hits, misses and refreshes of the access stream.
#pragma once

#include <systemc>
#include <vector>

#include "models/config.h"

namespace msq {

struct DramStats {
  int64_t bursts = 0, row_hits = 0, row_misses = 0, row_conflicts = 0, refreshes = 0;
  int64_t bytes_read = 0, bytes_written = 0;
  int64_t data_cycles = 0;  // DRAM cycles the data bus carried data
  double hit_rate() const { return bursts ? double(row_hits) / bursts : 0.0; }
};

class Dram : public sc_core::sc_module {
 public:
  Dram(sc_core::sc_module_name name, const DramConfig& cfg);

  // Serves a transfer of seg_count runs of seg_bytes, seg_stride apart from addr, that may start
  // at `start`; transfers are served in the order they arrive. Returns when its last beat is on
  // the bus. The caller waits; the DRAM only keeps its banks' state.
  sc_core::sc_time access(sc_core::sc_time start, uint64_t addr, int64_t seg_bytes,
                          int64_t seg_stride, int64_t seg_count, bool write);

  int burst_bytes() const { return burst_bytes_; }
  double peak_bytes_per_s() const;
  uint64_t capacity_bytes() const;
  const DramStats& stats() const { return stats_; }
  const DramConfig& config() const { return cfg_; }

 private:
  struct Bank {
    int64_t open_row = -1;
    int64_t act = -(int64_t(1) << 40);  // cycle of the last ACTIVATE
    int64_t ready = 0;                  // earliest cycle of the next command to this bank
  };
  struct Channel {
    std::vector<Bank> banks;
    int64_t bus_free = 0, last_cas = -(int64_t(1) << 40), next_refresh = 0;
  };
  int64_t burst(int64_t t, uint64_t addr);  // returns the cycle the burst's data ends
  // After a burst, up to n more hits to the same open page: each comes max(tCCD, BL/2) after the
  // previous one, exactly as burst() would place it, until a refresh falls due. Returns how many
  // it placed (the rest go through burst()).
  int64_t page_hits(uint64_t addr, int64_t n, int64_t& end);

  DramConfig cfg_;
  int burst_bytes_;
  double tck_ps_;
  std::vector<Channel> channels_;
  int64_t order_ = 0;  // cycle before which no new transfer's first command may issue
  DramStats stats_;
};

}  // namespace msq
