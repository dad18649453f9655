#include "models/dma.h"

#include <algorithm>

namespace msq {

using sc_core::sc_time;

Dma::Dma(sc_core::sc_module_name name, const MemoryConfig& cfg, sc_time clock, Dram& dram)
    : sc_module(name), cfg_(cfg), clock_(clock), dram_(dram),
      port_free_(size_t(cfg.axi_ports), sc_core::SC_ZERO_TIME) {}

void Dma::transfer(Traffic kind, uint64_t addr, int64_t seg_bytes, int64_t seg_stride,
                   int64_t seg_count, bool write) {
  const int64_t bytes = seg_bytes * seg_count;
  if (bytes <= 0) return;
  auto port = std::min_element(port_free_.begin(), port_free_.end());
  const sc_time now = sc_core::sc_time_stamp();
  const sc_time start = std::max(now, *port) + clock_ * double(cfg_.dma_setup_cycles);
  const int64_t beat = cfg_.axi_width_bits / 8;
  const int64_t axi_cycles = (bytes + beat - 1) / beat;
  const sc_time axi_end = start + clock_ * double(axi_cycles);
  const sc_time dram_end = dram_.access(start, addr, seg_bytes, seg_stride, seg_count, write);
  const sc_time end = std::max(axi_end, dram_end);
  stats_.port_busy_cycles += int64_t((end - std::max(now, *port)) / clock_ + 0.5);
  *port = end;
  ++stats_.transfers;
  stats_.bytes[int(kind)] += bytes;
  wait(end - now);
}

}  // namespace msq
