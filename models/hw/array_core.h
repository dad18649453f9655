// What the LUT and DSP engines share: the job loop. For each step of each layer an engine waits
// for its weights, the step's input tile and (first k tile) its output tile, computes the values
// of each row block when verification is on, and waits the cycles the block takes. It records
// busy cycles and, for every wait, its cause.
#pragma once

#include <systemc>

#include "models/buffer.h"
#include "models/hw/engine.h"
#include "models/scheduler.h"

namespace msq {

class ArrayCore : public sc_core::sc_module, public Engine {
 public:
  ArrayCore(sc_core::sc_module_name name, Fabric& fabric, CoreId id, Buffer& weights);

  CoreId slot() const override { return id_; }

 protected:
  Fabric& f_;
  CoreId id_;

 private:
  void main();
  Buffer& weights_;
};

}  // namespace msq
