// What an engine can run, as the planner sees it before any engine is built (plain C++, no
// SystemC): the row schemes and bit widths it takes, which schemes it is built for, and whether it
// packs two rows per processing element. docs/config.md, "Engines", describes how rows are
// assigned from these.
#pragma once

#include <cstdint>

#include "models/layer.h"

namespace msq {

struct EngineCaps {
  bool sp2 = false;    // SP2 rows (shift-add, or as integer weights on a multiplier)
  bool fixed = false;  // fixed-point rows
  int min_bits = 1, max_bits = 8;
  bool packing = false;  // two rows per processing element when the layout allows it
  // The schemes the engine is built for. A row goes to the engines built for its scheme; an
  // engine that can run it without being built for it takes it only when accelerator.scheduler.
  // spill is on (or when no engine is built for the scheme).
  bool home_sp2 = false, home_fixed = false;

  bool can_run(uint8_t scheme, int bits) const {
    const bool s = scheme == uint8_t(Scheme::Sp2) ? sp2 : fixed;
    return s && bits >= min_bits && bits <= max_bits;
  }
  bool home(uint8_t scheme) const { return scheme == uint8_t(Scheme::Sp2) ? home_sp2 : home_fixed; }
};

}  // namespace msq
