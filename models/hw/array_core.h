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

// The BRAM accesses (bram_words) of one job of an output-stationary array: a row block of `rows`
// rows over tn columns and tk reduction steps, in ceil(tn / pass_cols) passes. In every pass each
// step reads the block's weights of that step as one word of weight_bits_per_k bits (again in
// every pass: a PE keeps its sum, not its weights) and the activations of the pass's columns as
// one word of act_bits each, one such word per group a grouped convolution's block holds (each
// array row reads its own group's). What a PE does with its operands within a step reads nothing
// more (the bit-serial PE's digits, a DSP slice's drains). Each column's results of the block's
// rows are written as one word of out_bits each, after its partial sums were read back as one
// word of partial_bits each when the job continues a sum (a k tile after the first).
struct JobBufferWords {
  int64_t weight_reads = 0, input_reads = 0, partial_reads = 0, output_writes = 0;
};
JobBufferWords job_buffer_words(int64_t rows, int64_t tn, int64_t tk, int64_t pass_cols,
                                int64_t weight_bits_per_k, int act_bits, int64_t groups,
                                int partial_bits, int out_bits, bool read_back);

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
  // The columns one pass of a job computes, each taking one activation per step: the array's
  // columns, unless the engine packs several columns into a PE (dsp48_actpack).
  virtual int64_t pass_columns(const LayerRun&, const RowBlock&, int64_t /*tn*/,
                               int64_t /*tk*/) const {
    return spec_.cols;
  }

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
