#include "models/hw/engine_registry.h"

#include "models/error.h"
#include "models/hw/engines/dsp48/dsp48.h"
#include "models/hw/engines/dsp48_actpack/dsp48_actpack.h"
#include "models/hw/engines/lut_sp2/lut_sp2.h"
#include "models/hw/engines/lut_sp2_bitserial/lut_sp2_bitserial.h"
#include "models/hw/engines/vector/vector.h"

namespace msq {

namespace {
std::vector<EngineKind>& kinds() {
  static std::vector<EngineKind> k = {
      {"lut_sp2",
       &make_lut_sp2,
       &lut_sp2_caps,
       &lut_sp2_peak,
       {"rows", "cols", "pipeline_depth"},
       lut_engine_spec(LutCoreConfig{}, "lut_core"),
       "SP2 shift-add PEs (LUTs and FFs)"},
      {"dsp48",
       &make_dsp48,
       &dsp48_caps,
       &dsp48_peak,
       {"rows", "cols", "pipeline_depth", "packing", "lane_offset", "drain_cycles"},
       dsp_engine_spec(DspCoreConfig{}, "dsp_core"),
       "DSP48 slices, two packed products per slice"},
      {"lut_sp2_bitserial",
       &make_lut_sp2_bitserial,
       &lut_sp2_bitserial_caps,
       &lut_sp2_bitserial_peak,
       {"rows", "cols", "pipeline_depth"},
       lut_engine_spec(LutCoreConfig{}, "lut_core"),
       "bit-serial SP2 PEs, one signed digit of the weight per cycle"},
      {"dsp48_actpack",
       &make_dsp48_actpack,
       &dsp48_actpack_caps,
       &dsp48_actpack_peak,
       {"rows", "cols", "pipeline_depth", "packing", "lane_offset", "drain_cycles"},
       dsp_engine_spec(DspCoreConfig{}, "dsp_core"),
       "DSP48 slices, two activations per slice sharing a weight"},
  };
  return k;
}
}  // namespace

const std::vector<EngineKind>& engine_kinds() {
  return kinds();
}

bool register_engine_kind(const EngineKind& kind) {
  if (find_engine_kind(kind.impl)) return false;
  kinds().push_back(kind);
  return true;
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

std::unique_ptr<Engine> make_engine(const EngineContext& ctx) {
  return engine_kind(ctx.spec.impl, ctx.spec.name).make(ctx.spec.name.c_str(), ctx);
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
