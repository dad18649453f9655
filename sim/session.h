// One run of a config, as `run`, `validate`, `trace record` and sweep workers do it: build the
// quantized workload, plan every layer and estimate the resources (all a run checks before it
// simulates, and all `validate` does), then simulate it on the cycle model and cross-check every
// output with the functional model.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "models/accelerator.h"
#include "models/config.h"
#include "models/graph/graph.h"
#include "models/layer.h"
#include "models/resource_model.h"
#include "models/tiler.h"
#include "sim/verify.h"

namespace msq {

struct ImportedNetwork;  // sim/onnx_network.h

// How close a layer's sums come to the accumulator's width, known before any value is computed.
// With the layer's weights the bound is exact per row: |bias| + max|x| * sum|w| (what the planner
// checks before it packs a row). Without them (a timing-only run) only each row's scheme and bit
// width are known: the data-type bound over K products, plus one bit for the bias.
struct OverflowRisk {
  int64_t rows = 0;     // rows whose worst-case partial sum does not fit the accumulator
  int bits_needed = 0;  // the widest accumulator any row of the layer needs
  bool from_weights = false;
};
OverflowRisk overflow_risk(const QuantLayer& layer);

struct SessionOptions {
  bool verify = true;  // compute values and cross-check them; false: timing only
  FaultInjection fault;
  bool keep_expected = false;   // keep the functional model's outputs (trace record)
  EventSink* events = nullptr;  // the timeline to fill (run --timeline), null: none
};

// A graph run's cross-check of one op's output tensor.
struct OpVerify {
  int64_t checked = 0, mismatches = 0;
  int b = 0, c = 0, h = 0, w = 0;  // the first differing value's coordinates
  int64_t expected = 0, got = 0;
};

// Everything a run decides before it simulates. Building it throws InputError for a workload or
// a design that cannot run (the layer and the buffer that is too small); whether it fits the
// device is for the caller to judge (`resources.fits()`).
struct Design {
  RunConfig cfg;
  Workload wl;
  bool values = false;             // weights and inputs built (verification on)
  std::vector<LayerPlan> plans;    // per layer, the planner's plan (as the simulation makes it)
  std::vector<OverflowRisk> risk;  // per layer
  ResourceEstimate resources;
  double seconds_build = 0, seconds_check = 0;  // building; planning and bounding the sums
  // A graph run (the network file is a graph and workload.layers is empty): the ops, their
  // layers being wl.layers (graph.layers stays empty), and with values the network input.
  bool graph_run = false;
  Graph graph;
  ActTensor graph_input;
  std::shared_ptr<const ImportedNetwork> imported;  // an ONNX network's graph, else null
};
// `layers_only`: run the network's layers each on its own seeded input even when the network is a
// graph (trace record: a version-1 trace holds independent layers).
Design prepare_design(const RunConfig& cfg, bool values, const ResourceCosts& costs,
                      bool layers_only = false);

struct Session {
  RunConfig cfg;
  Workload wl;
  SimResult sim;
  bool verified = false;
  std::vector<OverflowRisk> risk;   // per layer
  std::vector<LayerVerify> verify;  // per layer, when verified
  std::vector<OutTensor> expected;  // per layer, when keep_expected
  int64_t outputs_checked = 0, mismatches = 0, overflow_mismatches = 0;
  bool graph_run = false;
  Graph graph;
  std::vector<OpVerify> op_verify;  // graph runs: by op, when verified
  int first_bad_op = -1;            // graph runs: the first op (graph order) whose tensor differs
  std::vector<OutTensor> expected_tensors;  // graph runs with keep_expected: by tensor id
  ActTensor graph_input;                    // graph runs with values: the network input
  double seconds_build = 0, seconds_check = 0, seconds_simulate = 0, seconds_verify = 0;
  std::shared_ptr<const ImportedNetwork> imported;  // an ONNX network's graph, else null
};

// Simulates a prepared design (o.verify must not ask for values the design was built without).
// Throws InputError for a design that cannot run.
Session simulate_design(Design&& d, const SessionOptions& o);

// Builds and simulates in one go, without the resource estimate: sweep workers and trace record.
Session run_session(const RunConfig& cfg, const SessionOptions& o, bool layers_only = false);

// "op NAME (KIND) tensor NAME at (b B, c C, h H, w W): expected X, got Y" for a graph run's first
// differing tensor.
std::string describe_first_bad(const Session& s);

// The network's layer shapes for a config (workload.network, batch, layer selection).
std::vector<LayerShape> session_shapes(const RunConfig& cfg);

// MSQSIM_FAULT=LAYER:ROW:COLUMN (a testing aid: flip a bit of one output of the cycle model to see
// the cross-check catch it), resolved against the layers a design runs. Nothing set: no fault.
// A malformed value, an unknown layer, a row or a column out of range, or a run that computes no
// values throws InputError naming the variable and the valid range.
FaultInjection fault_from_env(const Design& d);

}  // namespace msq
