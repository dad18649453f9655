// Off-chip DRAM, the `ddr` model: channels of banks with an open-page policy, timed per burst in
// the DRAM's own clock (tRCD, tRP, CL, tRAS, tCCD, refresh every tREFI for tRFC). Presets that
// give them add the write latency and read/write turnaround (CWL, tWTR, tRTW, tWR), DDR4 bank
// groups (tCCD_L, tRRD_L, tWTR_L) and the activate limits (tRRD, tFAW). Achieved bandwidth comes
// out of the row hits, misses, turnarounds and refreshes of the access stream (docs/memory.md).
#pragma once

#include <systemc>
#include <vector>

#include "models/config.h"
#include "models/hw/memory/dram_model.h"

namespace msq {

class Dram : public sc_core::sc_module, public DramModel {
 public:
  Dram(sc_core::sc_module_name name, const DramConfig& cfg);

  sc_core::sc_time access(sc_core::sc_time start, uint64_t addr, int64_t seg_bytes,
                          int64_t seg_stride, int64_t seg_count, bool write) override;

  const DramStats& stats() const override { return stats_; }
  const DramConfig& config() const override { return cfg_; }

 private:
  static constexpr int64_t kLongAgo = -(int64_t(1) << 40);
  struct Bank {
    int64_t open_row = -1;
    int64_t act = kLongAgo;        // cycle of the last ACTIVATE
    int64_t ready = 0;             // earliest cycle of the next command to this bank
    int64_t write_end = kLongAgo;  // end of the last write data (tWR runs from here)
  };
  struct Channel {
    std::vector<Bank> banks;
    std::vector<int64_t> group_cas;  // last column command per bank group (tCCD_L)
    int64_t bus_free = 0, last_cas = kLongAgo, next_refresh = 0;
    int64_t last_act = kLongAgo;
    int last_act_group = -1;
    int64_t acts[4] = {kLongAgo, kLongAgo, kLongAgo, kLongAgo};  // last four ACTIVATEs (tFAW)
    int act_next = 0;
    int64_t last_read_cas = kLongAgo, last_write_end = kLongAgo;
    int last_write_group = -1;
    int last_dir = 0;  // 0 none, 1 read, 2 write
  };
  struct Where {
    Channel* ch;
    Bank* bank;
    int64_t row;
    int group;
  };
  Where locate(uint64_t addr);
  // A refresh closes every open bank of `ch` (a precharge each) from cycle `at` on.
  void close_all(Channel& ch, int64_t at);
  int64_t burst(int64_t t, uint64_t addr, bool write);  // returns the cycle the burst's data ends
  // After a burst, up to n more hits to the same open page: each comes max(tCCD, BL/2) after the
  // previous one, exactly as burst() would place it, until a refresh falls due. Returns how many
  // it placed (the rest go through burst()).
  int64_t page_hits(uint64_t addr, int64_t n, bool write, int64_t& end);

  DramConfig cfg_;
  int burst_bytes_;
  double tck_ps_;
  int write_latency_;
  std::vector<Channel> channels_;
  int64_t order_ = 0;  // cycle before which no new transfer's first command may issue
  DramStats stats_;
};

}  // namespace msq
