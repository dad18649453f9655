// Config loading: defaults, file values, --set, the resolved JSON, round trips and error messages.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>

#include "models/error.h"
#include "sim/config_loader.h"

namespace fs = std::filesystem;
using msq::InputError;
using msq::RunConfig;

namespace {

std::string temp_dir() {
  std::string tmpl = (fs::temp_directory_path() / "msq_cfg_XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

std::string write(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string p = dir + "/" + name;
  std::ofstream(p) << text;
  return p;
}

RunConfig from_text(const std::string& yaml, const std::vector<std::string>& sets = {}) {
  return msq::load_run_config_node(YAML::Load(yaml), "t.yaml", ".", sets);
}

// The message of the InputError that loading `yaml` with `sets` throws ("" when none).
std::string error_of(const std::string& yaml, const std::vector<std::string>& sets = {}) {
  try {
    from_text(yaml, sets);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

void collect_leaves(const nlohmann::json& j, const std::string& prefix,
                    std::set<std::string>& out) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string p = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (it->is_object())
      collect_leaves(*it, p, out);
    else
      out.insert(p);
  }
}

}  // namespace

TEST(ConfigLoader, EmptyConfigTakesEveryDefault) {
  const RunConfig c = from_text("{}");
  const RunConfig d;
  // Accelerator and workload defaults come from the structs of models/config.h.
  const auto jc = msq::config_to_json(c), jd = msq::config_to_json(d);
  EXPECT_EQ(jc["accelerator"], jd["accelerator"]);
  EXPECT_EQ(jc["clock_mhz"], jd["clock_mhz"]);
  EXPECT_EQ(jc["verify"], jd["verify"]);
  for (const char* k : {"axi_ports", "axi_width_bits", "dma_setup_cycles"})
    EXPECT_EQ(jc["memory"][k], jd["memory"][k]) << k;
  EXPECT_EQ(c.workload.network, "resnet18");
  EXPECT_EQ(c.workload.sp2_fraction, d.workload.sp2_fraction);
  // The device and the DRAM come from their files, named by the defaults.
  EXPECT_EQ(c.device.name, "xc7z045");
  EXPECT_EQ(c.device.lut, 218600);
  EXPECT_EQ(c.device.dsp, 900);
  EXPECT_EQ(c.device.dsp_kind, msq::DspKind::DSP48E1);
  EXPECT_EQ(c.memory.dram.preset, "ddr3-1066-x32");
  EXPECT_DOUBLE_EQ(c.memory.dram.clock_mhz, 533.33);
  EXPECT_EQ(c.memory.dram.tRFC, 139);
  EXPECT_EQ(fs::path(c.workload.network_path),
            (fs::path(msq::configs_dir()) / "workloads/resnet18.yaml").lexically_normal());
}

TEST(ConfigLoader, FileValuesOverrideDefaultsAndPresets) {
  const std::string dir = temp_dir();
  const std::string p = write(dir, "c.yaml", R"(
device: xczu9eg
clock_mhz: 300
accelerator:
  lut_core: {rows: 48, cols: 40}
  dsp_core: {packing: false, lane_offset: 18}
  accumulator: {bits: 24, overflow: saturate}
memory:
  preset: ddr4-2400-x64
  dram: {tRCD: 18}
workload:
  network: vgg16
  batch: 2
  seed: 18446744073709551615
  layers: [conv1_1, fc8]
verify: false
)");
  const RunConfig c = msq::load_run_config(p, {});
  EXPECT_EQ(c.file, p);
  EXPECT_EQ(c.device.dsp, 2520);
  EXPECT_EQ(c.device.dsp_kind, msq::DspKind::DSP48E2);
  EXPECT_EQ(c.clock_mhz, 300);
  EXPECT_EQ(c.accelerator.lut_core.rows, 48);
  EXPECT_EQ(c.accelerator.lut_core.cols, 40);
  EXPECT_EQ(c.accelerator.lut_core.pipeline_depth, msq::LutCoreConfig{}.pipeline_depth);
  EXPECT_FALSE(c.accelerator.dsp_core.packing);
  EXPECT_EQ(c.accelerator.dsp_core.lane_offset, 18);
  EXPECT_EQ(c.accelerator.accumulator.bits, 24);
  EXPECT_EQ(c.accelerator.accumulator.overflow, msq::Overflow::Saturate);
  EXPECT_EQ(c.memory.dram.preset, "ddr4-2400-x64");
  EXPECT_EQ(c.memory.dram.tRCD, 18);  // the override
  EXPECT_EQ(c.memory.dram.tRP, 17);   // the preset
  EXPECT_EQ(c.memory.dram.data_width_bits, 64);
  EXPECT_EQ(c.workload.batch, 2);
  EXPECT_EQ(c.workload.seed, 18446744073709551615ull);
  EXPECT_EQ(c.workload.layers, (std::vector<std::string>{"conv1_1", "fc8"}));
  EXPECT_FALSE(c.verify);

  const auto layers = msq::load_network(c.workload);
  ASSERT_EQ(layers.size(), 2u);
  EXPECT_EQ(layers[0].name, "conv1_1");
  EXPECT_EQ(layers[1].name, "fc8");
  EXPECT_EQ(layers[1].batch, 2);
  fs::remove_all(dir);
}

TEST(ConfigLoader, SetOverridesFileValuesAndCreatesSections) {
  const RunConfig c =
      from_text("clock_mhz: 100\ndevice: xc7z020\n",
                {"clock_mhz=150", "accelerator.scheduler.spill=true", "workload.layers=[conv1, fc]",
                 "device.dsp=200", "memory.dram.CL=8", "accelerator.dsp_core={rows: 8, cols: 4}"});
  EXPECT_EQ(c.clock_mhz, 150);
  EXPECT_TRUE(c.accelerator.scheduler.spill);
  EXPECT_EQ(c.workload.layers, (std::vector<std::string>{"conv1", "fc"}));
  EXPECT_EQ(c.device.name, "xc7z020");  // a name turned into the base of a device mapping
  EXPECT_EQ(c.device.lut, 53200);
  EXPECT_EQ(c.device.dsp, 200);
  EXPECT_EQ(c.memory.dram.CL, 8);
  EXPECT_EQ(c.accelerator.dsp_core.rows, 8);
  EXPECT_EQ(c.accelerator.dsp_core.cols, 4);
  // The last --set of a key wins.
  EXPECT_EQ(from_text("{}", {"workload.batch=3", "workload.batch=5"}).workload.batch, 5);
}

TEST(ConfigLoader, SetLeavesTheCallersTreeAlone) {
  const YAML::Node root = YAML::Load("clock_mhz: 100\ndevice: xc7z020\n");
  msq::load_run_config_node(root, "t.yaml", ".", {"clock_mhz=150", "device.dsp=10"});
  EXPECT_EQ(root["clock_mhz"].as<double>(), 100);
  EXPECT_EQ(root["device"].as<std::string>(), "xc7z020");
}

TEST(ConfigLoader, DeviceAsInlineMapping) {
  const RunConfig c = from_text(
      "device: {name: myfpga, lut: 1000, ff: 2000, bram36: 10, dsp: 20, dsp_type: DSP48E2}");
  EXPECT_EQ(c.device.name, "myfpga");
  EXPECT_EQ(c.device.ff, 2000);
  EXPECT_EQ(c.device.dsp_kind, msq::DspKind::DSP48E2);
  EXPECT_NE(error_of("device: {name: myfpga, lut: 1000}").find("device.ff: missing"),
            std::string::npos);
}

TEST(ConfigLoader, ResolvedJsonHasEveryKey) {
  // Listed by hand from models/config.h, so that a field left out of the schema fails here.
  const std::set<std::string> want{"file",
                                   "device.name",
                                   "device.board",
                                   "device.lut",
                                   "device.ff",
                                   "device.bram36",
                                   "device.dsp",
                                   "device.dsp_type",
                                   "device.axi_hp_ports",
                                   "device.axi_hp_width_bits",
                                   "device.axi_hp_clock_mhz",
                                   "device.static_power_w",
                                   "clock_mhz",
                                   "accelerator.lut_core.rows",
                                   "accelerator.lut_core.cols",
                                   "accelerator.lut_core.pipeline_depth",
                                   "accelerator.dsp_core.rows",
                                   "accelerator.dsp_core.cols",
                                   "accelerator.dsp_core.pipeline_depth",
                                   "accelerator.dsp_core.packing",
                                   "accelerator.dsp_core.lane_offset",
                                   "accelerator.dsp_core.drain_cycles",
                                   "accelerator.engines",
                                   "accelerator.accumulator.bits",
                                   "accelerator.accumulator.overflow",
                                   "accelerator.buffers.weight_bram36",
                                   "accelerator.buffers.input_bram36",
                                   "accelerator.buffers.output_bram36",
                                   "accelerator.buffers.double_buffer",
                                   "accelerator.scheduler.spill",
                                   "accelerator.buffers.search",
                                   "accelerator.scheduler.mapping",
                                   "accelerator.scheduler.mapping_file",
                                   "accelerator.scheduler.balance",
                                   "accelerator.scheduler.tile_n",
                                   "accelerator.scheduler.tile_k",
                                   "accelerator.vector.lanes",
                                   "accelerator.vector.pipeline_depth",
                                   "memory.model",
                                   "memory.preset",
                                   "memory.dram.clock_mhz",
                                   "memory.dram.data_width_bits",
                                   "memory.dram.channels",
                                   "memory.dram.banks",
                                   "memory.dram.rows",
                                   "memory.dram.row_bytes",
                                   "memory.dram.burst_length",
                                   "memory.dram.tRCD",
                                   "memory.dram.tRP",
                                   "memory.dram.CL",
                                   "memory.dram.tRAS",
                                   "memory.dram.tRFC",
                                   "memory.dram.tREFI",
                                   "memory.dram.tCCD",
                                   "memory.dram.bank_groups",
                                   "memory.dram.tCCD_L",
                                   "memory.dram.tRRD",
                                   "memory.dram.tRRD_L",
                                   "memory.dram.tFAW",
                                   "memory.dram.CWL",
                                   "memory.dram.tWTR",
                                   "memory.dram.tWTR_L",
                                   "memory.dram.tRTW",
                                   "memory.dram.tWR",
                                   "memory.dram.device_width_bits",
                                   "memory.dram.VDD",
                                   "memory.dram.IDD0",
                                   "memory.dram.IDD2N",
                                   "memory.dram.IDD3N",
                                   "memory.dram.IDD4R",
                                   "memory.dram.IDD4W",
                                   "memory.dram.IDD5B",
                                   "memory.dram.VPP",
                                   "memory.dram.IPP0",
                                   "memory.dram.IPP3N",
                                   "memory.dram.IPP5B",
                                   "memory.axi_ports",
                                   "memory.axi_width_bits",
                                   "memory.axi_clock_mhz",
                                   "memory.clip_axi_clock",
                                   "memory.dma_setup_cycles",
                                   "memory.streams.weights",
                                   "memory.streams.inputs",
                                   "memory.streams.outputs",
                                   "workload.network",
                                   "workload.network_path",
                                   "workload.batch",
                                   "workload.sp2_fraction",
                                   "workload.fixed8_fraction",
                                   "workload.weight_bits",
                                   "workload.act_bits",
                                   "workload.seed",
                                   "workload.last_layer_accumulators",
                                   "workload.layers",
                                   "workload.calibration",
                                   "workload.eval_images",
                                   "workload.eval_labels",
                                   "workload.calibration_path",
                                   "workload.sp2_auto",
                                   "workload.sp2_auto_min",
                                   "workload.sp2_auto_max",
                                   "energy.costs",
                                   "energy.lut_core.pj_per_lut",
                                   "energy.dsp_core.pj_per_product_bit",
                                   "energy.dsp_core.pj_per_accumulator_bit",
                                   "energy.buffers.pj_per_read",
                                   "energy.buffers.pj_per_write",
                                   "energy.dma.pj_per_read_byte",
                                   "energy.dma.pj_per_write_byte",
                                   "verify"};
  std::set<std::string> got;
  collect_leaves(msq::config_to_json(from_text("{}")), "", got);
  EXPECT_EQ(got, want);
  // A mapping that is empty by default: no leaf, but present.
  EXPECT_EQ(msq::config_to_json(from_text("{}"))["workload"]["sp2_fraction_per_layer"],
            nlohmann::json::object());
  const auto j =
      msq::config_to_json(from_text("{}", {"accelerator.accumulator.overflow=saturate"}));
  EXPECT_EQ(j["accelerator"]["accumulator"]["overflow"], "saturate");
  EXPECT_EQ(j["device"]["dsp_type"], "DSP48E1");
  EXPECT_EQ(j["memory"]["dram"]["tREFI"], 4160);
}

TEST(ConfigLoader, YamlRoundTripResolvesToTheSameConfig) {
  const RunConfig a = from_text(
      "device: xczu3eg\nclock_mhz: 187.5\nmemory: {preset: ddr4-2400-x64, dram: {tRP: 19}}\n"
      "workload: {sp2_fraction: 0.3, fixed8_fraction: 0.1, seed: 7, layers: [fc]}\n");
  const YAML::Node y = msq::config_to_yaml(a);
  EXPECT_FALSE(y["file"]);
  EXPECT_FALSE(y["workload"]["network_path"]);
  const RunConfig b = msq::load_run_config_node(YAML::Load(YAML::Dump(y)), "again", "/", {});
  auto ja = msq::config_to_json(a), jb = msq::config_to_json(b);
  ja.erase("file");
  jb.erase("file");
  EXPECT_EQ(ja, jb);
}

TEST(ConfigLoader, RelativePathsResolveAgainstTheConfigDirectory) {
  const std::string dir = temp_dir();
  fs::create_directories(dir + "/sub");
  write(dir, "sub/dev.yaml",
        "name: tiny\nlut: 100\nff: 200\nbram36: 4\ndsp: 8\ndsp_type: DSP48E1\n");
  write(dir, "sub/net.csv",
        "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num "
        "Filter, Strides,\nc1, 8, 8, 3, 3, 4, 16, 1,\n");
  const std::string p =
      write(dir, "sub/c.yaml", "device: dev.yaml\nworkload: {network: net.csv}\n");
  const RunConfig c = msq::load_run_config(p, {});
  EXPECT_EQ(c.device.name, "tiny");
  EXPECT_EQ(c.device.board, "");
  EXPECT_EQ(fs::path(c.workload.network_path), fs::path(dir + "/sub/net.csv"));
  // Written back as the absolute path, so that the tree reloads from anywhere.
  EXPECT_EQ(msq::config_to_yaml(c)["workload"]["network"].as<std::string>(),
            c.workload.network_path);
  // A path given by --set is relative to the working directory instead.
  const fs::path cwd = fs::current_path();
  fs::current_path(dir);
  const RunConfig s = msq::load_run_config(p, {"device=sub/dev.yaml"});
  fs::current_path(cwd);
  EXPECT_EQ(s.device.name, "tiny");
  fs::remove_all(dir);
}

// The mapping file and the calibration images are files only (no names): given by --set, they are
// relative to the working directory like the device, not to the config.
TEST(ConfigLoader, SetFilesOnlyPathsResolveAgainstTheWorkingDirectory) {
  const std::string dir = temp_dir();
  fs::create_directories(dir + "/sub");
  write(dir, "sub/m.csv", "layer,tile_m,k_channels,tile_rows\nconv1,32,,7\n");
  write(dir, "sub/cal.npy", "not read when the config loads");
  // A calibration file needs an ONNX network.
  const std::string onnx = MSQ_SOURCE_DIR "/configs/models/digits_resnet.onnx";
  const std::string p = write(dir, "sub/c.yaml", "workload: {network: " + onnx + "}\n");
  const fs::path cwd = fs::current_path();
  fs::current_path(dir);
  std::string err;
  RunConfig s;
  try {
    s = msq::load_run_config(
        p, {"accelerator.scheduler.mapping=given", "accelerator.scheduler.mapping_file=sub/m.csv",
            "workload.calibration=sub/cal.npy"});
  } catch (const InputError& e) {
    err = e.what();
  }
  fs::current_path(cwd);
  EXPECT_EQ(err, "");
  EXPECT_EQ(fs::path(s.accelerator.scheduler.mapping_file), fs::path(dir + "/sub/m.csv"));
  EXPECT_EQ(fs::path(s.workload.calibration_path), fs::path(dir + "/sub/cal.npy"));
  // In the file itself they stay relative to the config.
  const std::string q = write(dir, "sub/d.yaml",
                              "accelerator: {scheduler: {mapping: given, mapping_file: m.csv}}\n"
                              "workload: {network: " +
                                  onnx + ", calibration: cal.npy}\n");
  const RunConfig f = msq::load_run_config(q, {});
  EXPECT_EQ(fs::path(f.accelerator.scheduler.mapping_file), fs::path(dir + "/sub/m.csv"));
  EXPECT_EQ(fs::path(f.workload.calibration_path), fs::path(dir + "/sub/cal.npy"));
  fs::remove_all(dir);
}

TEST(ConfigLoader, ConfigDirComesFromTheEnvironment) {
  const std::string dir = temp_dir();
  setenv("MSQSIM_CONFIG_DIR", dir.c_str(), 1);
  EXPECT_EQ(msq::configs_dir(), dir);
  const std::string e = error_of("device: xc7z020\n");
  unsetenv("MSQSIM_CONFIG_DIR");
  EXPECT_NE(e.find("t.yaml:1: device: expected a device name"), std::string::npos) << e;
  EXPECT_EQ(msq::configs_dir(), std::string(MSQ_SOURCE_DIR) + "/configs");
  fs::remove_all(dir);
}

TEST(ConfigLoader, ErrorsNameFileLineKeyAndValue) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"clock_mhz: 100\naccelerator:\n  lut_core:\n    rows: 2.5\n",
       "t.yaml:4: accelerator.lut_core.rows: expected an integer in 1..4096 (got 2.5)"},
      {"accelerator:\n  dsp_core:\n    colz: 4\n",
       "t.yaml:3: accelerator.dsp_core.colz: unknown key, expected one of rows, cols, "
       "pipeline_depth, packing, lane_offset, drain_cycles (did you mean "
       "'accelerator.dsp_core.cols'?)"},
      {"lut_core: {rows: 3}\n",
       "t.yaml:1: lut_core: unknown key, expected one of device, "
       "clock_mhz, accelerator, memory, workload, energy, verify (did you mean "
       "'accelerator.lut_core'?)"},
      {"accelerator: 3\n",
       "t.yaml:1: accelerator: expected a mapping of lut_core, dsp_core, vector, accumulator, "
       "engines, buffers, scheduler (got 3)"},
      {"workload:\n  weight_bits: 2\n",
       "t.yaml:2: workload.weight_bits: expected an integer in 3..8 (got 2)"},
      {"workload:\n  sp2_fraction: 0.8\n  fixed8_fraction: 0.3\n",
       "t.yaml:3: workload.fixed8_fraction: expected sp2_fraction + fixed8_fraction <= 1 (got 0.8 "
       "+ 0.3)"},
      {"workload:\n  sp2_fraction: 0.5\n  fixed8_fraction_per_layer:\n    conv1: 0.25\n    fc: "
       "0.75\n",
       "t.yaml:5: workload.fixed8_fraction_per_layer.fc: expected sp2_fraction + a fraction "
       "<= 1 (got 0.5 + 0.75)"},
      {"workload:\n  fixed8_fraction: 0.5\n  sp2_fraction_per_layer: {conv1: 0.6}\n",
       "t.yaml:3: workload.sp2_fraction_per_layer.conv1: expected a fraction + "
       "fixed8_fraction <= 1 (got 0.6 + 0.5)"},
      {"workload: {seed: -1}\n",
       "t.yaml:1: workload.seed: expected an unsigned 64-bit integer (got -1)"},
      {"workload: {layers: conv1}\n",
       "t.yaml:1: workload.layers: expected a list of names, e.g. [conv1, fc] (got conv1)"},
      {"workload: {layers: [conv1, layer9]}\n",
       "t.yaml:1: workload.layers: expected layer names of resnet18 (got layer9)"},
      {"workload: {network: resnet19}\n", "t.yaml:1: workload.network: expected a network name"},
      {"memory: {axi_width_bits: 48}\n",
       "t.yaml:1: memory.axi_width_bits: expected one of 32, 64, 128 (got 48)"},
      {"memory: {preset: ddr5}\n",
       "t.yaml:1: memory.preset: expected a preset name "
       "(ddr3-1066-x32, ddr4-2400-x64, pynq-z2-ddr3-1050, ultra96-lpddr4-2133, zcu102-ddr4-2400)"},
      {"verify: 1.5\n", "t.yaml:1: verify: expected true or false (got 1.5)"},
      {"clock_mhz:\n", "t.yaml:1: clock_mhz: expected a number in 1..1000 (got nothing)"},
      {"clock_mhz: 1\nclock_mhz: 2\n", "t.yaml:2: clock_mhz: duplicate key"},
      {"[1, 2]\n", "t.yaml:1: expected a mapping of config keys (got a list)"},
  };
  for (const auto& [yaml, want] : cases) {
    const std::string e = error_of(yaml);
    EXPECT_EQ(e.substr(0, want.size()), want) << yaml;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  }
}

