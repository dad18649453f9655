// The LUT core: rows x cols SP2 processing elements, output-stationary. PE (r, c) holds the sum
// of weight row r and output column c; each cycle it takes one activation, shifts it by the two
// exponents of the weight's SP2 code, adds the two and accumulates into its acc_bits register.
// A job (a block of at most `rows` rows over tn columns and tk steps) takes
// ceil(tn / cols) * tk cycles plus the pipeline depth.
#pragma once

#include <vector>

#include "models/arith/accumulator.h"
#include "models/arith/sp2.h"
#include "models/array_core.h"

namespace msq {

class LutCore : public ArrayCore {
 public:
  // A weight as the PE's shifters see it, decoded from the SP2 code in the weight buffer: the
  // two shift amounts, an enable mask per term (all ones or zero: e = 0 switches a term off) and
  // the sign as a mask (all ones: negate).
  struct Shifts {
    int32_t s1 = 0, s2 = 0, en1 = 0, en2 = 0, neg = 0;
    // The same for 16-bit shifters: a term that is off shifts by 16, which leaves nothing.
    int32_t c1 = 16, c2 = 16;
    // Byte offsets of the two signed terms among the values a column's shifters produce for one k
    // (see kTermBytes in lut_core.cpp): entry s * (e1_max + 1) + e holds (-1)^s * (x << (F - e)),
    // entry e = 0 holds 0.
    uint16_t o1 = 0, o2 = 0;
  };

  LutCore(sc_core::sc_module_name name, Fabric& fabric, Buffer& weights, const LutCoreConfig& cfg);

 protected:
  int64_t job_cycles(const LayerRun& run, const RowBlock& b, int64_t tn, int64_t tk) const override;
  void load_layer(const LayerRun& run) override;
  void compute(LayerRun& run, const RowBlock& b, const Step& st, const InputTileValues& x,
               OutputTileValues& acc) override;

 private:
  // One row over the tile by the kernel its sums need (rows that do not share shifter outputs).
  void row_values_any(const QuantLayer& L, int32_t m, int g, const InputTileValues& x, int64_t tk,
                      const uint8_t* code, const AccSpec& spec, int64_t* a,
                      uint64_t& overflows) const;

  LutCoreConfig cfg_;
  std::vector<uint8_t> codes_;      // [M][K] SP2 code words of this core's rows
  std::vector<Shifts> decode_[9];   // by bit width: code word -> shifter controls
  std::vector<uint8_t> encode_[9];  // by bit width: level + 2^F -> code word
  // Per row: the width of the sums where no sum can overflow (16: runs of row_chunk_ terms in
  // 16-bit lanes, 32, 64), else 0 (the finite register, addition by addition).
  std::vector<int> row_acc_, row_chunk_;
};

}  // namespace msq
