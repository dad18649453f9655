// msqsim sweep: every point of a sweep file, one CSV row each, appended as it finishes so that a
// killed sweep keeps its finished points and --resume runs only the rest. The output is locked
// against a second sweep, recorded with the sweep's definition (OUT.sweep.json) so that --resume
// never mixes rows of two definitions, and checked for completeness at the end.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "models/error.h"
#include "sim/atomic_file.h"
#include "sim/commands.h"
#include "sim/config_loader.h"
#include "sim/csv.h"
#include "sim/sweep.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace msq {

namespace {

std::vector<std::string> axis_keys(const SweepSpec& s) {
  std::vector<std::string> k;
  for (const auto& a : s.axes) k.push_back(a.key);
  return k;
}

void check_header(const SweepTable& t, const std::vector<std::string>& header,
                  const std::string& path, const std::string& sweep) {
  if (t.header != header)
    throw InputError(path, 1, "",
                     "its columns are not those of " + sweep + " (another sweep's results?)");
}

int count_status(const SweepTable& t, const std::string& status) {
  int n = 0;
  for (const auto& r : t.rows) n += r[1] == status;
  return n;
}

// ---- The output lock ----

// flock on OUT.lock, held for the whole command (forked workers share it, and die with the
// sweep). The file holds the owner's pid for the message a second sweep prints. It is removed at
// the end; a file left by a killed sweep holds no lock and is taken over.
class OutputLock {
 public:
  explicit OutputLock(const std::string& out) : path_(out + ".lock") {
    for (;;) {
      fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
      if (fd_ < 0)
        throw InputError(path_, 0, "",
                         "cannot create the lock file of " + out + ": " + std::strerror(errno));
      if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        char buf[32] = {};
        const ssize_t n = pread(fd_, buf, sizeof buf - 1, 0);
        ::close(fd_);
        fd_ = -1;
        if (err != EWOULDBLOCK)
          throw InputError(path_, 0, "", std::string("cannot lock: ") + std::strerror(err));
        std::string owner = n > 0 ? std::string(buf, size_t(n)) : "";
        while (!owner.empty() && (owner.back() == '\n' || owner.back() == ' ')) owner.pop_back();
        throw InputError(path_, 0, "",
                         "another msqsim sweep" + (owner.empty() ? "" : " (pid " + owner + ")") +
                             " is writing " + out +
                             "; wait for it to end, or choose another --out");
      }
      // The owner before us may have removed the file between our open and our lock: then the
      // lock is on a file no one else will see; take the one at the path.
      struct stat a {
      }, b{};
      if (fstat(fd_, &a) == 0 && stat(path_.c_str(), &b) == 0 && a.st_ino == b.st_ino &&
          a.st_dev == b.st_dev)
        break;
      ::close(fd_);
    }
    const std::string pid = std::to_string(getpid()) + "\n";
    if (ftruncate(fd_, 0) != 0 || pwrite(fd_, pid.data(), pid.size(), 0) < 0) {
      // The pid only improves another sweep's message; the lock itself holds.
    }
  }
  ~OutputLock() {
    unlink(path_.c_str());
    ::close(fd_);
  }
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

 private:
  std::string path_;
  int fd_ = -1;
};

// ---- The sweep's definition, recorded next to its results ----

// OUT.sweep.json; the summaries OUT.pareto.csv and OUT.best.csv share OUT's (a glob such as
// `--merge part_*.csv` takes them in too).
std::string definition_path(const std::string& out) {
  std::string stem = out;
  for (const char* tail : {".csv", ".pareto", ".best"}) {
    const size_t n = std::strlen(tail);
    if (stem.size() > n && stem.compare(stem.size() - n, n, tail) == 0)
      stem.resize(stem.size() - n);
    if (std::strcmp(tail, ".csv") == 0 && stem.size() == out.size()) break;
  }
  return stem + ".sweep.json";
}

