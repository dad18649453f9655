#include "models/dma.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "models/stats/event_sink.h"

namespace msq {

using sc_core::sc_time;

Dma::Dma(sc_core::sc_module_name name, const MemoryConfig& cfg, sc_time clock, DramModel& dram)
    : sc_module(name),
      cfg_(cfg),
      clock_(clock),
      port_clock_(cfg.axi_clock_mhz > 0 ? sc_time(1e6 / cfg.axi_clock_mhz, sc_core::SC_PS) : clock),
      dram_(dram),
      port_free_(size_t(std::max(cfg.axi_ports, 1)) * 2),
      port_busy_(port_free_.size(), false) {
  using U = StatGroup::Unit;
  bytes_id_[0] = group_.define("weights_bytes", U::Bytes, "bytes of the weights stream");
  bytes_id_[1] = group_.define("inputs_bytes", U::Bytes, "bytes of the inputs stream");
  bytes_id_[2] = group_.define("outputs_bytes", U::Bytes, "bytes of the outputs stream");
  transfers_id_ = group_.define("transfers", U::Count, "DMA transfers (descriptors)");
  busy_id_ =
      group_.define("busy", U::Cycles, "cycles with a transfer in flight, summed over streams");
  const int nports = std::max(cfg.axi_ports, 1);
  const std::vector<int>* bound[3] = {&cfg.streams.weights, &cfg.streams.inputs,
                                      &cfg.streams.outputs};
  for (int k = 0; k < 3; ++k) {
    if (bound[k]->empty()) {
      for (int p = 0; p < nports; ++p) ports_[k].push_back(p);
      continue;
    }
    for (int p : *bound[k]) {
      // The config loader refuses these; a direct caller gets an exception, not a wild index.
      if (p < 0 || p >= nports)
        throw std::invalid_argument("Dma: stream bound to port " + std::to_string(p) + " of " +
                                    std::to_string(nports));
      if (std::find(ports_[k].begin(), ports_[k].end(), p) == ports_[k].end())
        ports_[k].push_back(p);
    }
  }
}

void Dma::transfer(Traffic kind, uint64_t addr, int64_t seg_bytes, int64_t seg_stride,
                   int64_t seg_count, bool write, int64_t grp_count, int64_t grp_stride) {
  const int64_t bytes = seg_bytes * seg_count * grp_count;
  if (bytes <= 0) return;
  const std::vector<int>& ports = ports_[int(kind)];
  const int layer = StatGroup::current_layer();  // read before the first wait
  // The timeline's tag of this transfer, also read before the first wait: other threads tag
  // their own transfers while this one waits, so it is set again before each use.
  EventSink* const ev = EventSink::current();
  const int tag_layer = ev ? ev->tag_layer() : -1, tag_tile = ev ? ev->tag_tile() : -1;
  const auto retag = [&] { EventSink::tag(tag_layer, tag_tile); };
  // An AXI port has separate read and write channels (address, data and response for each), so
  // with bound streams a read and a write share a port without waiting for each other; two
  // transfers in the same direction take turns. Without bindings every transfer holds every port
  // in both directions, one at a time, as before streams existed.
  const bool duplex = cfg_.streams.any();
  // At most two channels a port; a fixed array keeps this per-transfer path free of allocation.
  struct Channels {
    size_t c[2];
    int n = 0;
    const size_t* begin() const { return c; }
    const size_t* end() const { return c + n; }
  };
  auto channels = [&](int p) {
    Channels ch;
    if (!duplex || !write) ch.c[ch.n++] = size_t(p) * 2;
    if (!duplex || write) ch.c[ch.n++] = size_t(p) * 2 + 1;
    return ch;
  };
  // A transfer that hands the DRAM chunks waits in between; the ports stay its own till the end.
  const auto busy = [&] {
    for (int p : ports)
      for (size_t c : channels(p))
        if (port_busy_[c]) return true;
    return false;
  };
  while (busy()) wait(port_released_);
  for (int p : ports)
    for (size_t c : channels(p)) port_busy_[c] = true;
  const sc_time now = sc_core::sc_time_stamp();
  sc_time begin = now;
  for (int p : ports)
    for (size_t c : channels(p)) begin = std::max(begin, port_free_[c]);
  const sc_time start = begin + clock_ * double(cfg_.dma_setup_cycles);
  const int64_t beat = int64_t(cfg_.axi_width_bits) / 8 * int64_t(ports.size());
  const int64_t axi_cycles = (bytes + beat - 1) / beat;
  const sc_time axi_end = start + port_clock_ * double(axi_cycles);
  sc_time dram_end;
  if (!cfg_.streams.any()) {
    // The groups reach the DRAM one after the other, in arrival order.
    for (int64_t g = 0; g < grp_count; ++g) {
      retag();
      dram_end = std::max(dram_end, dram_.serve(start, addr + uint64_t(g * grp_stride), seg_bytes,
                                                seg_stride, seg_count, write, layer));
    }
  } else {
    // Streams in parallel share the DRAM, which serves requests in arrival order. A transfer
    // paced by its ports must not claim the DRAM for its whole length at once: it hands the
    // DRAM one chunk at a time, each when its ports have moved the bytes before it, so that the
    // other streams' requests fall in between.
    int64_t done = 0;
    const auto issue = [&](uint64_t a, int64_t len, int64_t stride, int64_t n) {
      const sc_time ready = start + port_clock_ * double(done / beat);
      if (ready > sc_core::sc_time_stamp()) wait(ready - sc_core::sc_time_stamp());
      retag();
      dram_end = std::max(dram_end, dram_.serve(ready, a, len, stride, n, write, layer));
      done += len * n;
    };
    for (int64_t g = 0; g < grp_count; ++g)
      for (int64_t s = 0; s < seg_count;) {
        const uint64_t a = addr + uint64_t(g * grp_stride + s * seg_stride);
        if (seg_bytes >= kChunkBytes) {
          for (int64_t off = 0; off < seg_bytes; off += kChunkBytes) {
            const int64_t len = std::min(kChunkBytes, seg_bytes - off);
            issue(a + uint64_t(off), len, len, 1);
          }
          ++s;
        } else {
          const int64_t n = std::min(seg_count - s, kChunkBytes / seg_bytes);
          issue(a, seg_bytes, seg_stride, n);
          s += n;
        }
      }
  }
  const sc_time end = std::max(axi_end, dram_end);
  stats_.busy_cycles += int64_t((end - begin) / clock_ + 0.5);
  group_.add(busy_id_, int64_t((end - begin) / clock_ + 0.5), layer);
  group_.add(transfers_id_, 1, layer);
  group_.add(bytes_id_[int(kind)], bytes, layer);
  for (int p : ports)
    for (size_t c : channels(p)) port_free_[c] = end, port_busy_[c] = false;
  port_released_.notify(sc_core::SC_ZERO_TIME);
  ++stats_.transfers;
  retag();
  if (ev)  // the timeline (models/stats/event_sink.h)
    ev->transfer(int(kind), ps_of_seconds(begin.to_seconds()), ps_of_seconds(end.to_seconds()),
                 bytes, addr);
  stats_.bytes[int(kind)] += bytes;
  wait(end - sc_core::sc_time_stamp());
}

}  // namespace msq
