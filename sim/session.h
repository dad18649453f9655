// One run of a config, as `run`, `trace record` and sweep workers do it: build the quantized
// workload, simulate it on the cycle model, cross-check every output with the functional model.
#pragma once

#include <vector>

#include "models/accelerator.h"
#include "models/config.h"
#include "models/layer.h"
#include "sim/verify.h"

namespace msq {

struct SessionOptions {
  bool verify = true;  // compute values and cross-check them; false: timing only
  FaultInjection fault;
  bool keep_expected = false;  // keep the functional model's outputs (trace record)
};

struct Session {
  RunConfig cfg;
  Workload wl;
  SimResult sim;
  bool verified = false;
  std::vector<LayerVerify> verify;  // per layer, when verified
  std::vector<OutTensor> expected;  // per layer, when keep_expected
  int64_t outputs_checked = 0, mismatches = 0, overflow_mismatches = 0;
  double seconds_build = 0, seconds_simulate = 0, seconds_verify = 0;
};

// Throws InputError for a design or workload that cannot run.
Session run_session(const RunConfig& cfg, const SessionOptions& o);

// The network's layer shapes for a config (workload.network, batch, layer selection).
std::vector<LayerShape> session_shapes(const RunConfig& cfg);

}  // namespace msq