// Everything that decides a point's row: the base config as loaded (its values, not its text),
// `set:`, the axes with their values, the constraints and verify. Not the sweep file's name or
// place, nor --jobs.
json sweep_definition(const SweepSpec& s) {
  json base = config_to_json(load_run_config(s.base, s.sets));
  base.erase("file");
  json axes = json::array();
  for (const auto& a : s.axes) axes.push_back({{"key", a.key}, {"values", a.values}});
  return {{"base_config", base},
          {"set", s.sets},
          {"axes", axes},
          {"constraints",
           {{"fits", s.constraints.fits},
            {"max_lut_percent", s.constraints.max_lut_percent},
            {"max_dsp_percent", s.constraints.max_dsp_percent}}},
          {"verify", s.verify},
          {"eval", {{"images", s.eval_images}, {"labels", s.eval_labels}}}};
}

// FNV-1a, 64 bits: enough to tell two definitions apart (not a defence against forgery).
std::string fingerprint(const json& definition) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : definition.dump()) h = (h ^ c) * 1099511628211ull;
  return fmt::format("{:016x}", h);
}

void write_definition(const std::string& out, const SweepSpec& spec, const json& def,
                      const std::string& shard) {
  const json j = {{"sweep", spec.file},
                  {"name", spec.name},
                  {"fingerprint", fingerprint(def)},
                  {"shard", shard.empty() ? "all" : shard},
                  {"definition", def}};
  write_file_atomic(definition_path(out), j.dump(2) + "\n");
}

// Throws InputError when the results in `csv` were written by another definition (or, when
// `shard` is not null, another shard). Returns false when no definition was recorded (a file of
// an older msqsim, or a deleted record).
bool check_definition(const std::string& csv, const json& def, const std::string* shard) {
  const std::string path = definition_path(csv);
  if (!fs::exists(path)) return false;
  json rec;
  try {
    std::ifstream in(path);
    rec = json::parse(in);
  } catch (const json::exception& e) {
    throw InputError(path, 0, "",
                     std::string("not a sweep definition record (") + e.what() +
                         "); delete it to resume without the check");
  }
  if (!rec.is_object() || !rec.contains("fingerprint") || !rec.contains("definition"))
    throw InputError(path, 0, "", "not a sweep definition record (no fingerprint or definition)");
  if (rec.value("fingerprint", "") != fingerprint(def)) {
    std::string what;
    const json& old = rec["definition"];
    for (const auto& [k, v] : def.items())
      if (!old.is_object() || !old.contains(k) || old[k] != v)
        what += (what.empty() ? "" : ", ") + k;
    if (what.empty()) what = "the record";
    throw InputError(csv, 0, "",
                     "its rows are of another definition of this sweep (" + path + " differs in: " +
                         what + "); run without --resume to start over, or choose another --out");
  }
  if (shard) {
    const std::string had = rec.value("shard", "all"), now = shard->empty() ? "all" : *shard;
    if (had != now)
      throw InputError(csv, 0, "",
                       "its rows are of --shard " + had + " (" + path + "), this run is --shard " +
                           now + "; choose another --out");
  }
  return true;
}

// Ids the rows should have, by `wanted(id)`, against those they have: the missing ones, and rows
// that are not of this sweep. Rows must be sorted by id.
struct Coverage {
  std::vector<size_t> missing, foreign;
};

Coverage coverage(const SweepTable& t, size_t total, const std::function<bool(size_t)>& wanted) {
  Coverage c;
  size_t k = 0;
  for (size_t id = 0; id < total; ++id) {
    if (!wanted(id)) continue;
    while (k < t.rows.size() && row_id(t.rows[k]) < id) ++k;
    if (k >= t.rows.size() || row_id(t.rows[k]) != id) c.missing.push_back(id);
  }
  for (const auto& r : t.rows)
    if (row_id(r) >= total || !wanted(row_id(r))) c.foreign.push_back(row_id(r));
  return c;
}

std::string id_list(const std::vector<size_t>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size() && i < 10; ++i) s += (i ? ", " : "") + std::to_string(ids[i]);
  if (ids.size() > 10) s += ", ...";
  return s;
}

