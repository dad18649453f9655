// Energy cost file loader (models/cost/energy.h load_energy_costs).
// Property: a file that loads gives every coefficient within its range and a non-empty source.
#include "models/cost/energy.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace msq;
  const std::string path = fuzz::put("costs.yaml", fuzz::text(data, size));
  fuzz::expect_user_errors([&] {
    const EnergyCoefficients c = load_energy_costs(path);
    for (const EnergyKey& k : energy_keys()) {
      const double v = c.*(k.member);
      if (!(v >= k.lo && v <= k.hi))
        fuzz::property_failed(k.path() + " loaded out of its range");
      const auto s = c.source.find(k.path());
      if (s == c.source.end() || s->second.empty())
        fuzz::property_failed(k.path() + " loaded without a source");
    }
  });
  return 0;
}
