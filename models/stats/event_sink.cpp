#include "models/stats/event_sink.h"

#include <fmt/format.h>
#include <fnmatch.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "models/error.h"

namespace msq {

EventSink::EventSink(std::vector<std::string> layer_globs) : globs_(std::move(layer_globs)) {}

void EventSink::set_layers(const std::vector<std::string>& names, size_t core_layers) {
  names_ = names;
  keep_.assign(names.size(), globs_.empty());
  core_layers = std::min(core_layers, names.size());
  for (const std::string& g : globs_) {
    bool any = false;
    for (size_t l = 0; l < names.size(); ++l)
      if (fnmatch(g.c_str(), names[l].c_str(), 0) == 0) keep_[l] = true, any = true;
    if (!any) {
      // The first names of each kind: the vector engine's ops come after every layer, so a
      // single cut list never showed one although the filter takes them.
      const auto some = [&](size_t from, size_t to) {
        std::string all;
        for (size_t l = from; l < to && l < from + 8; ++l)
          all += (l > from ? ", " : "") + clip_text(names[l], 40);
        if (to - from > 8) all += ", ...";
        return all;
      };
      const bool ops = core_layers < names.size();
      throw InputError(fmt::format(
          "--timeline-layers: '{}' matches no {} of the workload (expected a name or a glob such "
          "as 'layer3.*'; the layers are {}{})",
          clip_text(g), ops ? "layer or vector-engine op" : "layer", some(0, core_layers),
          ops ? "; the vector-engine ops are " + some(core_layers, names.size()) : ""));
    }
  }
}

int EventSink::track(const std::string& name, int sort) {
  for (size_t i = 0; i < tracks_.size(); ++i)
    if (tracks_[i].first == name) return int(i);
  tracks_.emplace_back(name, sort);
  return int(tracks_.size()) - 1;
}

int EventSink::engine_track(int slot) {
  if (size_t(slot) >= core_track_.size()) core_track_.resize(size_t(slot) + 1, -1);
  int& t = core_track_[size_t(slot)];
  if (t < 0)
    t = track(size_t(slot) < engine_names_.size() ? engine_names_[size_t(slot)]
                                                  : "engine " + std::to_string(slot),
              1);
  return t;
}

void EventSink::job(int core, int layer, int tile, int k_tile, int64_t rows, int64_t cycles,
                    int64_t clock_ps, int64_t end_ps) {
  if (!keep(layer)) return;
  const int64_t dur = cycles * clock_ps;
  spans_.push_back(
      {engine_track(core), layer, tile, Kind::Job, end_ps - dur, dur, rows, cycles, k_tile});
}

void EventSink::op(int slot, int index, int64_t lanes, int64_t cycles, int64_t clock_ps,
                   int64_t end_ps) {
  if (!keep(index)) return;
  const int64_t dur = cycles * clock_ps;
  spans_.push_back({engine_track(slot), index, -1, Kind::Op, end_ps - dur, dur, lanes, cycles, 0});
}

void EventSink::transfer(int traffic, int64_t begin_ps, int64_t end_ps, int64_t bytes,
                         uint64_t addr) {
  if (!keep(tag_layer_)) return;
  static const char* const names[] = {"DMA weights", "DMA inputs", "DMA outputs"};
  int& t = dma_track_[traffic % 3];
  if (t < 0) t = track(names[traffic % 3], 2);
  spans_.push_back({t, tag_layer_, tag_tile_, Kind::Transfer, begin_ps, end_ps - begin_ps, bytes,
                    int64_t(addr), traffic % 3});
}

void EventSink::dram_burst(int channel, int64_t start_cycle, int64_t end_cycle, int64_t bursts,
                           int64_t bytes) {
  if (channel < 0) return;
  if (size_t(channel) >= dram_.size()) dram_.resize(size_t(channel) + 1);
  DramPending& p = dram_[size_t(channel)];
  if (p.bursts == 0) p.start = start_cycle, p.end = end_cycle;
  p.start = std::min(p.start, start_cycle);
  p.end = std::max(p.end, end_cycle);
  p.bursts += bursts;
  p.bytes += bytes;
}

void EventSink::dram_flush(double tck_ps) {
  for (size_t c = 0; c < dram_.size(); ++c) {
    DramPending& p = dram_[c];
    if (p.bursts == 0) continue;
    if (keep(tag_layer_)) {
      if (p.track < 0) p.track = track(fmt::format("DRAM channel {}", c), 3);
      const int64_t s = int64_t(double(p.start) * tck_ps + 0.5);
      const int64_t e = int64_t(double(p.end) * tck_ps + 0.5);
      spans_.push_back(
          {p.track, tag_layer_, tag_tile_, Kind::Dram, s, e - s, p.bytes, p.bursts, 0});
    }
    p.bursts = p.bytes = 0;
  }
}

void EventSink::layer(int layer, int64_t start_ps, int64_t end_ps, int64_t macs, int64_t dram_bytes,
                      int64_t cycles) {
  if (!keep(layer)) return;
  if (layer_track_ < 0) layer_track_ = track("layers", 0);
  spans_.push_back({layer_track_, layer, -1, Kind::Layer, start_ps, end_ps - start_ps, macs,
                    dram_bytes, cycles});
}

namespace {

// Picoseconds as trace-event microseconds, exactly (six decimals).
std::string us(int64_t ps) {
  return fmt::format("{}.{:06d}", ps / 1000000, ps % 1000000);
}

}  // namespace

std::string EventSink::to_json(const std::string& title) const {
  // Tracks in their group's order, by name within a group (DRAM channel 1 may be used first).
  const auto sort_index = [&](size_t i) {
    int rank = 0;
    for (const auto& t : tracks_)
      if (t.second == tracks_[i].second && t.first < tracks_[i].first) ++rank;
    return tracks_[i].second * 1000 + rank;
  };
  const auto str = [](const std::string& s) { return nlohmann::json(s).dump(); };
  std::string o = "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n";
  o += fmt::format(
      "{{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"tid\":0,\"args\":{{\"name\":{}}}}}",
      str(title));
  for (size_t i = 0; i < tracks_.size(); ++i) {
    o += fmt::format(
        ",\n{{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":{},\"args\":{{\"name\":{}}}}"
        "}",
        i + 1, str(tracks_[i].first));
    o += fmt::format(
        ",\n{{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":1,\"tid\":{},\"args\":{{\"sort_"
        "index\":{}}}}}",
        i + 1, sort_index(i));
  }
  std::vector<std::string> quoted(names_.size());
  for (size_t l = 0; l < names_.size(); ++l) quoted[l] = str(names_[l]);
  static const char* const traffic[] = {"weights", "inputs", "outputs"};
  for (const Span& s : spans_) {
    const std::string& layer =
        s.layer >= 0 && size_t(s.layer) < quoted.size() ? quoted[size_t(s.layer)] : str("");
    std::string name, args;
    switch (s.kind) {
      case Kind::Job:
        name = layer;
        args = fmt::format("\"layer\":{},\"tile\":{},\"k_tile\":{},\"rows\":{},\"cycles\":{}",
                           layer, s.tile, s.c, s.a, s.b);
        break;
      case Kind::Transfer:
        name = str(traffic[s.c % 3]);
        args = fmt::format("\"layer\":{},\"tile\":{},\"bytes\":{},\"addr\":{},\"traffic\":\"{}\"",
                           layer, s.tile, s.a, s.b, traffic[s.c % 3]);
        break;
      case Kind::Dram:
        name = str(fmt::format("{} B", s.a));
        args = fmt::format("\"layer\":{},\"tile\":{},\"bytes\":{},\"bursts\":{}", layer, s.tile,
                           s.a, s.b);
        break;
      case Kind::Op:
        name = layer;
        args = fmt::format("\"layer\":{},\"lanes\":{},\"cycles\":{}", layer, s.a, s.b);
        break;
      case Kind::Layer:
        name = layer;
        args = fmt::format("\"layer\":{},\"macs\":{},\"dram_bytes\":{},\"cycles\":{}", layer, s.a,
                           s.b, s.c);
        break;
    }
    o += fmt::format(
        ",\n{{\"name\":{},\"ph\":\"X\",\"pid\":1,\"tid\":{},\"ts\":{},\"dur\":{},\"args\":{{{}}}}}",
        name, s.track + 1, us(s.start_ps), us(s.dur_ps), args);
  }
  o += "\n]}\n";
  return o;
}

}  // namespace msq
