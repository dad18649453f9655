#include "models/stats/vcd_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <numeric>
#include <set>
#include <tuple>

namespace msq {

namespace {

constexpr int64_t kX = std::numeric_limits<int64_t>::min();  // an unknown value: VCD's x

struct Signal {
  std::string scope, name;
  bool wire = false;  // a busy wire: 1 while its count of spans in progress is above 0
  int64_t state = 0, shown = 0, max = 0;
  std::string id;
  int width = 1;
};

// What a span does to a signal at one of its ends.
enum class Op : uint8_t { Add, Set, ClearIf };
struct Ev {
  int64_t t;
  int order;  // within a time: ends of spans that took time, then starts, then ends of empty ones
  int sig;
  Op op;
  int64_t v;
};

// Scope names are identifiers in viewers: the track's name in lower case, other characters '_'.
std::string scope_name(const std::string& track) {
  std::string s;
  for (char c : track)
    s += std::isalnum(static_cast<unsigned char>(c))
             ? char(std::tolower(static_cast<unsigned char>(c)))
             : '_';
  return s.empty() ? "_" : s;
}

// VCD identifier codes: printable ASCII from '!' to '~', shortest first.
std::string id_code(size_t n) {
  std::string s;
  do {
    s += char('!' + n % 94);
    n /= 94;
  } while (n-- > 0);
  return s;
}

int bits_for(int64_t v) {
  int b = 1;
  while (b < 63 && (v >> b) > 0) ++b;
  return b;
}

// Header text must not end its section early.
std::string comment_text(std::string s) {
  std::replace(s.begin(), s.end(), '$', '_');
  return s;
}

std::string value(const Signal& s, int64_t v) {
  if (s.wire) return v == kX ? "x" + s.id : (v > 0 ? "1" : "0") + s.id;
  if (v == kX) return "bx " + s.id;
  std::string b;
  for (int i = bits_for(v) - 1; i >= 0; --i) b += ((v >> i) & 1) ? '1' : '0';
  return "b" + b + " " + s.id;
}

}  // namespace

std::string to_vcd(const EventSink& sink, const std::string& title, VcdInfo* info) {
  const auto& tracks = sink.tracks();
  const std::vector<EventSink::Span>& spans = sink.spans();
  // Each track's kind, from its spans (a track holds spans of one kind).
  std::vector<int> kind(tracks.size(), -1);
  for (const EventSink::Span& s : spans)
    if (s.track >= 0 && size_t(s.track) < tracks.size()) kind[size_t(s.track)] = int(s.kind);
  // Scopes in the JSON timeline's order: by group, then by name.
  std::vector<size_t> order(tracks.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::tie(tracks[a].second, tracks[a].first) <
           std::tie(tracks[b].second, tracks[b].first);
  });

  std::vector<Signal> sig;
  const auto add = [&](const std::string& scope, const std::string& name, bool wire, int64_t init) {
    Signal s;
    s.scope = scope, s.name = name, s.wire = wire, s.state = s.shown = init;
    s.id = id_code(sig.size());
    sig.push_back(s);
    return int(sig.size()) - 1;
  };
  const int top_layer = add("", "layer", false, kX);
  // Per track: its first signal (busy), then layer and jobs (engines) or bytes (transfers).
  std::vector<int> first(tracks.size(), -1);
  std::set<std::string> used;
  for (size_t t : order) {
    const auto k = EventSink::Kind(kind[t]);
    if (kind[t] < 0 || k == EventSink::Kind::Layer) continue;
    std::string scope = scope_name(tracks[t].first);
    for (int n = 2; !used.insert(scope).second; ++n)
      scope = scope_name(tracks[t].first) + "_" + std::to_string(n);
    first[t] = add(scope, "busy", true, 0);
    if (k == EventSink::Kind::Job || k == EventSink::Kind::Op) {
      add(scope, "layer", false, kX);
      add(scope, "jobs", false, 0);
    } else {
      add(scope, "bytes", false, 0);
    }
  }

  std::vector<Ev> ev;
  ev.reserve(spans.size() * 6);
  for (const EventSink::Span& s : spans) {
    if (s.track < 0 || size_t(s.track) >= tracks.size()) continue;
    const int64_t end = s.start_ps + s.dur_ps;
    const int end_order = s.dur_ps > 0 ? 0 : 2;
    if (s.kind == EventSink::Kind::Layer) {
      ev.push_back({s.start_ps, 1, top_layer, Op::Set, s.layer});
      ev.push_back({end, end_order, top_layer, Op::ClearIf, s.layer});
      continue;
    }
    const int b = first[size_t(s.track)];
    if (b < 0) continue;  // a track of mixed kinds: not one the blocks make
    ev.push_back({s.start_ps, 1, b, Op::Add, 1});
    ev.push_back({end, end_order, b, Op::Add, -1});
    if (s.kind == EventSink::Kind::Job || s.kind == EventSink::Kind::Op) {
      ev.push_back({s.start_ps, 1, b + 1, Op::Set, s.layer});
      ev.push_back({s.start_ps, 1, b + 2, Op::Add, 1});
    } else {
      // Transfers and DRAM spans carry their bytes in `a`.
      ev.push_back({s.start_ps, 1, b + 1, Op::Add, s.a});
      ev.push_back({end, end_order, b + 1, Op::Add, -s.a});
    }
  }
  std::stable_sort(ev.begin(), ev.end(), [](const Ev& x, const Ev& y) {
    return std::tie(x.t, x.order) < std::tie(y.t, y.order);
  });

