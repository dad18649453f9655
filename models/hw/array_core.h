// What the LUT and DSP engines share: the job loop. For each step of each layer an engine waits
// for its weights, the step's input tile and (first k tile) its output tile, computes the values
// of each row block when verification is on, and waits the cycles the block takes. It records
// busy cycles and, for every wait, its cause.
#pragma once

#include <systemc>

#include "models/buffer.h"
#include "models/hw/engine.h"
#include "models/hw/engine_registry.h"
#include "models/scheduler.h"

namespace msq {

class ArrayCore : public sc_core::sc_module, public Engine {
 public:
  ArrayCore(sc_core::sc_module_name name, const EngineContext& ctx);

  int slot() const override { return id_; }
  const char* engine_name() const override { return spec_.name.c_str(); }
  StatGroup& stat_group() override { return stats_; }
  // Counter ids of stat_group().
  struct Ids {
    int busy, jobs, macs, macs_sp2, macs_fixed, stall_dram, stall_buffer, stall_other;
  };
  const Ids& ids() const { return ids_; }

 protected:
  // The accumulator of this engine's registers on layer L: its own, else the layer's.
  AccSpec acc_spec(const QuantLayer& L) const {
    return spec_.own_accumulator ? AccSpec{spec_.accumulator.bits, spec_.accumulator.overflow}
                                 : AccSpec{L.acc_bits, L.overflow};
  }

  Fabric& f_;
  int id_;
  EngineSpec spec_;

 private:
  void main();
  Buffer& weights_;
  StatGroup stats_;
  Ids ids_;
};

}  // namespace msq
