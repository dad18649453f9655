#include "models/hw/engine_registry.h"

#include "models/error.h"
#include "models/hw/engines/dsp48/dsp48.h"
#include "models/hw/engines/dsp48_actpack/dsp48_actpack.h"
#include "models/hw/engines/lut_sp2/lut_sp2.h"
#include "models/hw/engines/lut_sp2_bitserial/lut_sp2_bitserial.h"
#include "models/hw/engines/vector/vector.h"

namespace msq {

const std::vector<EngineKind>& engine_kinds() {
  static const std::vector<EngineKind> kinds = {
      {"lut_sp2", &make_lut_sp2, "lut_core"},
      {"dsp48", &make_dsp48, "dsp_core"},
      {"lut_sp2_bitserial", &make_lut_sp2_bitserial, "lut_core"},
      {"dsp48_actpack", &make_dsp48_actpack, "dsp_core"},
  };
  return kinds;
}

const EngineKind* find_engine_kind(const std::string& impl) {
  for (const EngineKind& k : engine_kinds())
    if (impl == k.impl) return &k;
  return nullptr;
}

const EngineKind& engine_kind(const std::string& impl, const std::string& name) {
  if (const EngineKind* kind = find_engine_kind(impl)) return *kind;
  std::string known;
  for (const EngineKind& k : engine_kinds())
    known += (known.empty() ? "" : ", ") + std::string(k.impl);
  throw InputError("engine " + name + ": unknown impl '" + impl + "' (known: " + known + ")");
}

std::unique_ptr<Engine> make_engine(const std::string& impl, const std::string& name,
                                    const EngineContext& ctx) {
  const EngineKind* kind = &engine_kind(impl, name);
  std::unique_ptr<Engine> e = kind->make(name.c_str(), ctx);
  // The planner gives the first slot the SP2 rows and the second the fixed-point rows.
  const EngineCaps c = e->caps();
  if (ctx.slot == kLut && !c.sp2)
    throw InputError("engine " + name + " (" + impl +
                     "): the first engine runs the SP2 rows, and " + impl + " cannot");
  if (ctx.slot == kDsp && !c.fixed)
    throw InputError("engine " + name + " (" + impl +
                     "): the second engine runs the fixed-point rows, and " + impl + " cannot");
  return e;
}

const std::vector<OpEngineKind>& op_engine_kinds() {
  static const std::vector<OpEngineKind> kinds = {
      {"vector", &make_vector, "vector"},
  };
  return kinds;
}

std::unique_ptr<OpEngine> make_op_engine(const std::string& impl, const std::string& name,
                                         const OpEngineContext& ctx) {
  std::string known;
  for (const OpEngineKind& k : op_engine_kinds()) {
    if (impl == k.impl) return k.make(name.c_str(), ctx);
    known += (known.empty() ? "" : ", ") + std::string(k.impl);
  }
  throw InputError("op engine " + name + ": unknown impl '" + impl + "' (known: " + known + ")");
}

}  // namespace msq