// Shards are merged by the program that knows the sweep, so that a missing or doubled point is
// noticed, and the summary covers the whole sweep.
int merge(const SweepSpec& spec, const SweepOptions& o, const std::string& out) {
  const auto keys = axis_keys(spec);
  const json def = sweep_definition(spec);
  SweepTable all;
  all.header = sweep_header(keys);
  for (const auto& part : o.merge) {
    SweepTable t = read_sweep_csv(part, false);
    check_header(t, all.header, part, spec.file);
    if (!check_definition(part, def, nullptr))
      std::cerr << "msqsim: sweep: warning: " << part << ": no " << definition_path(part)
                << ", so its rows cannot be checked to be of this sweep's definition\n";
    if (t.dropped_partial)
      std::cerr << "msqsim: sweep: " << part << ": dropped an incomplete last line\n";
    for (auto& r : t.rows) all.rows.push_back(std::move(r));
  }
  sort_rows(all, "merge");
  const size_t total = sweep_size(spec);
  const Coverage c = coverage(all, total, [](size_t) { return true; });
  if (!c.foreign.empty())
    throw InputError(fmt::format("merge: point {} is not in {} ({} points)", c.foreign.back(),
                                 spec.file, total));
  write_summary(out, all, keys);
  write_definition(out, spec, def, "");
  std::cout << fmt::format("Merged {} parts: {} of {} points in {}\n", o.merge.size(),
                           all.rows.size(), total, out);
  int code = count_status(all, "error") + count_status(all, "timeout") > 0 ? 1 : 0;
  if (!c.missing.empty()) {
    std::cerr << fmt::format("msqsim: sweep: {} of {} points missing (ids {})\n", c.missing.size(),
                             total, id_list(c.missing));
    code = 1;
  }
  return code;
}

}  // namespace

