// A run's energy: what the energy model (models/cost/energy.h) needs, counted from a session's
// results, and the report's energy fields (docs/energy.md, docs/report.md).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "models/cost/energy.h"
#include "models/resource_model.h"
#include "sim/session.h"

namespace msq {

// The actions of a run, from its results and plans: engine operations by class, BRAM accesses
// (the buffers' bram_reads and bram_writes, counted by the blocks that read and write them),
// DRAM bytes by direction, the DRAM's commands and open/idle time.
RunActions run_actions(const Session& s, const ResourceCosts& costs);

// One chip's data-sheet figures and the bus's chip count, from the DRAM config.
DramPowerSpec dram_power_spec(const DramConfig& d);

// configs/resources/costs.yaml, parsed once per process: parsing it costs more than the whole
// energy model, and a run needs it for the design check and for the energy.
const ResourceCosts& shipped_resource_costs();

// The energy of a session with the shipped resource costs (for the PE sizes).
EnergyResult session_energy(const Session& s);

// The report's total.energy object, and a layer's energy fields.
nlohmann::json energy_json(const EnergyResult& e, const RunConfig& cfg);
nlohmann::json layer_energy_json(const LayerEnergy& l);

// The terminal line (no newline): J/frame, average W, GOPS/W and the share of each block.
std::string energy_summary(const EnergyResult& e);

}  // namespace msq
