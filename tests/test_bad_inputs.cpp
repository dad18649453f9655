// The bad-input corpus (tests/bad_inputs/, one file or trace directory per case, found by fuzzing,
// a corpus of broken files and fault injection): each goes through the command that reads it and
// must exit 2 with one line on stderr naming the culprit, never crash, hang or report an
// "internal error".
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "models/error.h"
#include "models/resource_model.h"
#include "support/cli_fixture.h"
#include "support/run_cli.h"

namespace {

namespace fs = std::filesystem;

const std::string kCorpus = MSQ_SOURCE_DIR "/tests/bad_inputs";

struct Case {
  std::string name;  // a file or directory of the corpus
  std::string args;  // the command; {} is the case's path, {dir} the corpus
  std::string want;  // a piece of the message
};

const std::vector<Case>& cases() {
  static const std::vector<Case> v{
      {"config_alias_cycle.yaml", "validate {}",
       "config_alias_cycle.yaml:3: accelerator.lut_core: an alias refers to a node that contains "
       "it (a cycle)"},
      {"config_alias_bomb.yaml", "validate {}", "the document expands to more than 1000000 values"},
      {"config_duplicate_key.yaml", "validate {}",
       "config_duplicate_key.yaml:5: clock_mhz: duplicate key"},
      {"config_null_key.yaml", "validate {}",
       "config_null_key.yaml:3: expected plain key names (got nothing)"},
      {"config_yaml_too_deep.yaml", "validate {}",
       "config_yaml_too_deep.yaml:2: YAML nested more than"},
      {"config_nested_too_deep.yaml", "validate {}",
       "config_nested_too_deep.yaml:2: clock_mhz[0][0][0][0][0]...: nested more than 64 levels "
       "deep"},
      {"config_huge_value.yaml", "validate {}",
       "config_huge_value.yaml:2: device: expected a device name"},
      {"network_alias_cycle.yaml", "validate {dir}/_base.yaml --set workload.network={}",
       "network_alias_cycle.yaml:3: layers[0]: an alias refers to a node that contains it"},
      {"network_huge_layer.yaml", "validate {dir}/_base.yaml --set workload.network={}",
       "network_huge_layer.yaml:5: layers[1] (big): expected at most 2^40 input values"},
      {"network_gemm_macs_overflow.csv", "validate {dir}/_base.yaml --set workload.network={}",
       "network_gemm_macs_overflow.csv:3: huge: expected at most 2^50 multiply-accumulates"},
      {"network_graph_huge_input.yaml", "validate {dir}/_base.yaml --set workload.network={}",
       "network_graph_huge_input.yaml:4: layers[0] (p): expected at most 2^40 values per image "
       "in input"},
      {"network_gemm_bad_header.csv", "validate {dir}/_base.yaml --set workload.network={}",
       "network_gemm_bad_header.csv:1: expected a SCALE-Sim header"},
      {"sweep_alias_cycle.yaml", "sweep {} --out out.csv",
       "sweep_alias_cycle.yaml:3: axes.clock_mhz: an alias refers to a node that contains it"},
      {"sweep_base_alias_cycle.yaml", "sweep {} --out out.csv",
       "config_alias_cycle.yaml:3: accelerator.lut_core: an alias refers to a node"},
      {"sweep_set_long_value.yaml", "sweep {} --out out.csv",
       "sweep_set_long_value.yaml:4: set: workload.network: expected an existing network file"},
      {"trace_null_key", "regress {}", "trace.yaml:56: expected plain key names (got nothing)"},
      {"trace_npy_directory", "regress {}",
       "fc/bias.npy: layer 'fc': expected a .npy file (got a directory"},
      {"trace_npy_wraps", "regress {}",
       "fc/bias.npy: layer 'fc': bad .npy header: shape [2305843009213693952] of <i8 needs more "
       "than 2^62 "
       "bytes"},
      {"trace_graph_input_above_act_bits", "regress {}",
       "input.npy: the network input: value 4000 at [0, 0, 1, 1] is above 2^act_bits - 1 = 255"},
      {"trace_graph_op_output_above_act_bits", "regress {}",
       "pool/output.npy: op 'pool': value 256 at [0, 0, 1, 1] is above 2^act_bits - 1 = 255"},
      {"trace_config_error_line", "regress {}",
       "trace.yaml:14: config.accelerator.lut_core.rows: expected an integer in 1..4096 (got "
       "99999)"},
      {"trace_config_alias_cycle", "regress {}",
       "trace.yaml:2: config.loop: an alias refers to a node that contains it (a cycle)"},
      {"sweep_repeated_value.yaml", "sweep {} --out out.csv",
       "sweep_repeated_value.yaml:7: axes.clock_mhz: value 100 is given twice (first on line "
       "5)"},
      {"mapping_header_only.csv",
       "validate {dir}/_base.yaml --set accelerator.scheduler.mapping=given --set "
       "accelerator.scheduler.mapping_file={}",
       "mapping_header_only.csv:2: no layer rows after the header"},
      {"mapping_unclosed_quote.csv",
       "validate {dir}/_base.yaml --set accelerator.scheduler.mapping=given --set "
       "accelerator.scheduler.mapping_file={}",
       "mapping_unclosed_quote.csv:2: a quoted cell is not closed"},
      {"config_sp2_per_layer_unknown.yaml", "validate {}",
       "config_sp2_per_layer_unknown.yaml:6: workload.sp2_fraction_per_layer.conv9: expected a "
       "Conv or Gemm layer of digits_resnet (got conv9)"},
  };
  return v;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size())
    s.replace(at, from.size(), to);
  return s;
}

