// What the LUT and DSP cores share: the job loop. For each step of each layer a core waits for
// its weights, the step's input tile and (first k tile) its output tile, computes the values of
// each row block when verification is on, and waits the cycles the block takes. It records busy
// cycles and, for every wait, its cause.
#pragma once

#include <systemc>

#include "models/buffer.h"
#include "models/scheduler.h"

namespace msq {

class ArrayCore : public sc_core::sc_module {
 public:
  ArrayCore(sc_core::sc_module_name name, Fabric& fabric, CoreId id, Buffer& weights);

 protected:
  // Cycles of a job: block over tn columns and tk reduction steps.
  virtual int64_t job_cycles(const LayerRun& run, const RowBlock& b, int64_t tn,
                             int64_t tk) const = 0;
  // Values: called once per layer before its first job, then per job.
  virtual void load_layer(const LayerRun& run) = 0;
  virtual void compute(LayerRun& run, const RowBlock& b, const Step& st, const InputTileValues& x,
                       OutputTileValues& acc) = 0;

  Fabric& f_;
  CoreId id_;

 private:
  void main();
  Buffer& weights_;
};

}  // namespace msq
