#include "models/dma.h"

#include <algorithm>

#include "models/stats/event_sink.h"

namespace msq {

using sc_core::sc_time;

Dma::Dma(sc_core::sc_module_name name, const MemoryConfig& cfg, sc_time clock, Dram& dram)
    : sc_module(name), cfg_(cfg), clock_(clock), dram_(dram) {}

void Dma::transfer(Traffic kind, uint64_t addr, int64_t seg_bytes, int64_t seg_stride,
                   int64_t seg_count, bool write) {
  const int64_t bytes = seg_bytes * seg_count;
  if (bytes <= 0) return;
  const sc_time now = sc_core::sc_time_stamp();
  const sc_time begin = std::max(now, ports_free_);
  const sc_time start = begin + clock_ * double(cfg_.dma_setup_cycles);
  const int64_t beat = int64_t(cfg_.axi_width_bits) / 8 * cfg_.axi_ports;
  const int64_t axi_cycles = (bytes + beat - 1) / beat;
  const sc_time axi_end = start + clock_ * double(axi_cycles);
  const sc_time dram_end = dram_.access(start, addr, seg_bytes, seg_stride, seg_count, write);
  const sc_time end = std::max(axi_end, dram_end);
  stats_.busy_cycles += int64_t((end - begin) / clock_ + 0.5);
  ports_free_ = end;
  ++stats_.transfers;
  if (EventSink* ev = EventSink::current())  // the timeline (models/stats/event_sink.h)
    ev->transfer(int(kind), ps_of_seconds(begin.to_seconds()), ps_of_seconds(end.to_seconds()),
                 bytes, addr);
  stats_.bytes[int(kind)] += bytes;
  wait(end - now);
}

}  // namespace msq
