// run --vcd: the file is a Value Change Dump (header, $enddefinitions, increasing timestamps, only
// declared identifiers) that a minimal reader here and GTKWave's vcd2fst both accept; each
// engine's busy wire is high for exactly its busy cycles of the report, its job counter ends at
// its job count, the layer signal walks the layers in order, and the layer filter keeps only what
// it names.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "models/stats/event_sink.h"
#include "models/stats/vcd_writer.h"
#include "tests/support/cli_fixture.h"

using msq::testing::CliTest;
using msq::testing::Result;
using nlohmann::json;

namespace {

constexpr int64_t kX = -1;  // an x or z value

// What the minimal reader makes of a VCD: the signals by "scope.name" (the top scope left out)
// and their values over time in picoseconds.
struct Vcd {
  int64_t unit_ps = 0;
  bool enddefinitions = false;
  std::map<std::string, std::string> path;  // identifier code -> scope.name
  std::map<std::string, int> width;         // scope.name -> bits
  std::map<std::string, std::vector<std::pair<int64_t, int64_t>>> values;  // (time ps, value)
  int64_t end_ps = 0;
  std::vector<std::string> errors;

  // Total time the signal spent at `v`, up to the last timestamp.
  int64_t time_at(const std::string& p, int64_t v) const {
    const auto& c = values.at(p);
    int64_t sum = 0;
    for (size_t i = 0; i < c.size(); ++i)
      if (c[i].second == v) sum += (i + 1 < c.size() ? c[i + 1].first : end_ps) - c[i].first;
    return sum;
  }
  int64_t last(const std::string& p) const { return values.at(p).back().second; }
};

Vcd parse_vcd(const std::string& text) {
  Vcd v;
  std::istringstream in(text);
  std::vector<std::string> tok;
  for (std::string t; in >> t;) tok.push_back(t);
  size_t i = 0;
  const auto until_end = [&](std::vector<std::string>* words) {
    for (++i; i < tok.size() && tok[i] != "$end"; ++i)
      if (words) words->push_back(tok[i]);
    if (i == tok.size()) v.errors.push_back("a section without $end");
    ++i;
  };
  std::vector<std::string> scopes;
  while (i < tok.size() && !v.enddefinitions) {
    std::vector<std::string> w;
    const std::string k = tok[i];
    if (k == "$timescale") {
      until_end(&w);
      std::string s;
      for (const std::string& x : w) s += x;
      const size_t d = s.find_first_not_of("0123456789");
      const std::string num = s.substr(0, d), unit = d == std::string::npos ? "" : s.substr(d);
      const std::map<std::string, int64_t> ps = {{"ps", 1}, {"ns", 1000}, {"us", 1000000}};
      if (num.empty() || !ps.count(unit))
        v.errors.push_back("bad $timescale " + s);
      else
        v.unit_ps = std::stoll(num) * ps.at(unit);
    } else if (k == "$scope") {
      until_end(&w);
      if (w.size() != 2)
        v.errors.push_back("bad $scope");
      else
        scopes.push_back(w[1]);
    } else if (k == "$upscope") {
      until_end(nullptr);
      if (scopes.empty())
        v.errors.push_back("$upscope without $scope");
      else
        scopes.pop_back();
    } else if (k == "$var") {
      until_end(&w);
      if (w.size() < 4 || std::stoi(w[1]) < 1 || v.path.count(w[2])) {
        v.errors.push_back("bad or repeated $var");
        continue;
      }
      std::string p;
      for (size_t s = 1; s < scopes.size(); ++s) p += scopes[s] + ".";
      p += w[3];
      v.path[w[2]] = p;
      v.width[p] = std::stoi(w[1]);
    } else if (k == "$enddefinitions") {
      until_end(nullptr);
      v.enddefinitions = true;
      if (!scopes.empty()) v.errors.push_back("scopes left open");
    } else if (k == "$version" || k == "$date" || k == "$comment") {
      until_end(nullptr);
    } else {
      v.errors.push_back("unexpected '" + k + "' in the header");
      ++i;
    }
  }
  int64_t now = -1;
  const auto set = [&](const std::string& id, int64_t value) {
    const auto it = v.path.find(id);
    if (it == v.path.end()) return v.errors.push_back("undeclared identifier " + id);
    if (now < 0) return v.errors.push_back("a value before the first timestamp");
    auto& c = v.values[it->second];
    if (!c.empty() && c.back().first == now)
      c.back().second = value;
    else
      c.emplace_back(now, value);
  };
  for (; i < tok.size(); ++i) {
    const std::string& t = tok[i];
    if (t[0] == '#') {
      const int64_t n = std::stoll(t.substr(1)) * v.unit_ps;
      if (n <= now) v.errors.push_back("timestamp " + t + " does not increase");
      now = n;
    } else if (t == "$dumpvars" || t == "$end" || t == "$dumpall") {
    } else if (t[0] == 'b' || t[0] == 'B') {
      int64_t value = 0;
      for (char c : t.substr(1)) {
        if (c != '0' && c != '1') value = kX;
        if (value != kX) value = value * 2 + (c - '0');
      }
      if (i + 1 < tok.size()) set(tok[++i], value);
    } else if (std::string("01xXzZ").find(t[0]) != std::string::npos && t.size() > 1) {
      set(t.substr(1), t[0] == '0' ? 0 : t[0] == '1' ? 1 : kX);
    } else {
      v.errors.push_back("unexpected '" + t + "'");
    }
  }
  v.end_ps = now;
  return v;
}

std::string errors(const Vcd& v) {
  std::string s;
  for (const std::string& e : v.errors) s += e + "\n";
  return s;
}

class VcdTest : public CliTest {
 protected:
  std::string config() {
    write("tiny.yaml",
          "name: tiny\nsource: test\nlayers:\n"
          "  - {name: c1, type: conv, input: [16, 12, 12], out_channels: 32, kernel: 3, "
          "stride: 1, padding: 1}\n"
          "  - {name: c2, type: conv, input: [32, 12, 12], out_channels: 32, kernel: 3, "
          "stride: 2, padding: 1}\n"
          "  - {name: fc, type: fc, input: 288, out_channels: 10}\n");
    // 150 MHz: a clock period that is not a whole number of nanoseconds (6667 ps in the
    // simulation). Two DRAM channels: a scope each.
    return write("c.yaml",
                 "device: xc7z020\nclock_mhz: 150\naccelerator:\n  lut_core: {rows: 8, cols: 8}\n"
                 "  dsp_core: {rows: 4, cols: 8}\n"
                 "  buffers: {input_bram36: 4, output_bram36: 4, weight_bram36: 4}\n"
                 "memory:\n  dram: {channels: 2}\n"
                 "workload: {network: tiny.yaml, sp2_fraction: 0.5}\n");
  }
  // Each engine's busy cycles and jobs over the layers `keep` accepts, from the JSON report.
  static std::map<std::string, std::pair<int64_t, int64_t>> engines(
      const json& rep, const std::function<bool(const std::string&)>& keep) {
    std::map<std::string, std::pair<int64_t, int64_t>> e;
    for (const json& l : rep["layers"]) {
      if (!keep(l["name"])) continue;
      for (const char* n : {"lut_core", "dsp_core"}) {
        e[n].first += l[std::string(n) + "_busy_cycles"].get<int64_t>();
        e[n].second += l[n]["jobs"].get<int64_t>();
      }
    }
    return e;
  }
  static constexpr int64_t kPeriodPs = 6667;
};

TEST_F(VcdTest, BusyWiresMatchTheReport) {
  const Result r = run("run '" + config() + "' --json r.json --vcd w.vcd");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("vcd: w.vcd ("), std::string::npos) << r.out;
  const json rep = read_json("r.json");
  const std::string text = read(path("w.vcd"));
  ASSERT_EQ(text.rfind("$version", 0), 0u) << text.substr(0, 200);
  const Vcd v = parse_vcd(text);
  EXPECT_TRUE(v.errors.empty()) << errors(v);
  ASSERT_TRUE(v.enddefinitions);
  EXPECT_EQ(v.unit_ps, 1);  // 6667 ps: no coarser unit holds the edges
  const auto e = engines(rep, [](const std::string&) { return true; });
  for (const auto& [name, busy_jobs] : e) {
    SCOPED_TRACE(name);
    ASSERT_GT(busy_jobs.first, 0);
    EXPECT_EQ(v.time_at(name + ".busy", 1), busy_jobs.first * kPeriodPs);
    EXPECT_EQ(v.last(name + ".busy"), 0);
    EXPECT_EQ(v.last(name + ".jobs"), busy_jobs.second);
    EXPECT_GE(v.width.at(name + ".jobs"), 1);
    // The layer of its last job: the engines all work on the last layer.
    EXPECT_EQ(v.last(name + ".layer"), 2);
  }
  // The layer in progress walks the layers in order from time 0 and ends unknown; the layers' time
  // is the run's, which the report rounds to whole cycles.
  const auto& layer = v.values.at("layer");
  std::vector<int64_t> seq;
  for (const auto& [t, val] : layer) seq.push_back(val);
  EXPECT_EQ(seq, (std::vector<int64_t>{0, 1, 2, kX}));
  EXPECT_EQ(v.width.at("layer"), 2);
  const int64_t cycles = rep["total"]["cycles"].get<int64_t>();
  EXPECT_EQ(v.time_at("layer", kX), v.end_ps - v.values.at("layer").back().first);
  EXPECT_NEAR(double(v.values.at("layer").back().first), double(cycles * kPeriodPs), kPeriodPs);
  // Every DMA stream and DRAM channel: busy exactly while bytes are in flight, and idle at the end.
  int transfers = 0;
  for (const char* s :
       {"dma_weights", "dma_inputs", "dma_outputs", "dram_channel_0", "dram_channel_1"}) {
    SCOPED_TRACE(s);
    const std::string busy = std::string(s) + ".busy", bytes = std::string(s) + ".bytes";
    ASSERT_TRUE(v.values.count(busy) && v.values.count(bytes));
    EXPECT_EQ(v.time_at(busy, 1), v.end_ps - v.time_at(bytes, 0));
    EXPECT_EQ(v.last(bytes), 0);
    transfers += int(v.values.at(busy).size());
  }
  EXPECT_GT(transfers, 10);
}