class BadInputs : public msq::testing::CliTest {};

TEST_F(BadInputs, EveryCaseIsOneCleanInputError) {
  for (const Case& c : cases()) {
    std::string args = replace_all(c.args, "{dir}", "'" + kCorpus + "'");
    args = replace_all(args, "{}", "'" + kCorpus + "/" + c.name + "'");
    const msq::testing::Result r = run(args);
    EXPECT_EQ(r.code, 2) << c.name << "\nstderr: " << r.err.substr(0, 500);
    EXPECT_NE(r.err.find(c.want), std::string::npos)
        << c.name << "\nstderr: " << r.err.substr(0, 500) << "\nlacks: " << c.want;
    EXPECT_EQ(r.err.find("internal error"), std::string::npos) << c.name << ": " << r.err;
    ASSERT_FALSE(r.err.empty()) << c.name;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << c.name << ": more than one line: " << r.err;
    EXPECT_LT(r.err.size(), 600u) << c.name << ": values are quoted clipped";
  }
}

// A file added to the corpus without a row in the table would never run.
TEST_F(BadInputs, EveryCorpusEntryHasACase) {
  std::set<std::string> listed;
  for (const Case& c : cases()) listed.insert(c.name);
  for (const auto& e : fs::directory_iterator(kCorpus)) {
    const std::string name = e.path().filename().string();
    if (name[0] == '_' || name == "README.md") continue;  // support files, not cases
    EXPECT_TRUE(listed.count(name)) << name << " has no row in cases()";
  }
  for (const Case& c : cases()) EXPECT_TRUE(fs::exists(kCorpus + "/" + c.name)) << c.name;
}

}  // namespace

namespace {

// The cost file goes through the same key checks as the other loaders: a key given twice was
// silently read from its first occurrence, a list as a key read as "".
std::string cost_error(const std::string& append_to_fabric, const std::string& append) {
  std::ifstream in(msq::default_resource_costs_path());
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t at = text.find("fabric:\n");
  if (at == std::string::npos) return "no fabric section";
  text.insert(at + 8, append_to_fabric);
  text += append;
  msq::testing::TempDir dir;
  const std::string p = dir / "costs.yaml";
  std::ofstream(p) << text;
  try {
    msq::load_resource_costs(p);
  } catch (const msq::InputError& e) {
    return std::string(e.what()).substr(p.size());
  }
  return "";
}

TEST(BadCostFiles, DuplicateAndNonScalarKeys) {
  EXPECT_EQ(cost_error("", ""), "");
  // The duplicate is reported where the file's own key now is: one line below its place.
  std::ifstream in(msq::default_resource_costs_path());
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t key = text.find("  adder_luts_per_bit:", text.find("fabric:\n"));
  const auto line = 2 + std::count(text.begin(), text.begin() + long(key), '\n');
  EXPECT_EQ(cost_error("  adder_luts_per_bit: 2.0\n", ""),
            ":" + std::to_string(line) + ": fabric.adder_luts_per_bit: duplicate key");
  EXPECT_EQ(cost_error("", "fabric: {}\n").rfind(":", 0), 0u);
  EXPECT_NE(cost_error("", "fabric: {}\n").find(": fabric: duplicate section"), std::string::npos);
  EXPECT_NE(cost_error("  [a]: 1\n", "").find(": fabric: expected plain key names (got a list)"),
            std::string::npos);
}

}  // namespace
