// run --timeline: the file is trace-event JSON that Perfetto / chrome://tracing accept, its
// spans agree with the report (each core's job spans add up to its busy cycles, DMA spans to the
// DRAM traffic, layer spans to the layers' cycles), no track has overlapping spans, and the layer
// filter keeps only what it names.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "tests/support/cli_fixture.h"

using msq::testing::CliTest;
using msq::testing::Result;
using nlohmann::json;

namespace {

class Timeline : public CliTest {
 protected:
  std::string config() {
    write("tiny.yaml",
          "name: tiny\nsource: test\nlayers:\n"
          "  - {name: c1, type: conv, input: [16, 12, 12], out_channels: 32, kernel: 3, "
          "stride: 1, padding: 1}\n"
          "  - {name: c2, type: conv, input: [32, 12, 12], out_channels: 32, kernel: 3, "
          "stride: 2, padding: 1}\n"
          "  - {name: fc, type: fc, input: 288, out_channels: 10}\n");
    // 150 MHz: a clock period that is not a whole number of picoseconds. Two DRAM channels: a
    // track each.
    return write("c.yaml",
                 "device: xc7z020\nclock_mhz: 150\naccelerator:\n  lut_core: {rows: 8, cols: 8}\n"
                 "  dsp_core: {rows: 4, cols: 8}\n"
                 "  buffers: {input_bram36: 4, output_bram36: 4, weight_bram36: 4}\n"
                 "memory:\n  dram: {channels: 2}\n"
                 "workload: {network: tiny.yaml, sp2_fraction: 0.5}\n");
  }
  struct Parsed {
    std::map<int, std::string> track;                       // tid -> name
    std::map<std::string, std::vector<const json*>> spans;  // track name -> X events
  };
  // Checks the trace-event format and returns the spans by track name (pointers into `t`).
  static Parsed parse(const json& t) {
    Parsed p;
    EXPECT_TRUE(t.is_object());
    EXPECT_TRUE(t.contains("traceEvents"));
    const json& ev = t["traceEvents"];
    EXPECT_TRUE(ev.is_array());
    for (const json& e : ev) {
      EXPECT_TRUE(e["name"].is_string());
      EXPECT_TRUE(e["ph"].is_string());
      EXPECT_TRUE(e["pid"].is_number_integer());
      EXPECT_TRUE(e["tid"].is_number_integer());
      if (e["ph"] == "M" && e["name"] == "thread_name")
        p.track[e["tid"].get<int>()] = e["args"]["name"].get<std::string>();
    }
    for (const json& e : ev) {
      if (e["ph"] != "X") {
        EXPECT_EQ(e["ph"], "M");
        continue;
      }
      EXPECT_TRUE(e["ts"].is_number());
      EXPECT_TRUE(e["dur"].is_number());
      EXPECT_GE(e["ts"].get<double>(), 0.0);
      EXPECT_GE(e["dur"].get<double>(), 0.0);
      EXPECT_TRUE(e["args"]["layer"].is_string());
      const auto it = p.track.find(e["tid"].get<int>());
      EXPECT_NE(it, p.track.end()) << "span on a track without a name: " << e.dump();
      if (it != p.track.end()) p.spans[it->second].push_back(&e);
    }
    return p;
  }
  static double sum_dur(const std::vector<const json*>& v) {
    double s = 0;
    for (const json* e : v) s += (*e)["dur"].get<double>();
    return s;
  }
};

TEST_F(Timeline, SpansMatchTheReportAndNeverOverlap) {
  const Result r = run("run '" + config() + "' --json r.json --timeline t.json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("timeline: t.json"), std::string::npos) << r.out;
  const json rep = read_json("r.json");
  const json tl = read_json("t.json");
  const Parsed p = parse(tl);
  const double period_us = 1.0 / rep["config"]["clock_mhz"].get<double>();
  int64_t busy[2] = {0, 0}, dram = 0, cycles = 0;
  for (const json& l : rep["layers"]) {
    busy[0] += l["lut_core_busy_cycles"].get<int64_t>();
    busy[1] += l["dsp_core_busy_cycles"].get<int64_t>();
    dram += l["dram_bytes"].get<int64_t>();
    cycles += l["cycles"].get<int64_t>();
  }
  ASSERT_GT(busy[0], 0);
  ASSERT_GT(busy[1], 0);
  // The clock period is rounded to whole picoseconds in the simulation: 6667 ps for 6666.67.
  EXPECT_NEAR(sum_dur(p.spans.at("LUT core")), double(busy[0]) * period_us,
              1e-4 * double(busy[0]) * period_us);
  EXPECT_NEAR(sum_dur(p.spans.at("DSP core")), double(busy[1]) * period_us,
              1e-4 * double(busy[1]) * period_us);
  EXPECT_NEAR(sum_dur(p.spans.at("layers")), double(cycles) * period_us,
              1e-4 * double(cycles) * period_us);
  EXPECT_EQ(p.spans.at("layers").size(), rep["layers"].size());
  int64_t dma_bytes = 0, jobs = 0;
  for (const char* t : {"DMA weights", "DMA inputs", "DMA outputs"})
    for (const json* e : p.spans.at(t)) dma_bytes += (*e)["args"]["bytes"].get<int64_t>();
  EXPECT_EQ(dma_bytes, dram);
  for (const json& l : rep["layers"])
    jobs += l["lut_core"]["jobs"].get<int64_t>() + l["dsp_core"]["jobs"].get<int64_t>();
  EXPECT_EQ(int64_t(p.spans.at("LUT core").size() + p.spans.at("DSP core").size()), jobs);
  ASSERT_TRUE(p.spans.count("DRAM channel 0"));
  ASSERT_TRUE(p.spans.count("DRAM channel 1"));
  for (const auto& [name, v] : p.spans) {
    std::vector<std::pair<double, double>> iv;
    for (const json* e : v)
      iv.emplace_back((*e)["ts"].get<double>(),
                      (*e)["ts"].get<double>() + (*e)["dur"].get<double>());
    std::sort(iv.begin(), iv.end());
    for (size_t i = 1; i < iv.size(); ++i)
      EXPECT_GE(iv[i].first, iv[i - 1].second - 1e-9) << name << " span " << i << " overlaps";
  }
}

// A graph's Add and pools run on the vector engine: a track of their own, one span per op for its
// busy cycles, named after the op; its DMA transfers carry the op's name, so the DMA spans add up
// to the DRAM traffic of the layers and the ops together; the filter takes op names too.
TEST_F(Timeline, VectorEngineOpsHaveTheirOwnTrack) {
  write("res.yaml",
        "name: res\nsource: test\ninput: [8, 16, 16]\nlayers:\n"
        "  - {name: c1, type: conv, out_channels: 16, kernel: 3, padding: 1}\n"
        "  - {name: pool, type: maxpool, kernel: 2, stride: 2}\n"
        "  - {name: c2, type: conv, out_channels: 16, kernel: 3, padding: 1}\n"
        "  - {name: c3, type: conv, out_channels: 16, kernel: 3, padding: 1}\n"
        "  - {name: sum, type: add, inputs: [c3, pool]}\n"
        "  - {name: gap, type: global_avgpool}\n"
        "  - {name: fc, type: fc, out_channels: 10}\n");
  config();
  const Result r =
      run("run c.yaml --set workload.network=res.yaml --no-verify --json r.json "
          "--timeline t.json");
  ASSERT_EQ(r.code, 0) << r.err;
  const json rep = read_json("r.json");
  const json tl = read_json("t.json");
  const Parsed p = parse(tl);
  const double period_us = 1.0 / rep["config"]["clock_mhz"].get<double>();
  std::vector<std::string> names;
  int64_t busy = 0, dram = 0;
  for (const json& o : rep["ops"]) {
    dram += o["dram_bytes"].get<int64_t>();
    if (o["engine"] != "vector") continue;
    names.push_back(o["name"].get<std::string>());
    busy += o["busy_cycles"].get<int64_t>();
  }
  ASSERT_EQ(names, (std::vector<std::string>{"pool", "sum", "gap"}));
  ASSERT_GT(busy, 0);
  ASSERT_TRUE(p.spans.count("vector engine"));
  const auto& v = p.spans.at("vector engine");
  ASSERT_EQ(v.size(), names.size());
  for (size_t i = 0; i < v.size(); ++i) {
    EXPECT_EQ((*v[i])["name"], names[i]);
    EXPECT_EQ((*v[i])["args"]["lanes"], rep["graph"]["vector_lanes"]);
  }
  EXPECT_NEAR(sum_dur(v), double(busy) * period_us, 1e-4 * double(busy) * period_us);
  int64_t dma_bytes = 0;
  std::map<std::string, int64_t> by_layer;
  for (const char* t : {"DMA weights", "DMA inputs", "DMA outputs"})
    for (const json* e : p.spans.at(t)) {
      dma_bytes += (*e)["args"]["bytes"].get<int64_t>();
      by_layer[(*e)["args"]["layer"].get<std::string>()] += (*e)["args"]["bytes"].get<int64_t>();
    }
  EXPECT_EQ(dma_bytes, dram);
  for (const json& o : rep["ops"])
    EXPECT_EQ(by_layer[o["name"].get<std::string>()], o["dram_bytes"].get<int64_t>()) << o["name"];

  const Result f =
      run("run c.yaml --set workload.network=res.yaml --no-verify --timeline "
          "f.json --timeline-layers sum");
  ASSERT_EQ(f.code, 0) << f.err;
  const json tf = read_json("f.json");
  const Parsed q = parse(tf);
  ASSERT_TRUE(q.spans.count("vector engine"));
  EXPECT_EQ(q.spans.at("vector engine").size(), 1u);
  EXPECT_FALSE(q.spans.count("layers"));
  for (const auto& [name, spans] : q.spans)
    for (const json* e : spans) EXPECT_EQ((*e)["args"]["layer"], "sum") << name;
}

TEST_F(Timeline, LayerFilterKeepsOnlyTheNamedLayers) {
  const Result r = run("run '" + config() +
                       "' --no-verify --json r.json --timeline t.json --timeline-layers 'c*'");
  ASSERT_EQ(r.code, 0) << r.err;
  const json rep = read_json("r.json");
  const json tl = read_json("t.json");
  const Parsed p = parse(tl);
  int64_t busy = 0;
  for (const json& l : rep["layers"])
    if (l["name"] != "fc") busy += l["lut_core_busy_cycles"].get<int64_t>();
  for (const auto& [name, v] : p.spans)
    for (const json* e : v) EXPECT_NE((*e)["args"]["layer"], "fc") << name;
  EXPECT_EQ(p.spans.at("layers").size(), 2u);
  const double period_us = 1.0 / 150;
  EXPECT_NEAR(sum_dur(p.spans.at("LUT core")), double(busy) * period_us,
              1e-4 * double(busy) * period_us);

  const Result one =
      run("run '" + config() + "' --no-verify --timeline t2.json --timeline-layers fc");
  ASSERT_EQ(one.code, 0) << one.err;
  const json tl2 = read_json("t2.json");
  const Parsed q = parse(tl2);
  EXPECT_EQ(q.spans.at("layers").size(), 1u);
}

TEST_F(Timeline, BadFilterIsRefusedWithoutAFile) {
  const Result r = run("run '" + config() +
                       "' --no-verify --timeline t.json --timeline-layers "
                       "c1,conv9");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("'conv9' matches no layer"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("c1, c2, fc"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(path("t.json")));

  const Result no_file = run("run '" + config() + "' --timeline-layers c1");
  EXPECT_EQ(no_file.code, 2);
  EXPECT_NE(no_file.err.find("needs --timeline"), std::string::npos) << no_file.err;
  const Result empty = run("run '" + config() + "' --timeline t.json --timeline-layers c1,,c2");
  EXPECT_EQ(empty.code, 2);
  EXPECT_NE(empty.err.find("comma-separated"), std::string::npos) << empty.err;
}

// The filter takes the vector engine's op names too: a name that matches nothing lists both kinds
// (the ops come after every layer, so the cut list of names never showed one), and quotes a long
// glob clipped.
TEST_F(Timeline, BadFilterOnAGraphListsLayersAndVectorOps) {
  const std::string cfg = "'" MSQ_SOURCE_DIR "/configs/examples/default.yaml' --no-verify";
  const Result r = run("run " + cfg + " --timeline t.json --timeline-layers 'add*'");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--timeline-layers: 'add*' matches no layer or vector-engine op of the "
                       "workload (expected a name or a glob such as 'layer3.*'; the layers are "
                       "conv1, layer1.0.conv1, "),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("; the vector-engine ops are maxpool, layer1.0.add, layer1.1.add, "),
            std::string::npos)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_FALSE(std::filesystem::exists(path("t.json")));
  const Result ok = run("run " + cfg + " --timeline t.json --timeline-layers 'maxpool,*.add'");
  EXPECT_EQ(ok.code, 0) << ok.err;
  const Result lng =
      run("run " + cfg + " --timeline t.json --timeline-layers " + std::string(3000, 'x'));
  EXPECT_EQ(lng.code, 2);
  EXPECT_LT(lng.err.size(), 700u) << lng.err.substr(0, 200);
}

}  // namespace
