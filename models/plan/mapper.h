// The mapping search (accelerator.scheduler.mapping: search): per layer, the pixel tile, the k
// tile (input channels), the output-channel tiles, the loop order and how long each tensor's tiles
// stay in their buffers, chosen to minimize an analytic estimate of the layer's cycles (or a cost
// the caller gives) under the buffer capacities. Plain C++: no SystemC. The estimate only ranks
// mappings; the simulation of the chosen one gives the reported figures (docs/mapping.md).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "models/config.h"
#include "models/layer.h"
#include "models/tiler.h"

namespace msq {

// The analytic model's view of one mapping of a layer.
struct MappingEstimate {
  int64_t cycles = 0;                   // estimated cycles of the layer
  std::vector<int64_t> compute_cycles;  // busy cycles of each engine (engine_specs order)
  int64_t dma_cycles = 0;               // cycles the DMA needs for all the layer's transfers
  int64_t weight_bytes = 0, input_bytes = 0, output_bytes = 0;  // DRAM traffic
  int64_t transfers = 0;
  double weight_reloads = 0;  // weight traffic / the layer's weights
  double input_reloads = 0;   // input traffic / the input tiles' bytes (halos included)
  int64_t dram_bytes() const { return weight_bytes + input_bytes + output_bytes; }
};

// Bytes each buffer slot must hold at once for a plan's mapping.
struct MappingFootprint {
  int64_t input = 0, output = 0;
  std::vector<int64_t> weights;  // per engine (each has its equal part of the weight buffer)
};

// What the search minimizes: by default the estimated cycles. A cost model (energy, EDP) can be
// plugged in; it sees the plan (rows, blocks, tiles, mapping) and the estimate.
using MappingCost = std::function<double(const LayerPlan&, const MappingEstimate&)>;

// Sets the cost every later search uses (an empty function: cycles). Process-wide, since planning
// happens in several places; set it before planning.
void set_mapping_cost(MappingCost cost);

// The best plan for the layer under the config (scheduler.mapping: search, and with
// scheduler.balance: per_layer the SP2 rows spilled to the fixed-point engine searched too). Any
// engine list the row assignment takes (1..16 engines): each engine runs its rows at its own rate
// from its own part of the weight buffer; balance: per_layer moves rows between any engines that
// can run them (docs/mapping.md).
// Never worse in the estimate than the fixed rule, which is one of the candidates. Throws
// InputError when no mapping fits the buffers.
LayerPlan search_plan(const QuantLayer& layer, const RunConfig& cfg, const std::string& where);

// The plan of a layer under scheduler.mapping: given: the tiles (and loop order, keep levels, LUT
// share when given) of the layer's row in scheduler.mapping_file; the rest as the search chooses
// for those tiles (the loop order and keep levels with the least estimate when not given, the
// row split by scheduler.balance when lut_share is not given). A layer the file does not give is
// planned by search_plan. Throws InputError naming the file, its line and the layer when the
// tiles do not fit the buffers or the share cannot be met.
LayerPlan given_plan(const QuantLayer& layer, const RunConfig& cfg, const std::string& where);

// The split of the buffers' BRAM36 (weight + input + output, the config's sum) with the least
// estimated cycles summed over the layers, each planned as the config says (mapping, balance):
// every split in steps of a sixteenth of the sum, each buffer at least one step. `cycles`, when
// given, receives the estimate of the split returned. The config's own split is a candidate and
// wins ties.
BufferConfig search_buffer_split(const std::vector<QuantLayer>& layers, const RunConfig& cfg,
                                 int64_t* cycles = nullptr);

// The estimate and footprint of a plan as it stands (its tiles and mapping).
MappingEstimate estimate_plan(const LayerPlan& p, const QuantLayer& layer, const RunConfig& cfg);
MappingFootprint plan_footprint(const LayerPlan& p, const QuantLayer& layer);

// The loop level from which a tensor's tiles are reused without widening: just inside its
// innermost own loop. `loops` are the loops that index the tensor ("NK" inputs, "MK" weights).
int natural_keep(const std::string& order, const char* loops);

}  // namespace msq