TEST(ConfigLoader, SetErrorsNameTheSet) {
  EXPECT_EQ(error_of("{}", {"workload.batch"}),
            "--set workload.batch: expected KEY=VALUE with KEY a dotted config key, e.g. "
            "workload.sp2_fraction=0.6 (got workload.batch)");
  EXPECT_EQ(error_of("{}", {"workload.bach=2"}),
            "--set workload.bach=2: workload.bach: unknown key, expected one of network, batch, "
            "sp2_fraction, fixed8_fraction, weight_bits, act_bits, seed, "
            "last_layer_accumulators, layers, calibration, eval_images, eval_labels, "
            "sp2_fraction_per_layer, "
            "fixed8_fraction_per_layer, sp2_auto, sp2_auto_min, sp2_auto_max (did you mean "
            "'workload.batch'?)");
  EXPECT_EQ(error_of("{}", {"workload.batch=0"}),
            "--set workload.batch=0: workload.batch: expected an integer in 1..4096 (got 0)");
  EXPECT_EQ(error_of("{}", {"workload.network_path=x"})
                .rfind("--set workload.network_path=x: "
                       "workload.network_path: unknown key",
                       0),
            0u);
  EXPECT_EQ(error_of("{}", {"workload.layers=[a"})
                .rfind("--set workload.layers=[a: workload.layers: expected a YAML value", 0),
            0u);
  EXPECT_EQ(error_of("clock_mhz: 100\n", {"clock_mhz.x=1"}),
            "--set clock_mhz.x=1: clock_mhz.x: unknown key: clock_mhz is a single value with no "
            "keys inside");
}

