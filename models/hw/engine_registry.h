// The engine registry: `impl` name -> what the planner and the config need to know about the kind
// (its keys, defaults and capabilities) and the factory that builds it. One line per engine kind
// in models/hw/engine_registry.cpp.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "models/config.h"
#include "models/hw/engine_caps.h"
#include "models/hw/op_engine.h"

namespace msq {

class Buffer;
class Engine;
struct Fabric;

// What a factory gets: the fabric it runs on, its slot (position in the engine list), its part of
// the weight buffer, its own keys and the accelerator's config.
struct EngineContext {
  Fabric& fabric;
  int slot;
  Buffer& weights;
  const EngineSpec& spec;
  const AcceleratorConfig& accel;
};

using EngineFactory = std::unique_ptr<Engine> (*)(const char* name, const EngineContext& ctx);

struct EngineKind {
  const char* impl;
  EngineFactory make;
  // What an engine of this kind with these keys can run.
  EngineCaps (*caps)(const EngineSpec& spec);
  // The MACs its whole array can do per cycle at best.
  int64_t (*peak_macs_per_cycle)(const EngineSpec& spec);
  // The keys an entry of accelerator.engines may give besides impl, name and accumulator, and
  // the values of those it leaves out (defaults.name: the name of the first unnamed entry of the
  // kind; further ones are named by impl and position).
  std::vector<std::string> keys;
  EngineSpec defaults;
  const char* doc;
};

// Every registered kind, in registration order.
const std::vector<EngineKind>& engine_kinds();

// The kind named `impl`, or null.
const EngineKind* find_engine_kind(const std::string& impl);

// The kind named `impl`; throws InputError naming engine `name` and the known kinds when there is
// none.
const EngineKind& engine_kind(const std::string& impl, const std::string& name);

// Adds a kind (false if the impl name is taken): for tests and out-of-tree engines.
bool register_engine_kind(const EngineKind& kind);

// Builds engine `spec` (its impl, as module spec.name). Throws InputError naming the known kinds
// when the impl is not registered.
std::unique_ptr<Engine> make_engine(const EngineContext& ctx);

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
