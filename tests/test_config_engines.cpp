// accelerator.engines: the engines as a list by impl, next to the old lut_core/dsp_core keys.
#include <gtest/gtest.h>

#include "models/error.h"
#include "sim/config_loader.h"

using msq::InputError;
using msq::RunConfig;

namespace {

RunConfig from_text(const std::string& yaml, const std::vector<std::string>& sets = {}) {
  return msq::load_run_config_node(YAML::Load(yaml), "t.yaml", ".", sets);
}

std::string error_of(const std::string& yaml, const std::vector<std::string>& sets = {}) {
  try {
    from_text(yaml, sets);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

nlohmann::json resolved(const RunConfig& c) {
  nlohmann::json j = msq::config_to_json(c);
  j.erase("file");
  return j;
}

const char* kList =
    "accelerator:\n"
    "  engines:\n"
    "    - {impl: lut_sp2, rows: 24, cols: 8, pipeline_depth: 5}\n"
    "    - {impl: dsp48, rows: 12, cols: 4, packing: false, drain_cycles: 2}\n";

const char* kOld =
    "accelerator:\n"
    "  lut_core: {rows: 24, cols: 8, pipeline_depth: 5}\n"
    "  dsp_core: {rows: 12, cols: 4, packing: false, drain_cycles: 2}\n";

}  // namespace

TEST(ConfigEngines, ListAndOldKeysResolveToTheSameEngines) {
  const RunConfig a = from_text(kList), b = from_text(kOld);
  ASSERT_EQ(a.accelerator.engines.size(), 2u);
  EXPECT_EQ(a.accelerator.engines[0].rows, 24);
  EXPECT_EQ(a.accelerator.engines[1].drain_cycles, 2);
  EXPECT_FALSE(a.accelerator.engines[1].packing);
  EXPECT_TRUE(b.accelerator.engines.empty());  // the old spelling: engine_specs() maps it
  EXPECT_EQ(resolved(a)["accelerator"]["engines"], resolved(b)["accelerator"]["engines"]);
  nlohmann::json ja = resolved(a), jb = resolved(b);
  for (nlohmann::json* j : {&ja, &jb}) {
    (*j)["accelerator"].erase("lut_core");
    (*j)["accelerator"].erase("dsp_core");
  }
  EXPECT_EQ(ja, jb);
}

TEST(ConfigEngines, AListOfAnyLengthWithOwnAccumulators) {
  const RunConfig c = from_text(
      "accelerator:\n  engines:\n"
      "    - {impl: lut_sp2, name: big, rows: 32, cols: 32}\n"
      "    - {impl: lut_sp2, name: small, rows: 16, cols: 32, accumulator: {bits: 16}}\n"
      "    - {impl: dsp48, rows: 8, accumulator: {bits: 24, overflow: saturate}}\n");
  const auto& e = c.accelerator.engines;
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[1].name, "small");
  EXPECT_EQ(e[1].rows, 16);
  EXPECT_FALSE(e[0].own_accumulator);
  EXPECT_TRUE(e[1].own_accumulator);
  EXPECT_EQ(e[1].accumulator.bits, 16);
  EXPECT_EQ(e[1].accumulator.overflow, msq::Overflow::Wrap);
  EXPECT_EQ(e[2].name, "dsp_core");  // the first unnamed entry of its kind
  EXPECT_EQ(e[2].cols, msq::DspCoreConfig{}.cols);
  EXPECT_EQ(e[2].accumulator.overflow, msq::Overflow::Saturate);
  const nlohmann::json j = resolved(c)["accelerator"]["engines"];
  EXPECT_FALSE(j[0].contains("accumulator"));
  EXPECT_EQ(j[2]["accumulator"]["bits"], 24);
}

TEST(ConfigEngines, ResolvedJsonShowsTheList) {
  const nlohmann::json e = msq::config_to_json(from_text(kOld))["accelerator"]["engines"];
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0]["impl"], "lut_sp2");
  EXPECT_EQ(e[0]["name"], "lut_core");
  EXPECT_EQ(e[0]["rows"], 24);
  EXPECT_FALSE(e[0].contains("packing"));
  EXPECT_EQ(e[1]["impl"], "dsp48");
  EXPECT_EQ(e[1]["name"], "dsp_core");
  EXPECT_EQ(e[1]["cols"], 4);
  EXPECT_EQ(e[1]["packing"], false);
}