TEST(ConfigLoader, MissingFilesAreErrors) {
  const std::string dir = temp_dir();
  try {
    msq::load_run_config(dir + "/none.yaml", {});
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), dir + "/none.yaml: cannot read the file (no such file)");
  }
  const std::string p = write(dir, "c.yaml", "# a comment\ndevice: ./nodev.yaml\n");
  try {
    msq::load_run_config(p, {});
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(p + ":2: device: expected an existing device file", 0),
              0u)
        << e.what();
  }
  const std::string bad = write(dir, "bad.yaml", "device: xc7z020\naccelerator: {lut_core: [}\n");
  try {
    msq::load_run_config(bad, {});
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(bad + ":2: YAML syntax error: ", 0), 0u) << e.what();
  }
  fs::remove_all(dir);
}

TEST(ConfigLoader, DeviceAndPresetFilesAreChecked) {
  const std::string dir = temp_dir();
  const std::string dev = write(dir, "d.yaml", "name: x\nlut: 1\nff: 1\nbram36: 1\ndsp: 1\n");
  EXPECT_EQ(error_of("device: " + dev + "\n"),
            dev + ":1: dsp_type: missing (a device file gives every device key)");
  const std::string dev2 =
      write(dir, "d2.yaml", "name: x\nlut: 1\nff: 1\nbram36: 1\ndsp: 1\ndsp_type: DSP58\n");
  EXPECT_EQ(error_of("device: " + dev2 + "\n"),
            dev2 + ":6: dsp_type: expected one of DSP48E1, DSP48E2 (got DSP58)");
  const std::string pre = write(dir, "p.yaml", "name: p\nclock_mhz: 400\n");
  EXPECT_EQ(error_of("memory: {preset: " + pre + "}\n"),
            pre + ":1: data_width_bits: missing (a preset gives every DRAM key)");
  fs::remove_all(dir);
}

