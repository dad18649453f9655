// An on-chip buffer of BRAM36 blocks, modelled as a pool of bytes: a DMA load takes the bytes of
// its tile before it starts and the consumer gives them back when done. With tiles of at most half
// the capacity, the next tile loads while the current one is used (double buffering); a load that
// finds the buffer full waits, in arrival order.
#pragma once

#include <systemc>

#include "models/stats/stat_group.h"

namespace msq {

// One BRAM access: one read or write of one BRAM36's 72-bit port. The buffers use a BRAM36 as
// 512 x 64 (kBram36DataBytes, the parity bits unused), so an access moves 64 data bits; a wider
// word is read or written by several BRAM36s side by side, one access each (docs/energy.md).
constexpr int64_t kBramWordBits = 64;
inline int64_t bram_words(int64_t bits) {
  return (bits + kBramWordBits - 1) / kBramWordBits;
}

class Buffer : public sc_core::sc_module {
 public:
  Buffer(sc_core::sc_module_name name, int64_t capacity_bytes);

  void acquire(int64_t bytes);  // blocks the calling thread until the bytes are free
  void release(int64_t bytes);

  int64_t capacity() const { return capacity_; }
  int64_t peak_used() const { return peak_; }
  int64_t waits() const { return waits_; }

  // A transaction of the block that reads or writes the buffer (a DMA load, an engine's job),
  // counted per transaction for `layer`: its bytes and the BRAM accesses (bram_words) it takes,
  // which the block that performs it works out from its own dataflow.
  void read(int64_t bytes, int64_t accesses, int layer) {
    stats_.add(read_bytes_, bytes, layer);
    stats_.add(reads_, 1, layer);
    stats_.add(bram_reads_, accesses, layer);
  }
  void write(int64_t bytes, int64_t accesses, int layer) {
    stats_.add(write_bytes_, bytes, layer);
    stats_.add(writes_, 1, layer);
    stats_.add(bram_writes_, accesses, layer);
  }
  const StatGroup& stat_group() const { return stats_; }

 private:
  StatGroup stats_;
  int read_bytes_, write_bytes_, reads_, writes_, bram_reads_, bram_writes_;
  int64_t capacity_, used_ = 0, peak_ = 0, waits_ = 0;
  uint64_t next_ticket_ = 0, serving_ = 0;
  sc_core::sc_event changed_;
};

// A monotonic count that threads wait on ("tile q loaded", "tile t done by core c").
class Counter {
 public:
  int64_t value() const { return v_; }
  void add(int64_t d = 1) {
    v_ += d;
    ev_.notify(sc_core::SC_ZERO_TIME);
  }
  void wait_until(int64_t n) {
    while (v_ < n) sc_core::wait(ev_);
  }

 private:
  int64_t v_ = 0;
  sc_core::sc_event ev_;
};

}  // namespace msq
