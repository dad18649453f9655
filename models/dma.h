// DMA engine: moves tiles between DRAM and the on-chip buffers over AXI HP ports (axi_ports of
// axi_width_bits at the port clock). Each stream (weights, inputs, outputs) runs on the ports it
// is bound to (memory.streams); a stream without a binding is striped over all ports. A transfer
// waits until all its ports are free in its direction (an AXI port reads and writes on separate
// channels), so streams on disjoint ports overlap, a read and a write overlap on a shared port, and
// transfers in the same direction on shared ports go one at a time in request order; with no
// binding at all every transfer is striped over every port, one at a time in either direction. A
// transfer ends when both its AXI beats and its DRAM bursts are done, so the slower side sets the
// pace; the DRAM serves transfers in arrival order.
#pragma once

#include <systemc>
#include <vector>

#include "models/config.h"
#include "models/hw/memory/dram_model.h"
#include "models/stats/stat_group.h"

namespace msq {

enum class Traffic : int { Weights = 0, Inputs = 1, Outputs = 2 };

struct DmaStats {
  int64_t transfers = 0;
  int64_t bytes[3] = {0, 0, 0};  // by Traffic
  int64_t busy_cycles = 0;       // fabric cycles with a transfer in flight (summed over streams)
};

class Dma : public sc_core::sc_module {
 public:
  Dma(sc_core::sc_module_name name, const MemoryConfig& cfg, sc_core::sc_time clock,
      DramModel& dram);

  // Blocks the calling thread until the transfer is done. seg_* as DramModel::access; a
  // transfer of parts of several rows (a box's rows, an input tile's rows under a K split or a
  // channel tile) moves grp_count such patterns, grp_stride apart, as one descriptor chain: one
  // setup, each run its own bursts in the DRAM.
  void transfer(Traffic kind, uint64_t addr, int64_t seg_bytes, int64_t seg_stride,
                int64_t seg_count, bool write, int64_t grp_count = 1, int64_t grp_stride = 0);

  const DmaStats& stats() const { return stats_; }
  const StatGroup& stat_group() const { return group_; }
  // The ports a stream uses (0-based).
  const std::vector<int>& ports(Traffic kind) const { return ports_[int(kind)]; }

 private:
  // With bound streams a transfer reaches the DRAM in chunks of this many bytes (docs/memory.md).
  static constexpr int64_t kChunkBytes = 4096;
  MemoryConfig cfg_;
  sc_core::sc_time clock_;       // fabric clock: descriptor setup
  sc_core::sc_time port_clock_;  // AXI port clock: data beats
  DramModel& dram_;
  std::vector<int> ports_[3];
  // Per port and direction (index 2 * port + write): a transfer holds its ports' channels (it may
  // wait between DRAM chunks).
  std::vector<sc_core::sc_time> port_free_;
  std::vector<bool> port_busy_;
  sc_core::sc_event port_released_;
  DmaStats stats_;
  StatGroup group_{"dma"};
  int bytes_id_[3], transfers_id_, busy_id_;
};

}  // namespace msq
