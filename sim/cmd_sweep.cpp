// msqsim sweep: every point of a sweep file, one CSV row each, appended as it finishes so that a
// killed sweep keeps its finished points and --resume runs only the rest.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <thread>

#include "models/error.h"
#include "sim/commands.h"
#include "sim/sweep.h"

namespace fs = std::filesystem;

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
    throw InputError(input_error_text(
        path, 1, "", "its columns are not those of " + sweep + " (another sweep's results?)"));
}

int count_status(const SweepTable& t, const std::string& status) {
  int n = 0;
  for (const auto& r : t.rows) n += r[1] == status;
  return n;
}

// Shards are merged by the program that knows the sweep, so that a missing or doubled point is
// noticed, and the summary covers the whole sweep.
int merge(const SweepSpec& spec, const SweepOptions& o, const std::string& out) {
  const auto keys = axis_keys(spec);
  SweepTable all;
  all.header = sweep_header(keys);
  for (const auto& part : o.merge) {
    SweepTable t = read_sweep_csv(part, false);
    check_header(t, all.header, part, spec.file);
    if (t.dropped_partial)
      std::cerr << "msqsim: sweep: " << part << ": dropped an incomplete last line\n";
    for (auto& r : t.rows) all.rows.push_back(std::move(r));
  }
  sort_rows(all, "merge");
  const size_t total = sweep_size(spec);
  std::vector<size_t> missing;
  size_t k = 0;
  for (size_t id = 0; id < total; ++id) {
    while (k < all.rows.size() && row_id(all.rows[k]) < id) ++k;
    if (k >= all.rows.size() || row_id(all.rows[k]) != id) missing.push_back(id);
  }
  if (!all.rows.empty() && row_id(all.rows.back()) >= total)
    throw InputError(fmt::format("merge: point {} is not in {} ({} points)",
                                 row_id(all.rows.back()), spec.file, total));
  write_summary(out, all, keys);
  std::cout << fmt::format("Merged {} parts: {} of {} points in {}\n", o.merge.size(),
                           all.rows.size(), total, out);
  int code = count_status(all, "error") > 0 ? 1 : 0;
  if (!missing.empty()) {
    std::string ids;
    for (size_t i = 0; i < missing.size() && i < 10; ++i)
      ids += (i ? ", " : "") + std::to_string(missing[i]);
    if (missing.size() > 10) ids += ", ...";
    std::cerr << fmt::format("msqsim: sweep: {} of {} points missing (ids {})\n", missing.size(),
                             total, ids);
    code = 1;
  }
  return code;
}

}  // namespace

int cmd_sweep(const SweepOptions& o) {
  const SweepSpec spec = load_sweep(o.sweep);
  const std::string out = o.out.empty() ? spec.name + ".csv" : o.out;
  if (!o.merge.empty()) return merge(spec, o, out);

  size_t shard_i = 1, shard_n = 1;
  if (!o.shard.empty()) {
    shard_i = std::stoul(o.shard.substr(0, o.shard.find('/')));
    shard_n = std::stoul(o.shard.substr(o.shard.find('/') + 1));
  }
  const auto keys = axis_keys(spec);
  const auto header = sweep_header(keys);

  std::set<size_t> done;
  bool fresh = true;
  if (o.resume && fs::exists(out)) {
    const SweepTable t = read_sweep_csv(out, true);
    if (!t.header.empty()) {
      check_header(t, header, out, spec.file);
      fresh = false;
      for (const auto& r : t.rows) done.insert(row_id(r));
    }
    if (t.dropped_partial)
      std::cerr << "msqsim: sweep: " << out << ": dropped an incomplete last row, it runs again\n";
  }
  if (fresh) {
    std::ofstream f(out, std::ios::trunc);
    if (!(f << csv_line(header))) throw InputError(input_error_text(out, 0, "", "cannot write"));
  }
  std::FILE* csv = std::fopen(out.c_str(), "a");
  if (!csv) throw InputError(input_error_text(out, 0, "", "cannot append"));
  std::FILE* jsonl = nullptr;
  if (!o.jsonl.empty()) {
    jsonl = std::fopen(o.jsonl.c_str(), o.resume ? "a" : "w");
    if (!jsonl) {
      std::fclose(csv);
      throw InputError(input_error_text(o.jsonl, 0, "", "cannot write"));
    }
  }

  const size_t total = sweep_size(spec);
  std::vector<DesignPoint> points;
  size_t in_shard = 0;
  for (size_t id = 0; id < total; ++id) {
    if (id % shard_n != shard_i - 1) continue;
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
  eo.want_report = jsonl != nullptr;
  double seconds = 0;
  try {
    seconds = evaluate_points(keys, points, eo, [&](const PointResult& r) {
      // Flushed per row: a SIGKILL loses at most the row being written, which resume drops.
      std::fputs(csv_line(r.cells).c_str(), csv);
      std::fflush(csv);
      if (jsonl) {
        std::fputs((r.json + "\n").c_str(), jsonl);
        std::fflush(jsonl);
      }
    });
  } catch (...) {
    std::fclose(csv);
    if (jsonl) std::fclose(jsonl);
    throw;
  }
  std::fclose(csv);
  if (jsonl) std::fclose(jsonl);

  SweepTable t = read_sweep_csv(out, false);
  write_summary(out, t, keys);
  const int jobs = o.jobs > 0 ? o.jobs : int(std::max(1u, std::thread::hardware_concurrency()));
  const int errors = count_status(t, "error"), skipped = count_status(t, "skipped");
  std::cout << fmt::format(
      "{}: {} rows in {} ({} ok, {} skipped, {} failed); this run: {} points in {:.2f} s, "
      "{:.1f} points/s simulated with {} jobs\n",
      spec.name, t.rows.size(), out, count_status(t, "ok"), skipped, errors, points.size(), seconds,
      seconds > 0 ? double(points.size()) / seconds : 0.0, jobs);
  return errors > 0 ? 1 : 0;
}

}  // namespace msq
