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
  double lut_util = 0, dsp_util = 0;
};
Totals totals(const Session& s);
// The report's `total` object.
nlohmann::json totals_json(const Session& s);

// `resources` is the resources object to include (null: none computed).
nlohmann::json report_json(const Session& s, const nlohmann::json& resources);
std::string report_csv(const Session& s);
void print_report(std::ostream& out, const Session& s, const nlohmann::json& resources);

}  // namespace msq
