// The LUT core: rows x cols SP2 processing elements, output-stationary. PE (r, c) holds the sum
// of weight row r and output column c; each cycle it takes one activation, shifts it by the two
// exponents of the weight's SP2 code, adds the two and accumulates into its acc_bits register.
// A job (a block of at most `rows` rows over tn columns and tk steps) takes
// ceil(tn / cols) * tk cycles plus the pipeline depth.
#pragma once

#include <vector>

#include "models/arith/sp2.h"
#include "models/array_core.h"

namespace msq {

class LutCore : public ArrayCore {
 public:
  // A weight as the PE's shifters see it: the two shift amounts (-1: that term is off) and the
  // sign, decoded from the SP2 code held in the weight buffer.
  struct Shifts {
    int8_t s1 = -1, s2 = -1;
    bool neg = false;
  };

  LutCore(sc_core::sc_module_name name, Fabric& fabric, Buffer& weights, const LutCoreConfig& cfg);

 protected:
  int64_t job_cycles(const LayerRun& run, const RowBlock& b, int64_t tn, int64_t tk) const override;
  void load_layer(const LayerRun& run) override;
  void compute(LayerRun& run, const RowBlock& b, const Step& st, const InputTileValues& x,
               OutputTileValues& acc) override;

 private:
  LutCoreConfig cfg_;
  std::vector<std::vector<Shifts>> rows_;  // by layer row (only this core's rows filled)
  std::vector<int> row_acc_;                // per row: 32 or 64 when no sum can overflow, else 0
  std::vector<int32_t> sum32_;
  std::vector<int64_t> sum64_;
};

}  // namespace msq