TEST(ConfigLoader, ShippedDevicesMatchTheVendorTables) {
  struct Row {
    const char* name;
    int64_t lut, ff, bram36, dsp;
    msq::DspKind kind;
  };
  // DS190 (Zynq-7000) and DS891 (Zynq UltraScale+).
  const Row rows[] = {{"xc7z020", 53200, 106400, 140, 220, msq::DspKind::DSP48E1},
                      {"xc7z045", 218600, 437200, 545, 900, msq::DspKind::DSP48E1},
                      {"xczu3eg", 70560, 141120, 216, 360, msq::DspKind::DSP48E2},
                      {"xczu9eg", 274080, 548160, 912, 2520, msq::DspKind::DSP48E2}};
  for (const auto& r : rows) {
    const RunConfig c = from_text(std::string("device: ") + r.name + "\n");
    EXPECT_EQ(c.device.name, r.name);
    EXPECT_EQ(c.device.lut, r.lut) << r.name;
    EXPECT_EQ(c.device.ff, r.ff) << r.name;
    EXPECT_EQ(c.device.bram36, r.bram36) << r.name;
    EXPECT_EQ(c.device.dsp, r.dsp) << r.name;
    EXPECT_EQ(c.device.dsp_kind, r.kind) << r.name;
  }
}

