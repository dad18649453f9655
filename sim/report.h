// The reporter: one place that turns a session's statistics into the terminal table, the JSON
// report (docs/report.md) and the per-layer CSV.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "sim/session.h"

namespace msq {

struct Totals {
  int64_t cycles = 0, macs = 0, dram_bytes = 0;
  double latency_ms = 0, gops = 0, frames_per_s = 0;
  double lut_util = 0, dsp_util = 0;  // busy share: busy cycles / cycles (the contract's)
  int64_t core_macs[2] = {0, 0};      // MACs each core executed
  // MAC utilization: MACs / (cycles x peak MACs per cycle) per core, and all MACs over the sum
  // of both peaks (docs/report.md).
  double lut_mac_util = 0, dsp_mac_util = 0, mac_util = 0;
};
Totals totals(const Session& s);
// MACs / (cycles x peak MACs per cycle); 0 without cycles or peak.
double mac_utilization(int64_t macs, int64_t cycles, int64_t peak_per_cycle);
// The report's `total` object.
nlohmann::json totals_json(const Session& s);

// `resources` is the resources object to include (null: none computed).
nlohmann::json report_json(const Session& s, const nlohmann::json& resources);
std::string report_csv(const Session& s);
void print_report(std::ostream& out, const Session& s, const nlohmann::json& resources);

// The accumulator's line of the terminal report: its width, the widest sum a row needs, the rows
// at risk and (with values) the overflows counted. `overflows` is null when no value was computed.
std::string accumulator_summary(const Workload& wl, const std::vector<OverflowRisk>& risk,
                                const std::vector<uint64_t>* overflows);
// A one-line warning (no newline) when any overflow was counted or any row is at risk, naming the
// worst layers; "" otherwise. `overflows` as above.
std::string overflow_warning(const Workload& wl, const std::vector<OverflowRisk>& risk,
                             const std::vector<uint64_t>* overflows);
// The per-layer overflow counts of the cycle model (meaningful only when s.verified).
std::vector<uint64_t> layer_overflows(const Session& s);
// The resources line of the terminal report ("lut 121872/218600 (56%) ff ...").
std::string resources_summary(const nlohmann::json& resources);

}  // namespace msq
