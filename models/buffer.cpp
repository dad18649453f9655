#include "models/buffer.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace msq {

Buffer::Buffer(sc_core::sc_module_name name, int64_t capacity_bytes)
    : sc_module(name), stats_(basename()), capacity_(capacity_bytes) {
  using U = StatGroup::Unit;
  read_bytes_ = stats_.define("read_bytes", U::Bytes, "bytes read out");
  write_bytes_ = stats_.define("write_bytes", U::Bytes, "bytes written in");
  reads_ = stats_.define("reads", U::Count, "read transactions (a job's operands, a DMA store)");
  writes_ = stats_.define("writes", U::Count, "write transactions (a DMA load, a job's results)");
  bram_reads_ = stats_.define("bram_reads", U::Count,
                              "BRAM36 port reads of 64 data bits (one per BRAM36 a word spans)");
  bram_writes_ = stats_.define("bram_writes", U::Count,
                               "BRAM36 port writes of 64 data bits (one per BRAM36 a word spans)");
}

void Buffer::acquire(int64_t bytes) {
  if (bytes > capacity_)
    throw std::logic_error(std::string(name()) + ": a request of " + std::to_string(bytes) +
                           " bytes exceeds the capacity " + std::to_string(capacity_) +
                           " (the planner should have refused this tile)");
  const uint64_t ticket = next_ticket_++;
  bool waited = false;
  while (serving_ != ticket || used_ + bytes > capacity_) {
    waited = true;
    sc_core::wait(changed_);
  }
  waits_ += waited;
  used_ += bytes;
  peak_ = std::max(peak_, used_);
  ++serving_;
  changed_.notify(sc_core::SC_ZERO_TIME);
}

void Buffer::release(int64_t bytes) {
  used_ -= bytes;
  changed_.notify(sc_core::SC_ZERO_TIME);
}

}  // namespace msq