TEST_F(VcdTest, AgreesWithTheTimelineAndVcd2fstAcceptsIt) {
  const Result r = run("run '" + config() + "' --no-verify --timeline t.json --vcd w.vcd");
  ASSERT_EQ(r.code, 0) << r.err;
  const json tl = read_json("t.json");
  const Vcd v = parse_vcd(read(path("w.vcd")));
  ASSERT_TRUE(v.errors.empty()) << errors(v);
  // Each track's spans in the JSON timeline cover the same time as its busy wire (no two spans
  // of a track overlap: the timeline's own test).
  std::map<int, std::string> track;
  std::map<std::string, int64_t> span_ps;
  for (const json& ev : tl["traceEvents"])
    if (ev["ph"] == "M" && ev["name"] == "thread_name")
      track[ev["tid"].get<int>()] = ev["args"]["name"].get<std::string>();
  for (const json& ev : tl["traceEvents"])
    if (ev["ph"] == "X")
      span_ps[track.at(ev["tid"].get<int>())] +=
          std::llround(ev["dur"].get<double>() * 1e6);  // microseconds, 6 decimals
  ASSERT_TRUE(span_ps.count("LUT core") && span_ps.count("DSP core"));
  EXPECT_EQ(v.time_at("lut_core.busy", 1), span_ps.at("LUT core"));
  EXPECT_EQ(v.time_at("dsp_core.busy", 1), span_ps.at("DSP core"));
  EXPECT_EQ(v.time_at("dma_inputs.busy", 1), span_ps.at("DMA inputs"));

  // GTKWave's converter (Debian's gtkwave, installed by tools/setup.sh) reads it; what it read,
  // written back as VCD, has the same busy time.
  ASSERT_EQ(std::system("command -v vcd2fst >/dev/null && command -v fst2vcd >/dev/null"), 0)
      << "vcd2fst/fst2vcd not found: tools/setup.sh installs Debian's gtkwave";
  const Result conv = shell("vcd2fst w.vcd w.fst && fst2vcd w.fst > back.vcd");
  ASSERT_EQ(conv.code, 0) << conv.err;
  const Vcd back = parse_vcd(read(path("back.vcd")));
  EXPECT_TRUE(back.errors.empty()) << errors(back);
  EXPECT_EQ(back.path.size(), v.path.size());
  EXPECT_EQ(back.end_ps, v.end_ps);
  for (const char* s : {"lut_core.busy", "dsp_core.busy", "dma_weights.busy"})
    EXPECT_EQ(back.time_at(s, 1), v.time_at(s, 1)) << s;
  EXPECT_EQ(back.values.at("dsp_core.jobs"), v.values.at("dsp_core.jobs"));
}

