// Run-config loader (sim/config_loader.h). The input is the config file; bytes after a NUL are
// --set overrides, one per NUL-separated piece, so that apply_set is fuzzed as well.
// Property: a config that loads, written back with config_to_yaml and loaded again, resolves to
// the same config (the contract of config_to_yaml).
#include <vector>

#include "sim/config_loader.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace msq;
  const std::string in = fuzz::text(data, size);
  const size_t nul = in.find('\0');
  std::vector<std::string> sets;
  for (size_t at = nul; at != std::string::npos && sets.size() < 8;) {
    const size_t next = in.find('\0', at + 1);
    sets.push_back(in.substr(at + 1, next == std::string::npos ? next : next - at - 1));
    at = next;
  }
  const std::string path = fuzz::put("config.yaml", in.substr(0, nul));
  fuzz::expect_user_errors([&] {
    const RunConfig c = load_run_config(path, sets);
    nlohmann::json first = config_to_json(c);
    const RunConfig again = load_run_config_node(config_to_yaml(c), path, fuzz::scratch(), {});
    nlohmann::json second = config_to_json(again);
    // `file` is the label of the source, the same here by construction. A network given by a
    // relative path is written back as its absolute path: the resolved network_path must agree.
    for (auto* j : {&first, &second}) (*j)["workload"].erase("network");
    if (first != second)
      fuzz::property_failed("config_to_yaml does not reload to the same config:\n" + first.dump() +
                            "\n" + second.dump());
  });
  return 0;
}
