// msqsim run: simulate a config, print the table, write the reports, exit 1 on any mismatch.
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "models/error.h"
#include "models/resource_model.h"
#include "sim/atomic_file.h"
#include "sim/commands.h"
#include "sim/config_loader.h"
#include "sim/report.h"
#include "sim/session.h"

namespace msq {

int cmd_run(const RunOptions& o) {
  RunConfig cfg = load_run_config(o.config, o.sets);
  cfg.verify = cfg.verify && o.verify;
  // The design must fit the device before its timing means anything.
  const ResourceEstimate est =
      estimate_resources(cfg, load_resource_costs(default_resource_costs_path()));
  if (!est.fits() && !o.allow_overfull) {
    std::cerr << "msqsim: " << o.config
              << ": the design does not fit the device: " << est.overfull_message()
              << " (run with --allow-overfull to simulate it anyway)\n";
    return 1;
  }
  SessionOptions so;
  so.verify = cfg.verify;
  // A testing aid (docs/cli.md): MSQSIM_FAULT=LAYER:ROW:COLUMN flips a bit of one output of the
  // cycle model, to show that the cross-check catches a corrupted value.
  if (const char* f = std::getenv("MSQSIM_FAULT")) {
    if (std::sscanf(f, "%d:%ld:%ld", &so.fault.layer, &so.fault.row, &so.fault.col) != 3)
      throw InputError(std::string("MSQSIM_FAULT: expected LAYER:ROW:COLUMN (got ") + f + ")");
  }
  Session s;
  try {
    s = run_session(cfg, so);
  } catch (const InputError& e) {
    // A design that cannot run a layer: say which config asked for it.
    throw InputError(o.config + ": " + e.what());
  }
  const nlohmann::json resources = resources_to_json(est);

  print_report(std::cout, s, resources);
  if (!o.json.empty()) write_file_atomic(o.json, report_json(s, resources).dump(2) + "\n");
  if (!o.csv.empty()) write_file_atomic(o.csv, report_csv(s));

  if (s.mismatches > 0 || s.overflow_mismatches > 0) {
    for (size_t l = 0; l < s.verify.size(); ++l) {
      const LayerVerify& v = s.verify[l];
      for (const Mismatch& m : v.first)
        std::cerr << "msqsim: verify: " << describe(s.wl.layers[l].shape.name, m) << "\n";
      if (v.mismatches > int64_t(v.first.size()))
        std::cerr << fmt::format("msqsim: verify: layer {}: {} more mismatches\n",
                                 s.wl.layers[l].shape.name, v.mismatches - int64_t(v.first.size()));
      if (v.expected_overflows != v.got_overflows)
        std::cerr << fmt::format(
            "msqsim: verify: layer {}: {} accumulator overflows, the functional model counts {}\n",
            s.wl.layers[l].shape.name, v.got_overflows, v.expected_overflows);
    }
    std::cerr << fmt::format("msqsim: verification failed: {} of {} outputs differ\n", s.mismatches,
                             s.outputs_checked);
    return 1;
  }
  return 0;
}

}  // namespace msq