TEST(ConfigLoader, PresetsGiveTheStatedPeakBandwidth) {
  // Peak = 2 transfers per command clock x bus bytes: 4.26 GB/s and 19.2 GB/s.
  const auto peak = [](const msq::DramConfig& d) {
    return 2 * d.clock_mhz * 1e6 * d.data_width_bits / 8;
  };
  const RunConfig ddr3 = from_text("memory: {preset: ddr3-1066-x32}\n");
  const RunConfig ddr4 = from_text("memory: {preset: ddr4-2400-x64}\n");
  EXPECT_NEAR(peak(ddr3.memory.dram) / 1e9, 4.26, 0.01);
  EXPECT_NEAR(peak(ddr4.memory.dram) / 1e9, 19.2, 0.01);
  // tREFI is 7.8 us in both.
  EXPECT_NEAR(ddr3.memory.dram.tREFI / ddr3.memory.dram.clock_mhz, 7.8, 0.01);
  EXPECT_NEAR(ddr4.memory.dram.tREFI / ddr4.memory.dram.clock_mhz, 7.8, 0.01);
}

// Hostile YAML (issue: found by fuzzing). Each must be one InputError, never a crash or a hang.

TEST(ConfigLoader, AliasInsideItsOwnAnchorIsACycle) {
  // Without the bound, the tree walk recursed until the stack ran out (a segmentation fault).
  EXPECT_EQ(error_of("clock_mhz: 100\naccelerator: &a {lut_core: *a}\n"),
            "t.yaml:2: accelerator.lut_core: an alias refers to a node that contains it (a cycle)");
  EXPECT_EQ(error_of("{}", {"accelerator=&a {lut_core: *a}"}),
            "--set accelerator=&a {lut_core: *a}: accelerator.lut_core: an alias refers to a node "
            "that contains it (a cycle)");
  const std::string dir = temp_dir();
  const std::string net = write(dir, "n.yaml", "name: n\nlayers: &l\n  - *l\n");
  const std::string cfg = write(dir, "c.yaml", "workload:\n  network: n.yaml\n");
  try {
    msq::load_run_config(cfg, {});
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              net + ":2: layers[0]: an alias refers to a node that contains it (a cycle)");
  }
  fs::remove_all(dir);
}

