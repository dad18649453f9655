// An engine: one compute array of the accelerator, as the scheduler and the top see it. What it
// can run (capabilities), how long a job takes, the values it computes and the statistics it
// keeps. Engines are plugins: each kind lives in its own folder under models/hw/engines/ and is
// named in the config by its `impl`; models/hw/engine_registry.cpp maps that name to a factory,
// so that adding a kind touches its folder and the registry, not the scheduler (docs/config.md).
#pragma once

#include <cstdint>

#include "models/arith/accumulator.h"
#include "models/hw/engine_caps.h"
#include "models/layer_run.h"
#include "models/stats/stat_group.h"

namespace msq {

class Engine {
 public:
  virtual ~Engine() = default;

  // The registry name of the engine's kind (the config's `impl`).
  virtual const char* impl() const = 0;
  virtual EngineCaps caps() const = 0;
  // The MACs the full array can do per cycle at best (docs/report.md).
  virtual int64_t peak_macs_per_cycle() const = 0;
  // The engine's position among the accelerator's engines: its jobs, weight loads and
  // statistics are indexed by it (LayerRun::core, Step::jobs, LayerPlan::engines).
  virtual int slot() const = 0;
  // The engine's name (the config's `name`).
  virtual const char* engine_name() const = 0;
  // Cycles of a job: block b over tn columns and tk reduction steps.
  virtual int64_t job_cycles(const LayerRun& run, const RowBlock& b, int64_t tn,
                             int64_t tk) const = 0;
  // Values: called once per layer before its first job, then per job.
  virtual void load_layer(const LayerRun& run) = 0;
  virtual void compute(LayerRun& run, const RowBlock& b, const Step& st, const InputTileValues& x,
                       OutputTileValues& acc) = 0;
  // What the engine counted on a layer (busy cycles, jobs, MACs, stalls by cause).
  const CoreLayerStats& stats(const LayerRun& run) const { return run.core[slot()]; }
  // Its counters, per layer and in total (docs/report.md, `stats`): busy, jobs, MACs by scheme,
  // stalls by cause.
  virtual StatGroup& stat_group() = 0;
};

}  // namespace msq
