// The subcommands behind the command line (docs/cli.md). Each returns the exit code:
// 0 success, 1 the run finished but something failed, 2 bad usage or input. Bad input may also be
// thrown as msq::InputError, which cli_main reports and maps to 2.
#pragma once

#include <string>
#include <vector>

namespace msq {

struct RunOptions {
  std::string config;
  std::vector<std::string> sets;  // KEY=VALUE overrides by dotted path
  std::string json, csv;          // report files ("" = none)
  bool verify = true;             // --no-verify clears it
  bool allow_overfull = false;    // run a design that does not fit the device
};
int cmd_run(const RunOptions& o);

struct ValidateOptions {
  std::string config;
  std::vector<std::string> sets;
};
int cmd_validate(const ValidateOptions& o);

struct SweepOptions {
  std::string sweep;
  int jobs = 0;       // 0 = number of cores
  std::string shard;  // "I/N", "" = all
  std::string out;    // CSV ("" = <sweep name>.csv in the working directory)
  std::string jsonl;  // JSON lines ("" = none)
  bool resume = false;
  std::vector<std::string> merge;  // shard CSVs to merge into `out` instead of running
};
int cmd_sweep(const SweepOptions& o);

struct OptimizeOptions {
  std::string config;
  std::vector<std::string> sets;
  int jobs = 0;
  std::string out;
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