TEST(ConfigLoader, AliasBombIsBounded) {
  // 9 levels of 10 aliases each: 10^9 values from a few hundred bytes.
  std::string y =
      "a0: &a0 {k0: 1, k1: 1, k2: 1, k3: 1, k4: 1, k5: 1, k6: 1, k7: 1, k8: 1, k9: 1}\n";
  for (int i = 1; i < 9; ++i) {
    y += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " {";
    for (int j = 0; j < 10; ++j)
      y += (j ? ", k" : "k") + std::to_string(j) + ": *a" + std::to_string(i - 1);
    y += "}\n";
  }
  ASSERT_LT(y.size(), 1000u);
  const std::string e = error_of(y);
  EXPECT_NE(e.find("t.yaml:"), std::string::npos) << e;
  EXPECT_NE(e.find("the document expands to more than 1000000 values"), std::string::npos) << e;
}

TEST(ConfigLoader, DuplicateKeyCheckIsLinear) {
  // 100k keys took 26 s with the quadratic check; the linear one takes well under a second.
  std::string y = "accelerator:\n  lut_core:\n";
  for (int i = 0; i < 100'000; ++i) y += "    k" + std::to_string(i) + ": 1\n";
  y += "    k7: 2\n";
  // CPU time, not wall time: other processes on a loaded CI machine must not fail this test.
  const std::clock_t t0 = std::clock();
  const std::string e = error_of(y);
  const double s = double(std::clock() - t0) / CLOCKS_PER_SEC;
  EXPECT_EQ(e, "t.yaml:100003: accelerator.lut_core.k7: duplicate key");
#ifndef MSQ_SANITIZED  // the sanitizers' own cost swamps the check: they look for memory errors
  EXPECT_LT(s, 8.0);
#else
  (void)s;
#endif
}

TEST(ConfigLoader, HugeValuesAreClippedInMessages) {
  const std::string big(1'000'000, 'x');
  for (const std::string& e :
       {error_of("device: " + big + "\n"), error_of("{}", {"workload.network=" + big}),
        error_of("{}", {"workload.layers=[" + big}), error_of("? " + big + "\n: 1\n")}) {
    EXPECT_LT(e.size(), 1500u) << e.substr(0, 300);
    EXPECT_NE(e.find("xxx..."), std::string::npos) << e.substr(0, 300);
  }
  const std::string dir = temp_dir();
  const std::string p = write(dir, "big.yaml", "clock_mhz: 1\n# " + std::string(17 << 20, 'x'));
  try {
    msq::load_run_config(p, {});
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(p + ": expected a YAML file of at most 16 MiB", 0), 0u)
        << e.what();
  }
  fs::remove_all(dir);
}
