#include "models/hw/engines/lut_sp2_bitserial/lut_sp2_bitserial.h"

#include <algorithm>

#include "models/arith/accumulator.h"

namespace msq {

namespace {
int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}
constexpr int64_t NB = InputTileValues::kNB;
}  // namespace

int64_t bitserial_job_cycles(const LutCoreConfig& c, int64_t tn, int64_t tk, int digits) {
  return ceil_div(tn, c.cols) * tk * digits + c.pipeline_depth;
}

const std::vector<DigitList>& sp2_digit_table(int bits) {
  static std::vector<DigitList> tables[9];
  std::vector<DigitList>& t = tables[bits];
  if (t.empty()) {
    const Sp2Format f(bits);
    t.resize(size_t(2 * f.max_level() + 1));
    for (int32_t w : sp2_levels(f)) t[size_t(w + f.max_level())] = sp2_digits(f, sp2_encode(f, w));
  }
  return t;
}

int bitserial_block_digits(const QuantLayer& L, const std::vector<int32_t>& rows) {
  if (L.weights.empty()) return 2;
  const int64_t K = L.shape.k();
  int most = 1;
  for (int32_t m : rows) {
    const std::vector<DigitList>& table = sp2_digit_table(L.bits[m]);
    const int32_t top = Sp2Format(L.bits[m]).max_level();
    const int32_t* w = L.row(m);
    for (int64_t k = 0; k < K && most < 2; ++k) most = std::max(most, table[size_t(w[k] + top)].n);
    if (most == 2) break;  // no SP2 weight has more
  }
  return most;
}

void BitSerialTables::load(const QuantLayer& L, const std::vector<RowBlock>& blocks) {
  K = L.shape.k();
  digits.assign(size_t(L.shape.m() * K), DigitList{});
  for (const RowBlock& b : blocks)
    for (int32_t m : b.rows) {
      const std::vector<DigitList>& table = sp2_digit_table(L.bits[m]);
      const int32_t top = Sp2Format(L.bits[m]).max_level();
      const int32_t* w = L.row(m);
      DigitList* d = digits.data() + int64_t(m) * K;
      for (int64_t k = 0; k < K; ++k) d[k] = table[size_t(w[k] + top)];
    }
}

namespace {

// One row over the tile. Where no partial sum can overflow, each digit's shifted activation is
// added straight into 64-bit sums (any grouping gives the same value); otherwise each product is
// formed digit by digit in the product register and added into the finite accumulator, in k order.
template <typename XT>
void row_values(const DigitList* dig, const InputTileValues& x, int g, int64_t tk, bool safe,
                const AccSpec& spec, int64_t* a, uint64_t& overflows) {
  const int64_t tn = x.tn;
  for (int64_t nb = 0; nb < x.nblocks; ++nb) {
    const int64_t n0 = nb * NB, cols = std::min(NB, tn - n0);
    const XT* X = x.block<XT>(g, nb);
    if (safe) {
      int64_t s[NB] = {};
      for (int64_t k = 0; k < tk; ++k) {
        const DigitList& dl = dig[k];
        const XT* xk = X + k * NB;
        for (int i = 0; i < dl.n; ++i) {
          const int sh = dl.d[i].shift;
          const int64_t neg = dl.d[i].neg ? -1 : 0;
          for (int64_t n = 0; n < NB; ++n) s[n] += ((int64_t(xk[n]) << sh) ^ neg) - neg;
        }
      }
      for (int64_t n = 0; n < cols; ++n) a[n0 + n] += s[n];
    } else {
      for (int64_t k = 0; k < tk; ++k) {
        const DigitList& dl = dig[k];
        const XT* xk = X + k * NB;
        for (int64_t n = 0; n < cols; ++n)
          a[n0 + n] = acc_add(spec, a[n0 + n], digit_serial_product(dl, xk[n]), overflows);
      }
    }
  }
}

}  // namespace

void bitserial_block_values(const BitSerialTables& t, const QuantLayer& L,
                            const std::vector<int8_t>& row_sum_bits,
                            const std::vector<int32_t>& rows, int64_t k0, int64_t tk, bool first_k,
                            const InputTileValues& x, int64_t* acc, uint64_t& overflows) {
  const int64_t tn = x.tn;
  const AccSpec spec{L.acc_bits, L.overflow};
  for (int32_t m : rows) {
    int64_t* a = acc + int64_t(m) * tn;
    if (first_k)
      for (int64_t n = 0; n < tn; ++n) a[n] = acc_load(spec, L.bias[m], overflows);
    const int g = L.shape.groups == 1 ? 0 : int(m / L.shape.rows_per_group());
    const bool safe = !row_sum_bits.empty() && row_sum_bits[size_t(m)] != 0;
    const DigitList* dig = t.digits.data() + int64_t(m) * t.K + k0;
    if (L.act_bits <= 8)
      row_values<uint8_t>(dig, x, g, tk, safe, spec, a, overflows);
    else
      row_values<uint16_t>(dig, x, g, tk, safe, spec, a, overflows);
  }
}

LutBitSerialCore::LutBitSerialCore(sc_core::sc_module_name name, Fabric& fabric, CoreId slot,
                                   Buffer& weights, const LutCoreConfig& cfg)
    : ArrayCore(name, fabric, slot, weights), cfg_(cfg) {}

std::unique_ptr<Engine> make_lut_sp2_bitserial(const char* name, const EngineContext& ctx) {
  return std::make_unique<LutBitSerialCore>(name, ctx.fabric, ctx.slot, ctx.weights,
                                            ctx.accel.lut_core);
}

EngineCaps LutBitSerialCore::caps() const {
  EngineCaps c;
  c.sp2 = true;
  c.min_bits = 3;
  // The digit word's 3-bit shift reaches 7: SP2 rows up to 7 bits (F = 7, shifts 0..6).
  c.max_bits = 7;
  return c;
}

int64_t LutBitSerialCore::peak_macs_per_cycle() const {
  return int64_t(cfg_.rows) * cfg_.cols;
}

int64_t LutBitSerialCore::job_cycles(const LayerRun& run, const RowBlock& b, int64_t tn,
                                     int64_t tk) const {
  auto it = digits_.find(&b);
  if (it == digits_.end())
    it = digits_.emplace(&b, bitserial_block_digits(*run.layer, b.rows)).first;
  return bitserial_job_cycles(cfg_, tn, tk, it->second);
}

void LutBitSerialCore::load_layer(const LayerRun& run) {
  t_.load(*run.layer, run.plan.blocks(id_));
}

void LutBitSerialCore::compute(LayerRun& run, const RowBlock& b, const Step& st,
                               const InputTileValues& x, OutputTileValues& acc) {
  bitserial_block_values(t_, *run.layer, run.plan.row_sum_bits, b.rows,
                         int64_t(st.kt) * run.plan.tk, st.tk, st.kt == 0, x, acc.acc.data(),
                         run.overflows);
}

}  // namespace msq
