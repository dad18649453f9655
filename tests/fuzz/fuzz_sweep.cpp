// Sweep loader (sim/sweep.h): every input is read as a sweep file (load_sweep, which also loads
// its base config, relative to the sweep file: "../examples/default.yaml" resolves into
// configs/) and as a results CSV (read_sweep_csv, as --resume and --merge read it), whose rows
// then go through the summary's sorting and Pareto selection.
#include <cstddef>
#include <vector>

#include "sim/sweep.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace msq;
  const std::string in = fuzz::text(data, size);
  const std::string sweep = fuzz::put("sweep.yaml", in);
  fuzz::expect_user_errors([&] {
    const SweepSpec s = load_sweep(sweep);
    const size_t n = sweep_size(s);
    if (n > 0) {
      point_sets(s, 0);
      point_sets(s, n - 1);
    }
  });
  const std::string csv = fuzz::put("results.csv", in);
  fuzz::expect_user_errors([&] {
    SweepTable t = read_sweep_csv(csv, true);
    sort_rows(t, csv);
    // The summary only sees files whose header is a sweep's (the CLI checks it first): id,
    // status, the axis keys, then the value columns.
    const size_t fixed = sweep_header({}).size();
    if (t.header.size() < fixed) return;
    const std::vector<std::string> keys(t.header.begin() + 2,
                                        t.header.end() - std::ptrdiff_t(fixed - 2));
    if (sweep_header(keys) != t.header) return;
    pareto_rows(t);
    best_rows(t);
  });
  return 0;
}
