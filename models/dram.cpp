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
      write_latency_(cfg.CWL > 0 ? cfg.CWL : cfg.CL),
      channels_(cfg.channels) {
  if (cfg_.bank_groups < 1) cfg_.bank_groups = 1;
  for (Channel& c : channels_) {
    c.banks.resize(cfg.banks);
    c.group_cas.assign(cfg_.bank_groups, kLongAgo);
    c.next_refresh = cfg.tREFI;
  }
  stats_.closed_since.assign(channels_.size(), 0);
}

Dram::Where Dram::locate(uint64_t addr) {
  // Address map row | bank | channel | column: a sequential stream fills a page, then moves to the
  // next channel and bank. With bank groups the group bits sit just above the burst offset
  // (row | bank | channel | column | group | burst), so that consecutive bursts alternate groups
  // and are spaced by tCCD_S, not tCCD_L, as DDR4 controllers map addresses for streaming.
  const uint64_t a = addr % capacity_bytes();
  const uint64_t groups = uint64_t(cfg_.bank_groups), bb = uint64_t(burst_bytes_);
  uint64_t g = 0, linear = a;
  if (groups > 1) {
    const uint64_t b = a / bb;
    g = b % groups;
    linear = b / groups * bb + a % bb;
  }
  const uint64_t page = linear / uint64_t(cfg_.row_bytes);
  const uint64_t per_group = uint64_t(cfg_.banks) / groups;
  Channel& ch = channels_[page % uint64_t(cfg_.channels)];
  const uint64_t bank = (page / uint64_t(cfg_.channels)) % per_group * groups + g;
  return {&ch, &ch.banks[bank], int64_t(page / (uint64_t(cfg_.channels) * per_group)), int(g)};
}

int64_t Dram::burst(int64_t t, uint64_t addr, bool write) {
  const Where w = locate(addr);
  Channel& ch = *w.ch;
  Bank& bank = *w.bank;
  const int64_t row = w.row;

  // Refreshes that fell in idle time cost nothing but close the pages.
  if (t > ch.next_refresh + cfg_.tREFI && ch.bus_free < ch.next_refresh) {
    const int64_t skipped = (t - ch.next_refresh) / cfg_.tREFI;
    ch.next_refresh += skipped * cfg_.tREFI;
    stats_.refreshes += skipped;
    close_all(ch, ch.next_refresh - skipped * cfg_.tREFI);
  }
  // Refresh: all banks are precharged and the channel is busy for tRFC.
  while (t >= ch.next_refresh || ch.bus_free >= ch.next_refresh) {
    int64_t start = ch.next_refresh;
    for (Bank& b : ch.banks) {
      if (b.open_row >= 0) start = std::max(start, b.act + cfg_.tRAS);
      if (cfg_.tWR > 0) start = std::max(start, b.write_end + cfg_.tWR);
      start = std::max(start, b.ready);
    }
    start = std::max(start, ch.bus_free) + cfg_.tRP;
    close_all(ch, start);
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
      ++stats_.precharges;
      int64_t pre = std::max({t, bank.ready, bank.act + cfg_.tRAS});
      // Write recovery: the last write's data must be in the array before the row closes.
      if (cfg_.tWR > 0) pre = std::max(pre, bank.write_end + cfg_.tWR);
      act = pre + cfg_.tRP;
    } else {
      ++stats_.row_misses;
      act = std::max(t, bank.ready);
    }
    if (cfg_.tRRD > 0) {
      const bool same = cfg_.bank_groups > 1 && ch.last_act_group == w.group;
      act = std::max(act, ch.last_act + (same && cfg_.tRRD_L > 0 ? cfg_.tRRD_L : cfg_.tRRD));
    }
    if (cfg_.tFAW > 0) act = std::max(act, ch.acts[ch.act_next] + cfg_.tFAW);
    ch.acts[ch.act_next] = act;
    ch.act_next = (ch.act_next + 1) % 4;
    ch.last_act = act;
    ch.last_act_group = w.group;
    ++stats_.activates;
    int64_t& closed = stats_.closed_since[size_t(&ch - channels_.data())];
    if (closed >= 0) stats_.precharged_cycles += std::max<int64_t>(0, act - closed), closed = -1;
    bank.open_row = row;
    bank.act = act;
    cas = act + cfg_.tRCD;
  }
  const int64_t latency = write ? write_latency_ : cfg_.CL;
  cas = std::max({cas, ch.last_cas + cfg_.tCCD, ch.bus_free - latency});
  if (cfg_.bank_groups > 1 && cfg_.tCCD_L > 0)
    cas = std::max(cas, ch.group_cas[w.group] + cfg_.tCCD_L);
  // Bus turnaround: a write waits tRTW after a read command; a read waits tWTR after the end of
  // the write data (tWTR_L within the same bank group).
  if (write && cfg_.tRTW > 0) cas = std::max(cas, ch.last_read_cas + cfg_.tRTW);
  if (!write && cfg_.tWTR > 0) {
    const bool same = cfg_.bank_groups > 1 && ch.last_write_group == w.group;
    cas = std::max(cas, ch.last_write_end + (same && cfg_.tWTR_L > 0 ? cfg_.tWTR_L : cfg_.tWTR));
  }
  const int dir = write ? 2 : 1;
  if (ch.last_dir != 0 && ch.last_dir != dir) ++stats_.turnarounds;
  ch.last_dir = dir;
  const int64_t data_end = cas + latency + cfg_.burst_length / 2;
  if (write) {
    ch.last_write_end = data_end;
    ch.last_write_group = w.group;
    bank.write_end = data_end;
  } else {
    ch.last_read_cas = cas;
  }
  ch.group_cas[w.group] = cas;
  ch.last_cas = cas;
  ch.bus_free = data_end;
  bank.ready = cas + 1;
  ++stats_.bursts;
  ++(write ? stats_.write_bursts : stats_.read_bursts);
  stats_.data_cycles += cfg_.burst_length / 2;
  if (EventSink* ev = EventSink::current())  // the timeline: the burst's data on the bus
    ev->dram_burst(int(&ch - channels_.data()), cas + cfg_.CL, data_end, 1, burst_bytes_);
  // An in-order controller sees the next request once this one has issued its column command.
  order_ = cas;
  return data_end;
}

