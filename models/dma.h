// DMA engine: moves tiles between DRAM and the on-chip buffers over AXI HP ports (axi_ports of
// axi_width_bits at the fabric clock). A transfer is striped over all ports, one transfer at a
// time in request order; it ends when both its AXI beats and its DRAM bursts are done, so the
// slower side sets the pace.
#pragma once

#include <systemc>
#include <vector>

#include "models/config.h"
#include "models/dram.h"

namespace msq {

enum class Traffic : int { Weights = 0, Inputs = 1, Outputs = 2 };

struct DmaStats {
  int64_t transfers = 0;
  int64_t bytes[3] = {0, 0, 0};  // by Traffic
  int64_t busy_cycles = 0;       // fabric cycles with a transfer in flight
};

class Dma : public sc_core::sc_module {
 public:
  Dma(sc_core::sc_module_name name, const MemoryConfig& cfg, sc_core::sc_time clock, Dram& dram);

  // Blocks the calling thread until the transfer is done. seg_* as Dram::access.
  void transfer(Traffic kind, uint64_t addr, int64_t seg_bytes, int64_t seg_stride,
                int64_t seg_count, bool write);

  const DmaStats& stats() const { return stats_; }

 private:
  MemoryConfig cfg_;
  sc_core::sc_time clock_;
  Dram& dram_;
  sc_core::sc_time ports_free_;
  DmaStats stats_;
};

}  // namespace msq