TEST(ConfigEngines, YamlRoundTripKeepsNamesAndKeys) {
  for (const std::string extra : {"", "--named"}) {
    std::string text = kList;
    if (!extra.empty()) {
      text.replace(text.find("impl: lut_sp2"), 13, "impl: lut_sp2, name: shifts");
      text.replace(text.find("impl: dsp48"), 11, "impl: dsp48, name: mults");
    }
    const RunConfig a = from_text(text);
    const YAML::Node y = msq::config_to_yaml(a);
    // One spelling per config, or it would not load again.
    EXPECT_NE(bool(y["accelerator"]["engines"]), bool(y["accelerator"]["lut_core"])) << extra;
    const RunConfig b = msq::load_run_config_node(YAML::Load(YAML::Dump(y)), "again", "/", {});
    EXPECT_EQ(resolved(a), resolved(b)) << extra;
    if (!extra.empty()) {
      EXPECT_EQ(b.accelerator.engines[1].name, "mults");
    }
  }
}

TEST(ConfigEngines, SetReplacesTheList) {
  const RunConfig c =
      from_text("{}", {"accelerator.engines=[{impl: lut_sp2, rows: 8}, {impl: dsp48}]"});
  EXPECT_EQ(c.accelerator.engines.at(0).rows, 8);
  EXPECT_EQ(c.accelerator.engines.at(1).rows, msq::DspCoreConfig{}.rows);
}

TEST(ConfigEngines, BadListsNameTheEntryAndKey) {
  const std::string L = "accelerator:\n  engines:\n";
  EXPECT_NE(error_of(L + "    - {impl: lut_sp2}\n    - {impl: dsp58}\n")
                .find("t.yaml:4: accelerator.engines[1].impl: expected one of lut_sp2, dsp48, "
                      "lut_sp2_bitserial, dsp48_actpack (got dsp58); did you mean 'dsp48'?"),
            std::string::npos)
      << error_of(L + "    - {impl: lut_sp2}\n    - {impl: dsp58}\n");
  // Any order: rows go to the engines by capability, not by position.
  EXPECT_EQ(error_of(L + "    - {impl: dsp48}\n    - {impl: lut_sp2}\n"), "");
  EXPECT_NE(error_of(L + "    - {impl: lut_sp2, packing: true}\n    - {impl: dsp48}\n")
                .find("accelerator.engines[0].packing: unknown key for a lut_sp2 engine, "
                      "expected one of impl, name, rows, cols, pipeline_depth, accumulator"),
            std::string::npos);
  EXPECT_NE(error_of(L + "    - {rows: 3}\n    - {impl: dsp48}\n")
                .find("accelerator.engines[0].impl: missing"),
            std::string::npos);
  EXPECT_NE(error_of(L + "    - {impl: lut_sp2, rows: 0}\n    - {impl: dsp48}\n")
                .find("accelerator.engines[0].rows: expected an integer in 1..4096 (got 0)"),
            std::string::npos);
  EXPECT_NE(error_of(L + "    - {impl: lut_sp2, accumulator: {bitz: 3}}\n")
                .find("accelerator.engines[0].accumulator.bitz: unknown key"),
            std::string::npos);
  EXPECT_NE(error_of(L + "    - {impl: lut_sp2, accumulator: {bits: 4}}\n")
                .find("accelerator.engines[0].accumulator.bits: expected an integer in 8..64"),
            std::string::npos);
  EXPECT_NE(error_of(L + "    - {impl: lut_sp2, name: a}\n    - {impl: dsp48, name: a}\n")
                .find("accelerator.engines[1].name: duplicate engine name a"),
            std::string::npos);
  EXPECT_NE(error_of("accelerator: {engines: nope}").find("accelerator.engines: expected a list"),
            std::string::npos);
  // An empty list was "expected a list of engines ... (got a list)".
  EXPECT_NE(error_of("accelerator: {engines: []}").find("(got an empty list)"), std::string::npos)
      << error_of("accelerator: {engines: []}");
}

TEST(ConfigEngines, ListAndOldKeysTogetherAreRefused) {
  const std::string e = error_of(std::string(kList) + "  lut_core: {rows: 8}\n");
  EXPECT_NE(e.find("accelerator.lut_core: the engines are given as a list (accelerator.engines), "
                   "so this key of the old spelling is ambiguous: give its values in the list "
                   "entry, e.g. accelerator.engines: [{impl: lut_sp2, name: lut_core"),
            std::string::npos)
      << e;
  // The same through --set on a config that lists its engines.
  const std::string s = error_of(kList, {"accelerator.dsp_core.rows=8"});
  EXPECT_NE(s.find("accelerator.dsp_core: the config gives the engines as a list "
                   "(accelerator.engines at t.yaml:2)"),
            std::string::npos)
      << s;
}
