#include "sim/session.h"

#include <chrono>

#include "models/workload_builder.h"
#include "sim/config_loader.h"

namespace msq {

namespace {
double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

std::vector<LayerShape> session_shapes(const RunConfig& cfg) {
  // The whole network: the builder selects workload.layers itself, seeding each layer by its
  // place in the network so that a layer's data does not depend on which others run.
  WorkloadConfig all = cfg.workload;
  all.layers.clear();
  return load_network(all);
}

Session run_session(const RunConfig& cfg, const SessionOptions& o) {
  Session s;
  s.cfg = cfg;
  auto t0 = std::chrono::steady_clock::now();
  s.wl = build_workload(cfg.workload.network, session_shapes(cfg), cfg.workload,
                        cfg.accelerator.accumulator, o.verify);
  s.seconds_build = since(t0);

  t0 = std::chrono::steady_clock::now();
  SimOptions so;
  so.values = o.verify;
  so.fault = o.fault;
  s.sim = simulate(cfg, s.wl, so);
  s.seconds_simulate = since(t0);

  if (o.verify) {
    t0 = std::chrono::steady_clock::now();
    s.verified = true;
    for (size_t l = 0; l < s.wl.layers.size(); ++l) {
      OutTensor ref;
      LayerVerify v = verify_layer(s.wl.layers[l], s.wl.inputs[l], s.sim.layers[l].out,
                                   s.sim.layers[l].overflows, o.keep_expected ? &ref : nullptr);
      s.outputs_checked += v.checked;
      s.mismatches += v.mismatches;
      s.overflow_mismatches += v.expected_overflows != v.got_overflows;
      s.verify.push_back(std::move(v));
      if (o.keep_expected) s.expected.push_back(std::move(ref));
    }
    s.seconds_verify = since(t0);
  }
  return s;
}

}  // namespace msq