int cmd_sweep(const SweepOptions& o) {
  const SweepSpec spec = load_sweep(o.sweep);
  const std::string out = o.out.empty() ? spec.name + ".csv" : o.out;
  for (const auto& [opt, path] :
       {std::pair<const char*, std::string>{"--out", out}, {"--jsonl", o.jsonl}}) {
    check_not_input(path, opt, o.sweep, "sweep file");
    check_not_input(path, opt, spec.base, "base config");
  }
  check_not_input(o.jsonl, "--jsonl", out, "--out CSV");
  // The files written next to --out: --jsonl a.pareto.csv with --out a.csv was replaced by the
  // Pareto summary at the end of the sweep.
  for (const auto& [companion, what] :
       {std::pair<std::string, const char*>{summary_path(out, "pareto"),
                                            "Pareto summary (OUT.pareto.csv)"},
        {summary_path(out, "best"), "best-point summary (OUT.best.csv)"},
        {definition_path(out), "sweep definition record (OUT.sweep.json)"}}) {
    check_not_input(o.jsonl, "--jsonl", companion, what);
    check_not_input(companion, "--out", o.sweep, "sweep file");
    check_not_input(companion, "--out", spec.base, "base config");
  }
  // The results CSV is read back (--resume, the summaries) and has files written next to it
  // (OUT.pareto.csv, OUT.lock): --out /dev/null made /dev/null.pareto.csv and the like in /dev.
  if (written_in_place(out))
    throw InputError(out, 0, "--out",
                     "is not a regular file (a device or a pipe): the sweep reads its results "
                     "back and writes OUT.pareto.csv, OUT.best.csv and OUT.sweep.json next to it; "
                     "give a file path");
  check_writable(out);
  if (!o.jsonl.empty()) check_writable(o.jsonl);
  const OutputLock lock(out);
  if (!o.merge.empty()) return merge(spec, o, out);

  size_t shard_i = 1, shard_n = 1;
  if (!o.shard.empty()) {
    shard_i = std::stoul(o.shard.substr(0, o.shard.find('/')));
    shard_n = std::stoul(o.shard.substr(o.shard.find('/') + 1));
  }
  const auto in_shard_id = [&](size_t id) { return id % shard_n == shard_i - 1; };
  const auto keys = axis_keys(spec);
  const auto header = sweep_header(keys);
  const json def = sweep_definition(spec);

  std::set<size_t> done;
  bool fresh = true;
  AppendFile csv;
  if (o.resume && fs::exists(out)) {
    // Checked before the file is touched: a refused resume leaves it as it was.
    SweepTable t = read_sweep_csv(out, false);
    if (!t.header.empty()) {
      check_header(t, header, out, spec.file);
      if (!check_definition(out, def, &o.shard)) {
        std::cerr << "msqsim: sweep: warning: " << out << ": no " << definition_path(out)
                  << ", so its rows cannot be checked to be of this sweep's definition; "
                     "resuming on its columns alone\n";
        write_definition(out, spec, def, o.shard);
      }
      fresh = false;
      if (t.dropped_partial) {
        t = read_sweep_csv(out, true);
        std::cerr << "msqsim: sweep: warning: " << out
                  << ": dropped an incomplete last row (the sweep that wrote it was stopped "
                     "mid-write), its point runs again\n";
      }
      for (const auto& r : t.rows) done.insert(row_id(r));
    }
  }
  if (fresh) {
    // The header first: a crash before the record is written leaves no rows to mistake.
    csv.open(out, true);
    csv.append(csv_line(header));
    write_definition(out, spec, def, o.shard);
  } else {
    csv.open(out, false);
  }
  AppendFile jsonl;
  if (!o.jsonl.empty()) jsonl.open(o.jsonl, !o.resume);

  const size_t total = sweep_size(spec);
  std::vector<DesignPoint> points;
  size_t in_shard = 0;
  for (size_t id = 0; id < total; ++id) {
    if (!in_shard_id(id)) continue;
    ++in_shard;
    if (done.count(id)) continue;
    points.push_back(DesignPoint{id, point_values(spec, id), point_sets(spec, id)});
  }
  if (!done.empty())
    std::cerr << fmt::format("sweep: resuming: {} of {} points already in {}\n",
                             in_shard - points.size(), in_shard, out);

  EvalOptions eo;
  eo.base = spec.base;
  eo.jobs = o.jobs;
  eo.verify = spec.verify;
  eo.constraints = spec.constraints;
  eo.want_report = jsonl.is_open();
  eo.timeout_s = o.timeout_s;
  eo.eval_images = spec.eval_images;
  eo.eval_labels = spec.eval_labels;
  // One write per row, straight to the file: a SIGKILL loses at most the row being written
  // (resume drops it), and a write error stops the sweep at once with the file cut back to its
  // last whole row.
  const double seconds = evaluate_points(keys, points, eo, [&](const PointResult& r) {
    csv.append(csv_line(r.cells));
    if (jsonl.is_open()) jsonl.append(r.json + "\n");
  });
  csv.close();
  jsonl.close();

  SweepTable t = read_sweep_csv(out, false);
  write_summary(out, t, keys);
  const int jobs = o.jobs > 0 ? o.jobs : int(std::max(1u, std::thread::hardware_concurrency()));
  const int errors = count_status(t, "error"), skipped = count_status(t, "skipped"),
            timeouts = count_status(t, "timeout");
  std::cout << fmt::format(
      "{}: {} rows in {} ({} ok, {} skipped, {} failed, {} timed out); this run: {} points in "
      "{:.2f} s, {:.1f} points/s simulated with {} jobs\n",
      spec.name, t.rows.size(), out, count_status(t, "ok"), skipped, errors, timeouts,
      points.size(), seconds, seconds > 0 ? double(points.size()) / seconds : 0.0, jobs);
  // Every point of the sweep (or shard) must have its row: rows can go missing only if
  // something else wrote the file meanwhile, and then the results must not pass as complete.
  const Coverage c = coverage(t, total, in_shard_id);
  int code = errors + timeouts > 0 ? 1 : 0;
  if (!c.missing.empty()) {
    std::cerr << fmt::format(
        "msqsim: sweep: {}: {} of {} points missing (ids {}); was the file written by something "
        "else meanwhile? --resume runs them\n",
        out, c.missing.size(), in_shard, id_list(c.missing));
    code = 1;
  }
  if (!c.foreign.empty()) {
    std::cerr << fmt::format("msqsim: sweep: {}: {} rows are not points of this {} (ids {})\n", out,
                             c.foreign.size(), o.shard.empty() ? "sweep" : "shard",
                             id_list(c.foreign));
    code = 1;
  }
  return code;
}

}  // namespace msq
