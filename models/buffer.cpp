#include "models/buffer.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace msq {

Buffer::Buffer(sc_core::sc_module_name name, int64_t capacity_bytes)
    : sc_module(name), capacity_(capacity_bytes) {}

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
