// The timeline: spans the blocks emit while the simulation runs (a core's job, a DMA transfer, a
// DRAM channel's bursts for one transfer, a layer), written as Chrome trace-event JSON that
// Perfetto UI and chrome://tracing open (docs/report.md, "Timeline").
//
// A simulation emits into the sink installed with EventSink::Scope; with none installed the
// blocks' hooks cost one test of a null pointer. Plain C++, no SystemC: times are picoseconds of
// simulated time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace msq {

class EventSink {
 public:
  // `layer_globs`: keep only spans of layers whose name matches one of these shell globs
  // (fnmatch); empty keeps all.
  explicit EventSink(std::vector<std::string> layer_globs = {});

  // The sink of the simulation in progress, or null.
  static EventSink* current() { return current_; }
  // Installs a sink for a scope (one simulation).
  class Scope {
   public:
    explicit Scope(EventSink* s) : prev_(current_) { current_ = s; }
    ~Scope() { current_ = prev_; }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    EventSink* prev_;
  };

  // Resolves the layer filter against the workload's layer names (in order): the first
  // `core_layers` are the engines' layers, the rest the vector engine's ops (all of them when
  // npos). Throws InputError naming a glob that matches none, with the names of both kinds.
  void set_layers(const std::vector<std::string>& names, size_t core_layers = size_t(-1));
  bool keep(int layer) const {
    return layer >= 0 && size_t(layer) < keep_.size() && keep_[size_t(layer)];
  }
  const std::vector<std::string>& layer_names() const { return names_; }
  // The engines' track names, by slot.
  void set_engines(std::vector<std::string> names) { engine_names_ = std::move(names); }
  int engine_count() const { return int(engine_names_.size()); }

  // The layer and tile of the transfer the calling thread is about to start. SystemC threads
  // run one at a time and a transfer reads its tag before it first waits, so one slot serves
  // all the loaders. tile < 0: a weight load (no tile).
  static void tag(int layer, int tile) {
    if (current_) current_->tag_layer_ = layer, current_->tag_tile_ = tile;
  }
  int tag_layer() const { return tag_layer_; }
  int tag_tile() const { return tag_tile_; }

  // A track (one row of the timeline); created on first use, in order of first use within its
  // group (`sort`: smaller groups are drawn first).
  int track(const std::string& name, int sort);

  // A span on a track: start and duration in picoseconds; `args` are the values of the track
  // kind's argument names (see Kind).
  enum class Kind : uint8_t { Job, Transfer, Dram, Layer, Op };
  struct Span {
    int32_t track = 0;
    int32_t layer = -1, tile = -1;
    Kind kind = Kind::Job;
    int64_t start_ps = 0, dur_ps = 0;
    int64_t a = 0, b = 0, c = 0;
  };
  void span(const Span& s) {
    if (keep(s.layer)) spans_.push_back(s);
  }
  const std::vector<Span>& spans() const { return spans_; }
  const std::vector<std::pair<std::string, int>>& tracks() const { return tracks_; }

  // The blocks' hooks. A core's job ended now (`end_ps`) after `cycles` of `clock_ps`.
  void job(int core, int layer, int tile, int k_tile, int64_t rows, int64_t cycles,
           int64_t clock_ps, int64_t end_ps);
  // The vector engine computed op `index` (its timeline index: GraphFlow::timeline_index) on
  // `lanes` lanes for `cycles` of `clock_ps`, ending now (`end_ps`); drawn on the engine track
  // of `slot` (the last of set_engines()).
  void op(int slot, int index, int64_t lanes, int64_t cycles, int64_t clock_ps, int64_t end_ps);
  // A DMA transfer (traffic: 0 weights, 1 inputs, 2 outputs) held the ports over [begin, end),
  // for the layer and tile of the last tag().
  void transfer(int traffic, int64_t begin_ps, int64_t end_ps, int64_t bytes, uint64_t addr);
  // DRAM bursts on a channel with data on the bus over [start, end) DRAM cycles; gathered until
  // dram_flush() at the end of the transfer, which emits one span per channel it used, so the
  // event count grows with transfers, not bursts.
  void dram_burst(int channel, int64_t start_cycle, int64_t end_cycle, int64_t bursts,
                  int64_t bytes);
  void dram_flush(double tck_ps);
  // A layer's span on the layer track, [start, end) as the report counts it.
  void layer(int layer, int64_t start_ps, int64_t end_ps, int64_t macs, int64_t dram_bytes,
             int64_t cycles);

  // The trace-event JSON: {"displayTimeUnit": "ns", "traceEvents": [...]}; `title` names the
  // process (the run).
  std::string to_json(const std::string& title) const;

 private:
  int engine_track(int slot);  // the track of an engine slot, created on first use

  static inline EventSink* current_ = nullptr;
  std::vector<std::string> globs_, names_;
  std::vector<bool> keep_;
  std::vector<std::pair<std::string, int>> tracks_;  // name, sort group
  std::vector<Span> spans_;
  int tag_layer_ = -1, tag_tile_ = -1;
  std::vector<int> core_track_;            // by engine slot
  std::vector<std::string> engine_names_;  // their tracks' names
  int dma_track_[3] = {-1, -1, -1}, layer_track_ = -1;
  struct DramPending {
    int track = -1;
    int64_t start = 0, end = 0, bursts = 0, bytes = 0;
  };
  std::vector<DramPending> dram_;  // per channel
};

inline int64_t ps_of_seconds(double s) {
  return int64_t(s * 1e12 + (s >= 0 ? 0.5 : -0.5));
}

}  // namespace msq
