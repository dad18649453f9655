// Design-space exploration (docs/sweeps.md): the sweep file, its Cartesian product of design
// points, the evaluation of points in forked workers, and the results CSV that `sweep --resume`,
// `--shard` and `--merge` read back. `optimize` reuses the evaluation and the CSV.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "models/config.h"
#include "sim/csv.h"

namespace msq {

struct SweepAxis {
  std::string key;                  // dotted config key
  int line = 0;                     // where the sweep file names it
  std::vector<std::string> values;  // as --set values (YAML text), also the CSV cells
};

struct SweepConstraints {
  bool fits = false;            // skip points whose resources exceed the device
  double max_lut_percent = -1;  // < 0: no limit
  double max_dsp_percent = -1;
};

struct SweepSpec {
  std::string file;               // the sweep file as given
  std::string name;               // `name:`, else the file's stem
  std::string base;               // base config, resolved against the sweep file's directory
  std::vector<std::string> sets;  // fixed "KEY=VALUE" overrides (`set:`)
  std::vector<SweepAxis> axes;    // first axis varies slowest
  SweepConstraints constraints;
  bool verify = false;  // sweeps are timing-only unless asked
  // `eval:` (an ONNX network's sweep): float images, and optionally their labels, on which each
  // point's integer network is compared with the float one (the accuracy columns). Resolved
  // against the sweep file's directory; "" = none.
  std::string eval_images, eval_labels;
};

// Reads and checks a sweep file, including that the base config loads with `set:` and that every
// axis key is a config key. Throws InputError "FILE:LINE: KEY: what".
SweepSpec load_sweep(const std::string& path);

// The values of an inclusive range as text, computed as from + i*step and rounded to the larger
// number of decimals of `from` and `step`, so that 0..1 step 0.05 gives exactly 21 values ending
// in "1.00". Throws InputError (without a location) for an empty or absurd range.
std::vector<std::string> range_values(const std::string& from, const std::string& to,
                                      const std::string& step);

size_t sweep_size(const SweepSpec& s);
// Point `id` of the product (the first axis slowest): its value per axis and its overrides
// (`set:` first, then the axes).
std::vector<std::string> point_values(const SweepSpec& s, size_t id);
std::vector<std::string> point_sets(const SweepSpec& s, size_t id);

// ---- Evaluation ----

struct DesignPoint {
  size_t id = 0;
  std::vector<std::string> values;  // one per axis column
  std::vector<std::string> sets;    // overrides applied to the base config
};

struct EvalOptions {
  std::string base;  // config file
  int jobs = 0;      // 0: one per core
  bool verify = false;
  SweepConstraints constraints;
  bool want_report = false;  // keep each point's full JSON report (for --jsonl)
  std::string progress_label = "sweep";
  double timeout_s = 0;  // > 0: a point still running after this long is killed (status timeout)
  std::string eval_images, eval_labels;  // SweepSpec's: the accuracy columns of ONNX points
  // When set, each point's config comes from here instead of loading `base` with the point's
  // sets: optimize changes the engines list, which a --set cannot do in every config's spelling.
  // May throw InputError (the point becomes an error row).
  std::function<RunConfig(const DesignPoint&)> config_of;
};

// One finished point: the CSV row (cells in sweep_header order) and, when asked, its JSON line.
struct PointResult {
  size_t id = 0;
  std::string status;  // ok | skipped | error | timeout
  std::vector<std::string> cells;
  std::string json;
};

// Loads each point's config, skips those the constraints reject, simulates the rest in worker
// processes and calls on_result in the parent as each point finishes (skipped and bad points
// first). Returns the seconds spent.
double evaluate_points(const std::vector<std::string>& axis_keys,
                       const std::vector<DesignPoint>& points, const EvalOptions& o,
                       const std::function<void(const PointResult&)>& on_result);

// ---- Results CSV ----

// id, status, the axis keys, then the value columns (docs/sweeps.md lists them).
std::vector<std::string> sweep_header(const std::vector<std::string>& axis_keys);

struct SweepTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  // cells; rows[i][0] is the id
  bool dropped_partial = false;                // a last line without its newline was dropped
};

// Reads a results CSV. A last line without a newline (a sweep killed mid-write) is dropped and,
// when `repair`, cut off the file so that appending continues on a clean line. Throws InputError
// for a malformed file.
SweepTable read_sweep_csv(const std::string& path, bool repair);

size_t row_id(const std::vector<std::string>& row);
int column(const std::vector<std::string>& header, const std::string& name);  // -1 if absent

// Rows by id (first of duplicates that are identical; differing duplicates throw InputError).
void sort_rows(SweepTable& t, const std::string& label);

// Axes that change what is computed rather than the design that computes it: every workload.*
// key except the SP2 and fixed-8 fractions (the network, batch, bit widths, seed, layers).
// Comparing frames/s across them would crown the smaller network, so summaries are per group.
bool is_workload_axis(const std::string& key);
// The workload axes among a results CSV's axis columns, and a row's group as "k=v k=v" ("" when
// there are none).
std::vector<int> group_columns(const std::vector<std::string>& header);
std::string group_of(const SweepTable& t, const std::vector<std::string>& row);

// The Pareto front among ok rows that fit (max frames/s, min LUT, min DSP) per workload group,
// and the best row per workload group and device (max frames/s among those that fit), as row
// indices into t.rows, in id order.
std::vector<size_t> pareto_rows(const SweepTable& t);
std::vector<size_t> best_rows(const SweepTable& t);

// Writes OUT sorted, OUT's .pareto.csv and .best.csv, and prints the front and the best points.
void write_summary(const std::string& out, SweepTable& t,
                   const std::vector<std::string>& axis_keys);
std::string summary_path(const std::string& out, const std::string& kind);  // "pareto", "best"

// The progress line on stderr: redrawn in place on a terminal, else a plain line at most once a
// second.
class Progress {
 public:
  Progress(std::string label, size_t total);
  void step();  // one more point done
  void finish();
  double rate() const;

 private:
  void draw(bool last);
  std::string label_;
  size_t total_, done_ = 0, drawn_ = size_t(-1);
  bool tty_;
  double start_, last_draw_ = -1;
};

}  // namespace msq