TEST_F(VcdTest, LayerFilterKeepsOnlyTheNamedLayers) {
  const Result r =
      run("run '" + config() + "' --no-verify --json r.json --vcd w.vcd --timeline-layers 'c*'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_FALSE(std::filesystem::exists(path("t.json")));
  const json rep = read_json("r.json");
  const Vcd v = parse_vcd(read(path("w.vcd")));
  ASSERT_TRUE(v.errors.empty()) << errors(v);
  const auto e = engines(rep, [](const std::string& n) { return n != "fc"; });
  for (const auto& [name, busy_jobs] : e) {
    EXPECT_EQ(v.time_at(name + ".busy", 1), busy_jobs.first * kPeriodPs) << name;
    EXPECT_EQ(v.last(name + ".jobs"), busy_jobs.second) << name;
    for (const auto& [t, layer] : v.values.at(name + ".layer")) EXPECT_NE(layer, 2) << name;
  }
  std::vector<int64_t> seq;
  for (const auto& [t, val] : v.values.at("layer")) seq.push_back(val);
  EXPECT_EQ(seq, (std::vector<int64_t>{0, 1, kX}));
  // The layer names by index are in the header, for viewers that translate values.
  const std::string text = read(path("w.vcd"));
  EXPECT_NE(text.find("\n  2 fc\n"), std::string::npos);
}

TEST_F(VcdTest, UnwritablePathStopsBeforeSimulating) {
  const Result r = run("run '" + config() + "' --no-verify --vcd no/such/dir/w.vcd");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("no/such/dir/w.vcd"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");  // no table: the run never started
  const Result filt = run("run '" + config() + "' --no-verify --vcd w.vcd --timeline-layers x9");
  EXPECT_EQ(filt.code, 2);
  EXPECT_NE(filt.err.find("'x9' matches no layer"), std::string::npos) << filt.err;
  EXPECT_FALSE(std::filesystem::exists(path("w.vcd")));
  const Result same = run("run '" + config() + "' --no-verify --timeline w.vcd --vcd w.vcd");
  EXPECT_EQ(same.code, 2);
  EXPECT_NE(same.err.find("--vcd and --timeline name the same file 'w.vcd'"), std::string::npos)
      << same.err;
  EXPECT_EQ(same.out, "");
}

// The writer alone, on spans made by hand: any number of engines (one scope per engine track,
// whatever its name), back-to-back jobs, overlapping transfers on one stream, and the timescale.
TEST(VcdWriter, AnyNumberOfEnginesAndOverlappingTransfers) {
  using K = msq::EventSink::Kind;
  msq::EventSink sink;
  sink.set_layers({"a", "b"});
  const int lay = sink.track("layers", 0);
  const int e[3] = {sink.track("LUT core", 1), sink.track("bitserial 2", 1),
                    sink.track("bitserial_2", 1)};  // the same scope name once sanitized
  const int dma = sink.track("DMA inputs", 2);
  const int64_t ns = 1000;
  sink.span({lay, 0, -1, K::Layer, 0, 100 * ns, 0, 0, 0});
  sink.span({lay, 1, -1, K::Layer, 100 * ns, 50 * ns, 0, 0, 0});
  // Engine 0: two jobs back to back, then one in layer b; engine 1 one job; engine 2 none that
  // takes time (an empty job still counts).
  sink.span({e[0], 0, 0, K::Job, 10 * ns, 20 * ns, 4, 20, 0});
  sink.span({e[0], 0, 1, K::Job, 30 * ns, 20 * ns, 4, 20, 0});
  sink.span({e[0], 1, 0, K::Job, 120 * ns, 10 * ns, 4, 10, 0});
  sink.span({e[1], 1, 0, K::Job, 100 * ns, 40 * ns, 4, 40, 0});
  sink.span({e[2], 0, 0, K::Job, 60 * ns, 0, 4, 0, 0});
  // Two transfers overlapping on one stream: 100 B over [0, 30), 50 B over [20, 40).
  sink.span({dma, 0, 0, K::Transfer, 0, 30 * ns, 100, 0, 1});
  sink.span({dma, 0, 1, K::Transfer, 20 * ns, 20 * ns, 50, 0, 1});

  msq::VcdInfo info;
  const Vcd v = parse_vcd(msq::to_vcd(sink, "hand-made", &info));
  ASSERT_TRUE(v.errors.empty()) << errors(v);
  EXPECT_EQ(v.unit_ps, 1000);
  EXPECT_EQ(info.timescale_ps, 1000);
  EXPECT_EQ(info.signals, 1 + 3 * 3 + 2);
  EXPECT_EQ(v.time_at("lut_core.busy", 1), 50 * ns);
  EXPECT_EQ(v.values.at("lut_core.busy").size(), 5u);  // 0, 1 at 10, 0 at 50, 1 at 120, 0 at 130
  EXPECT_EQ(v.last("lut_core.jobs"), 3);
  EXPECT_EQ(v.last("lut_core.layer"), 1);
  EXPECT_EQ(v.time_at("bitserial_2.busy", 1), 40 * ns);
  EXPECT_EQ(v.last("bitserial_2_2.jobs"), 1);
  EXPECT_EQ(v.time_at("bitserial_2_2.busy", 1), 0);
  EXPECT_EQ(v.time_at("dma_inputs.busy", 1), 40 * ns);
  const std::vector<std::pair<int64_t, int64_t>> bytes = {
      {0, 100}, {20 * ns, 150}, {30 * ns, 50}, {40 * ns, 0}};
  EXPECT_EQ(v.values.at("dma_inputs.bytes"), bytes);
  const std::vector<std::pair<int64_t, int64_t>> layer = {{0, 0}, {100 * ns, 1}, {150 * ns, kX}};
  EXPECT_EQ(v.values.at("layer"), layer);
  EXPECT_EQ(v.end_ps, 150 * ns);

  // One boundary off the nanosecond grid: picoseconds.
  sink.span({dma, 1, 2, K::Transfer, 140 * ns + 5, 1, 8, 0, 1});
  EXPECT_EQ(parse_vcd(msq::to_vcd(sink, "hand-made")).unit_ps, 1);
}

}  // namespace
