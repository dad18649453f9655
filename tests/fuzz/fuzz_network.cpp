// Network loader (sim/config_loader.h load_network): every input is read both as a network YAML
// and as a SCALE-Sim topology CSV (the loader picks the format by the extension).
#include "sim/config_loader.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace msq;
  const std::string in = fuzz::text(data, size);
  for (const char* name : {"net.yaml", "net.csv"}) {
    WorkloadConfig w;
    w.network_path = fuzz::put(name, in);
    fuzz::expect_user_errors([&] { load_network(w); });
  }
  return 0;
}