void Dram::close_all(Channel& ch, int64_t at) {
  for (Bank& b : ch.banks)
    if (b.open_row >= 0) ++stats_.precharges, b.open_row = -1;
  int64_t& closed = stats_.closed_since[size_t(&ch - channels_.data())];
  if (closed < 0) closed = at;
}

int64_t Dram::page_hits(uint64_t addr, int64_t n, bool write, int64_t& end) {
  // With bank groups consecutive bursts change bank; burst() places each of them.
  if (cfg_.bank_groups > 1) return 0;
  const Where w = locate(addr);
  Channel& ch = *w.ch;
  Bank& bank = *w.bank;
  const int64_t step = std::max<int64_t>({1, cfg_.tCCD, cfg_.burst_length / 2});
  const int64_t latency = write ? write_latency_ : cfg_.CL;
  const int64_t c = ch.last_cas;
  // burst() would start a refresh before a burst once the previous one's data reaches it.
  const int64_t room = ch.next_refresh - (c + latency + cfg_.burst_length / 2) - 1;
  if (room < 0 || bank.ready != c + 1 || order_ != c) return 0;
  // Only a run in the direction of the previous burst is free of turnaround.
  if (ch.last_dir != (write ? 2 : 1)) return 0;
  const int64_t k = std::min(n, room / step + 1);
  const int64_t cas = c + k * step;
  ch.last_cas = cas;
  ch.group_cas[w.group] = cas;
  ch.bus_free = cas + latency + cfg_.burst_length / 2;
  if (write) {
    ch.last_write_end = ch.bus_free;
    bank.write_end = ch.bus_free;
  } else {
    ch.last_read_cas = cas;
  }
  bank.ready = cas + 1;
  order_ = cas;
  stats_.bursts += k;
  (write ? stats_.write_bursts : stats_.read_bursts) += k;
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
      end = std::max(end, burst(order_ > t ? order_ : t, a, write));
      t = order_;
      a += bb;
      // The rest of this page's bursts in the run are hits: place them in bulk.
      const uint64_t page_end = (a / uint64_t(cfg_.row_bytes) + 1) * uint64_t(cfg_.row_bytes);
      const int64_t same_page =
          int64_t((std::min(a1, page_end) - std::min(a, std::min(a1, page_end)) + bb - 1) / bb);
      if (same_page > 0 && a % uint64_t(cfg_.row_bytes) != 0) {
        const int64_t done = page_hits(a, same_page, write, end);
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