  // The changes, time by time: only a signal whose value differs once all of a time's events are
  // applied changes (a job that starts as the previous one ends keeps `busy` at 1).
  struct Change {
    int64_t t;
    int sig;
    int64_t v;
  };
  std::vector<Change> changes;
  std::vector<int> touched;
  int64_t gcd = 0;
  for (size_t i = 0; i < ev.size();) {
    const int64_t t = ev[i].t;
    touched.clear();
    for (; i < ev.size() && ev[i].t == t; ++i) {
      Signal& s = sig[size_t(ev[i].sig)];
      switch (ev[i].op) {
        case Op::Add:
          s.state += ev[i].v;
          break;
        case Op::Set:
          s.state = ev[i].v;
          break;
        case Op::ClearIf:
          if (s.state == ev[i].v) s.state = kX;
          break;
      }
      touched.push_back(ev[i].sig);
    }
    bool any = false;
    for (int k : touched) {
      Signal& s = sig[size_t(k)];
      const int64_t v = s.wire ? int64_t(s.state > 0) : s.state;
      if (v == s.shown) continue;
      s.shown = v;
      if (v != kX) s.max = std::max(s.max, v);
      changes.push_back({t, k, v});
      any = true;
    }
    if (any && t != 0) gcd = std::gcd(gcd, t);
  }
  for (Signal& s : sig) s.width = s.wire ? 1 : bits_for(s.max);
  // Every layer signal is as wide as the largest layer index, so one viewer setting fits all.
  const int layer_width = bits_for(std::max<int64_t>(int64_t(sink.layer_names().size()) - 1, 0));
  for (Signal& s : sig)
    if (s.name == "layer") s.width = std::max(s.width, layer_width);

  int64_t unit = 1;
  for (int64_t u : {1000, 100, 10})
    if (gcd % u == 0) {
      unit = u;
      break;
    }
  static const char* const unit_names[] = {"1 ps", "10 ps", "100 ps", "1 ns"};
  const char* unit_name = unit_names[unit == 1 ? 0 : unit == 10 ? 1 : unit == 100 ? 2 : 3];

  std::string o;
  o.reserve(changes.size() * 12 + 4096);
  o += "$version\n  msqsim\n$end\n$comment\n  " + comment_text(title) +
       "\n  The layer signals hold layer indices:\n";
  const std::vector<std::string>& names = sink.layer_names();
  for (size_t l = 0; l < names.size(); ++l)
    o += fmt::format("  {} {}\n", l, comment_text(names[l]));
  o += fmt::format("$end\n$timescale {} $end\n$scope module msqsim $end\n", unit_name);
  std::string open;
  for (const Signal& s : sig) {
    if (s.scope != open) {
      if (!open.empty()) o += "$upscope $end\n";
      if (!s.scope.empty()) o += "$scope module " + s.scope + " $end\n";
      open = s.scope;
    }
    o += fmt::format("$var {} {} {} {} $end\n", s.wire ? "wire" : "reg", s.width, s.id, s.name);
  }
  if (!open.empty()) o += "$upscope $end\n";
  o += "$upscope $end\n$enddefinitions $end\n";

  // The values at time 0 (after the events at 0) are the initial ones.
  size_t c = 0;
  std::vector<int64_t> init(sig.size());
  for (size_t k = 0; k < sig.size(); ++k)
    init[k] = sig[k].wire ? 0 : (sig[k].name == "layer" ? kX : 0);
  for (; c < changes.size() && changes[c].t == 0; ++c) init[size_t(changes[c].sig)] = changes[c].v;
  o += "#0\n$dumpvars\n";
  for (size_t k = 0; k < sig.size(); ++k) o += value(sig[k], init[k]) + "\n";
  o += "$end\n";
  const size_t initial = c;
  for (int64_t last = 0; c < changes.size(); ++c) {
    if (changes[c].t != last) {
      last = changes[c].t;
      o += fmt::format("#{}\n", last / unit);
    }
    o += value(sig[size_t(changes[c].sig)], changes[c].v) + "\n";
  }
  if (info) {
    info->signals = int64_t(sig.size());
    info->changes = int64_t(changes.size() - initial);
    info->timescale_ps = unit;
  }
  return o;
}

}  // namespace msq
