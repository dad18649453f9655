#include "models/dram.h"

#include <algorithm>
#include <cmath>

#include "models/stats/event_sink.h"

namespace msq {

using sc_core::SC_PS;
using sc_core::sc_time;

Dram::Dram(sc_core::sc_module_name name, const DramConfig& cfg)
    : sc_module(name),
      cfg_(cfg),
      burst_bytes_(cfg.data_width_bits / 8 * cfg.burst_length),
      tck_ps_(1e6 / cfg.clock_mhz),
      channels_(cfg.channels) {
  for (Channel& c : channels_) {
    c.banks.resize(cfg.banks);
    c.next_refresh = cfg.tREFI;
  }
}

double Dram::peak_bytes_per_s() const {
  // Double data rate: two beats per clock on each channel.
  return cfg_.clock_mhz * 1e6 * 2.0 * cfg_.data_width_bits / 8.0 * cfg_.channels;
}

uint64_t Dram::capacity_bytes() const {
  return uint64_t(cfg_.channels) * cfg_.banks * cfg_.rows * cfg_.row_bytes;
}

int64_t Dram::burst(int64_t t, uint64_t addr) {
  // Address map row | bank | channel | column: a sequential stream fills a page, then moves to the
  // next channel and bank, so that their activations overlap the current page's bursts.
  const uint64_t page = (addr % capacity_bytes()) / cfg_.row_bytes;
  Channel& ch = channels_[page % cfg_.channels];
  Bank& bank = ch.banks[(page / cfg_.channels) % cfg_.banks];
  const int64_t row = int64_t(page / (uint64_t(cfg_.channels) * cfg_.banks));

  // Refreshes that fell in idle time cost nothing but close the pages.
  if (t > ch.next_refresh + cfg_.tREFI && ch.bus_free < ch.next_refresh) {
    const int64_t skipped = (t - ch.next_refresh) / cfg_.tREFI;
    ch.next_refresh += skipped * cfg_.tREFI;
    stats_.refreshes += skipped;
    for (Bank& b : ch.banks) b.open_row = -1;
  }
  // Refresh: all banks are precharged and the channel is busy for tRFC.
  while (t >= ch.next_refresh || ch.bus_free >= ch.next_refresh) {
    int64_t start = ch.next_refresh;
    for (Bank& b : ch.banks) {
      if (b.open_row >= 0) start = std::max(start, b.act + cfg_.tRAS);
      start = std::max(start, b.ready);
    }
    start = std::max(start, ch.bus_free) + cfg_.tRP;
    for (Bank& b : ch.banks) {
      b.open_row = -1;
      b.ready = start + cfg_.tRFC;
    }
    ch.next_refresh += cfg_.tREFI;
    ++stats_.refreshes;
  }

  int64_t cas;
  if (bank.open_row == row) {
    ++stats_.row_hits;
    cas = std::max(t, bank.ready);
  } else {
    int64_t act;
    if (bank.open_row >= 0) {
      ++stats_.row_conflicts;
      const int64_t pre = std::max({t, bank.ready, bank.act + cfg_.tRAS});
      act = pre + cfg_.tRP;
    } else {
      ++stats_.row_misses;
      act = std::max(t, bank.ready);
    }
    bank.open_row = row;
    bank.act = act;
    cas = act + cfg_.tRCD;
  }
  cas = std::max({cas, ch.last_cas + cfg_.tCCD, ch.bus_free - cfg_.CL});
  const int64_t data_end = cas + cfg_.CL + cfg_.burst_length / 2;
  ch.last_cas = cas;
  ch.bus_free = data_end;
  bank.ready = cas + 1;
  ++stats_.bursts;
  stats_.data_cycles += cfg_.burst_length / 2;
  if (EventSink* ev = EventSink::current())  // the timeline: the burst's data on the bus
    ev->dram_burst(int(&ch - channels_.data()), cas + cfg_.CL, data_end, 1, burst_bytes_);
  // An in-order controller sees the next request once this one has issued its column command.
  order_ = cas;
  return data_end;
}

int64_t Dram::page_hits(uint64_t addr, int64_t n, int64_t& end) {
  const uint64_t page = (addr % capacity_bytes()) / cfg_.row_bytes;
  Channel& ch = channels_[page % cfg_.channels];
  Bank& bank = ch.banks[(page / cfg_.channels) % cfg_.banks];
  const int64_t step = std::max<int64_t>({1, cfg_.tCCD, cfg_.burst_length / 2});
  const int64_t c = ch.last_cas;
  // burst() would start a refresh before a burst once the previous one's data reaches it.
  const int64_t room = ch.next_refresh - (c + cfg_.CL + cfg_.burst_length / 2) - 1;
  if (room < 0 || bank.ready != c + 1 || order_ != c) return 0;
  const int64_t k = std::min(n, room / step + 1);
  const int64_t cas = c + k * step;
  ch.last_cas = cas;
  ch.bus_free = cas + cfg_.CL + cfg_.burst_length / 2;
  bank.ready = cas + 1;
  order_ = cas;
  stats_.bursts += k;
  stats_.row_hits += k;
  stats_.data_cycles += k * (cfg_.burst_length / 2);
  end = std::max(end, ch.bus_free);
  if (EventSink* ev = EventSink::current())  // the timeline: the k bursts' data on the bus
    ev->dram_burst(int(&ch - channels_.data()), c + step + cfg_.CL, ch.bus_free, k,
                   k * burst_bytes_);
  return k;
}

sc_time Dram::access(sc_time start, uint64_t addr, int64_t seg_bytes, int64_t seg_stride,
                     int64_t seg_count, bool write) {
  int64_t t =
      std::max<int64_t>(order_, int64_t(std::ceil(start.to_seconds() * 1e12 / tck_ps_ - 1e-6)));
  int64_t end = t;
  const uint64_t bb = uint64_t(burst_bytes_);
  for (int64_t s = 0; s < seg_count; ++s) {
    const uint64_t a0 = addr + uint64_t(s * seg_stride);
    const uint64_t a1 = a0 + uint64_t(seg_bytes);
    // Every burst the run touches moves a whole burst over the bus.
    for (uint64_t a = a0 / bb * bb; a < a1;) {
      end = std::max(end, burst(order_ > t ? order_ : t, a));
      t = order_;
      a += bb;
      // The rest of this page's bursts in the run are hits: place them in bulk.
      const uint64_t page_end = (a / uint64_t(cfg_.row_bytes) + 1) * uint64_t(cfg_.row_bytes);
      const int64_t same_page =
          int64_t((std::min(a1, page_end) - std::min(a, std::min(a1, page_end)) + bb - 1) / bb);
      if (same_page > 0 && a % uint64_t(cfg_.row_bytes) != 0) {
        const int64_t done = page_hits(a, same_page, end);
        a += uint64_t(done) * bb;
        t = order_;
      }
    }
  }
  (write ? stats_.bytes_written : stats_.bytes_read) += seg_bytes * seg_count;
  if (EventSink* ev = EventSink::current()) ev->dram_flush(tck_ps_);  // one span per channel
  return sc_time(std::ceil(double(end) * tck_ps_), SC_PS);
}

}  // namespace msq
