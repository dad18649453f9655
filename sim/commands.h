// The subcommands behind the command line (docs/cli.md). Each returns the exit code:
// 0 success, 1 the run finished but something failed, 2 bad usage or input. Bad input may also be
// thrown as msq::InputError, which cli_main reports and maps to 2.
#pragma once

#include <string>
#include <vector>

namespace msq {

// What `run` checks before it simulates and `validate` checks instead of simulating.
struct DesignOptions {
  std::string config;
  std::vector<std::string> sets;  // KEY=VALUE overrides by dotted path
  bool verify = true;             // --no-verify clears it
  bool allow_overfull = false;    // go on with a design that does not fit the device (warned)
  bool fail_on_overflow = false;  // exit 1 on accumulator overflows (or, without values, risk)
};

struct RunOptions : DesignOptions {
  std::string json, csv;                     // report files ("" = none)
  std::string timeline;                      // trace-event JSON of the blocks' activity ("" = none)
  std::string vcd;                           // the same activity as a Value Change Dump ("" = none)
  std::vector<std::string> timeline_layers;  // layer names or globs to keep (empty: all)
  std::string eval;         // float images to compare the integer and float networks on ("" = none)
  std::string eval_labels;  // their class labels ("" = none)
};
int cmd_run(const RunOptions& o);

struct ValidateOptions : DesignOptions {};
int cmd_validate(const ValidateOptions& o);

struct Design;
struct FaultInjection;
// Loads CONFIG, builds and plans its workload and estimates the design's resources, exactly as a
// run does before it simulates, and reads MSQSIM_FAULT. Bad input, a layer the design cannot run
// or a bad MSQSIM_FAULT throw InputError (exit 2), naming the config or the variable.
void check_design(const DesignOptions& o, Design& d, FaultInjection& fault);
// Whether the design fits its device: 0 when it does or allow_overfull is on (then warned on
// stderr, naming each resource over and by how much), else 1 after saying why.
int check_fit(const DesignOptions& o, const Design& d);

struct SweepOptions {
  std::string sweep;
  int jobs = 0;       // 0 = number of cores
  std::string shard;  // "I/N", "" = all
  std::string out;    // CSV ("" = <sweep name>.csv in the working directory)
  std::string jsonl;  // JSON lines ("" = none)
  bool resume = false;
  std::vector<std::string> merge;  // shard CSVs to merge into `out` instead of running
  // Seconds per point, 0 = none. The default is far above any one point of the shipped workloads
  // (docs/sweeps.md), so that only a hung worker reaches it; optimize uses it too.
  double timeout_s = 600;
};
int cmd_sweep(const SweepOptions& o);

struct OptimizeOptions {
  std::string config;
  std::vector<std::string> sets;
  int jobs = 0;
  std::string out;  // the best design as a config ("" = none)
  std::string csv;  // every evaluated point, sweep CSV columns ("" = none)
  // No resource (LUT, FF, DSP, BRAM36) above this share of the device: designs near 100% do not
  // close timing.
  double max_share = 0.85;
  // Simulations at most; a space that fits is simulated whole (docs/optimize.md).
  int budget = 500;
  // Axis values replacing the defaults ("" = default): "lut_sp2+dsp48,...", "16x16,8x32",
  // "32/64/32,...", "0.25,0.5", "4,8,16" (vector lanes; default: the config's only).
  std::string engines, lut_shapes, dsp_shapes, buffer_splits, sp2_fractions, vector_lanes;
  // One engine's shapes each, "NAME=16x16,8x32" (before --lut-shapes/--dsp-shapes).
  std::vector<std::string> engine_shapes;
  // What "best" means: latency (most frames/s), energy (least J/frame) or edp (least energy x
  // latency per frame).
  std::string objective = "latency";
};
int cmd_optimize(const OptimizeOptions& o);

struct RegressOptions {
  std::vector<std::string> dirs;
  std::string config;  // accelerator config for traces whose manifest has none
  bool update = false;
};
int cmd_regress(const RegressOptions& o);

struct TraceRecordOptions {
  std::string config;
  std::vector<std::string> sets;
  std::string out;
};
int cmd_trace_record(const TraceRecordOptions& o);

}  // namespace msq
