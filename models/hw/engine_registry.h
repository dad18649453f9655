// The engine registry: `impl` name -> factory. One line per engine kind in
// models/hw/engine_registry.cpp.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "models/config.h"
#include "models/hw/engine.h"
#include "models/hw/op_engine.h"

namespace msq {

class Buffer;
struct Fabric;

// What a factory gets: the fabric it runs on, its slot, its half of the weight buffer and the
// accelerator's config (for its own keys).
struct EngineContext {
  Fabric& fabric;
  CoreId slot;
  Buffer& weights;
  const AcceleratorConfig& accel;
};

using EngineFactory = std::unique_ptr<Engine> (*)(const char* name, const EngineContext& ctx);

struct EngineKind {
  const char* impl;
  EngineFactory make;
  // The config section whose keys the kind reads (accelerator.<keys>): "lut_core" for the SP2
  // slot's kinds, "dsp_core" for the fixed-point slot's.
  const char* keys;
};

// Every registered kind, in registration order.
const std::vector<EngineKind>& engine_kinds();

// The kind named `impl`, or null.
const EngineKind* find_engine_kind(const std::string& impl);

// The kind named `impl`; throws InputError naming engine `name` and the known kinds when there is
// none.
const EngineKind& engine_kind(const std::string& impl, const std::string& name);

// Builds the engine `impl` as module `name`. Throws InputError naming the known kinds when
// `impl` is not registered, and when the engine cannot take the rows of its slot.
std::unique_ptr<Engine> make_engine(const std::string& impl, const std::string& name,
                                    const EngineContext& ctx);

// Engines of a graph's non-GEMM ops, by `impl`; "vector" (models/hw/engines/vector/, its keys
// under accelerator.vector) is the one a graph run builds.
using OpEngineFactory = std::unique_ptr<OpEngine> (*)(const char* name, const OpEngineContext& ctx);
struct OpEngineKind {
  const char* impl;
  OpEngineFactory make;
  const char* keys;  // its config section, accelerator.<keys>
};
const std::vector<OpEngineKind>& op_engine_kinds();
// Builds the op engine `impl`; throws InputError naming the known kinds when there is none.
std::unique_ptr<OpEngine> make_op_engine(const std::string& impl, const std::string& name,
                                         const OpEngineContext& ctx);

}  // namespace msq
