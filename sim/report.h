// The reporter: one place that turns a session's statistics into the terminal table, the JSON
// report (docs/report.md) and the per-layer CSV.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "sim/session.h"

namespace msq {

struct Totals {
  int64_t cycles = 0, macs = 0, dram_bytes = 0;
  double latency_ms = 0, gops = 0, frames_per_s = 0;
  // Per engine slot: busy cycles, MACs executed, busy share (busy / cycles) and MAC utilization
  // (MACs / (cycles x peak MACs per cycle), docs/report.md).
  std::vector<int64_t> busy, engine_macs;
  std::vector<double> util, mac_util_of;
  int64_t peak = 0;  // all engines' peak MACs per cycle
  // The contract's two engines (contract_engines()), -1 when the design has none of the kind,
  // and their figures (0 then).
  int lut = -1, dsp = -1;
  double lut_util = 0, dsp_util = 0, lut_mac_util = 0, dsp_mac_util = 0;
  int64_t core_macs[2] = {0, 0};
  double mac_util = 0;  // all MACs over the sum of every engine's peak
};
// The engines behind the contract's lut_core_* and dsp_core_* fields: the engines named lut_core
// and dsp_core, else the first engine built for SP2 rows and the first other engine built for
// fixed-point rows; -1 when there is none (docs/report.md).
std::pair<int, int> contract_engines(const SimResult& r);
Totals totals(const Session& s);
// MACs / (cycles x peak MACs per cycle); 0 without cycles or peak.
double mac_utilization(int64_t macs, int64_t cycles, int64_t peak_per_cycle);
// The report's `total` object.
nlohmann::json totals_json(const Session& s);

// `resources` is the resources object to include (null: none computed).
nlohmann::json report_json(const Session& s, const nlohmann::json& resources);
std::string report_csv(const Session& s);
// The blocks' statistics (SimResult::stats) as the report's `stats` object, block -> counter ->
// {value, unit}: for `layer`, or in total when layer < 0.
nlohmann::json stats_json(const std::vector<StatGroup>& groups, int layer);
// The one walk over the blocks' counters that the JSON, the CSV and the terminal use: each
// counter of each group, in order, with its value for `layer` (in total when layer < 0).
using StatVisitor =
    std::function<void(const std::string& block, const StatGroup::Counter& c, int64_t value)>;
void walk_stats(const std::vector<StatGroup>& groups, int layer, const StatVisitor& visit);
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
