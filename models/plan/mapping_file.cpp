#include "models/plan/mapping_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <set>

#include "models/error.h"

namespace msq {

namespace {

const std::vector<std::string> kRequired = {"layer", "tile_m", "k_channels", "tile_rows"};
const std::vector<std::string> kOptional = {"tile_cols", "order", "lut_share", "keep_inputs_level",
                                            "keep_weights_level"};

std::string trim(const std::string& s) {
  const auto a = s.find_first_not_of(" \t\r"), b = s.find_last_not_of(" \t\r");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// A cell as written, trimmed; a quoted cell (as a spreadsheet or pandas writes one: "conv1",
// a doubled "" inside) without its quotes. The quotes were kept, and "conv1" was no layer.
std::string unquote(const std::string& raw) {
  const std::string t = trim(raw);
  if (t.size() < 2 || t.front() != '"' || t.back() != '"') return t;
  std::string out;
  for (size_t i = 1; i + 1 < t.size(); ++i) {
    out += t[i];
    if (t[i] == '"' && t[i + 1] == '"') ++i;
  }
  return out;
}

// One line's cells: commas inside quotes do not split. `ok` is false for an unclosed quote.
std::vector<std::string> split_csv(const std::string& line, bool& ok) {
  std::vector<std::string> out;
  std::string cell;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') quoted = !quoted;
    if (c == ',' && !quoted) {
      out.push_back(unquote(cell));
      cell.clear();
    } else {
      cell += c;
    }
  }
  out.push_back(unquote(cell));
  ok = !quoted;
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::shared_ptr<GivenMapping> parse(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path, 0, "", "cannot read the mapping file");
  auto g = std::make_shared<GivenMapping>();
  g->file = path;
  std::vector<std::string> header;
  std::vector<int> col_of_key;  // per column, its index in kRequired + kOptional
  int line_no = 0, header_line = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    // A UTF-8 byte order mark (a spreadsheet's "CSV UTF-8") made the first column
    // "\xEF\xBB\xBFlayer", an unknown column whose name looked right.
    if (line_no == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
    const std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    bool closed = true;
    const std::vector<std::string> cells = split_csv(t, closed);
    if (!closed)
      throw InputError(path, line_no, "", "a quoted cell is not closed (expected a closing \")");
    if (header.empty()) {
      header = cells;
      header_line = line_no;
      std::set<std::string> seen;
      for (const std::string& h : header) {
        if (!seen.insert(h).second)
          throw InputError(path, line_no, h, "column given twice in the header");
        if (std::find(kRequired.begin(), kRequired.end(), h) == kRequired.end() &&
            std::find(kOptional.begin(), kOptional.end(), h) == kOptional.end())
          throw InputError(path, line_no, h,
                           "unknown column; expected the columns " + join(kRequired) +
                               " and optionally " + join(kOptional));
      }
      for (const std::string& r : kRequired)
        if (!seen.count(r))
          throw InputError(path, line_no, r,
                           "missing column; the header must name " + join(kRequired) +
                               " (optional: " + join(kOptional) + ")");
      continue;
    }
    if (cells.size() != header.size())
      throw InputError(path, line_no, "",
                       fmt::format("expected {} cells, as the header has (got {})", header.size(),
                                   cells.size()));
    GivenLayerMapping m;
    m.line = line_no;
    std::map<std::string, std::string> cell;
    for (size_t i = 0; i < header.size(); ++i) cell[header[i]] = cells[i];
    m.layer = cell["layer"];
    if (m.layer.empty()) throw InputError(path, line_no, "layer", "expected a layer name");
    const std::string who = "layer " + clip_text(m.layer) + ": ";
    const auto integer = [&](const std::string& col, int64_t lo, int64_t hi, bool required,
                             int64_t& out) {
      const auto it = cell.find(col);
      if (it == cell.end() || it->second.empty()) {
        if (required)
          throw InputError(path, line_no, col,
                           who + fmt::format("expected an integer of at least {} (empty)", lo));
        return;
      }
      const std::string& v = it->second;
      char* end = nullptr;
      errno = 0;
      const long long x = std::strtoll(v.c_str(), &end, 10);
      if (end == v.c_str() || *end != '\0' || errno == ERANGE || x < lo || x > hi)
        throw InputError(
            path, line_no, col,
            who +
                (hi == INT32_MAX ? fmt::format("expected an integer of at least {}", lo)
                                 : fmt::format("expected an integer {}..{}", lo, hi)) +
                " (got " + clip_text(v) + ")");
      out = x;
    };
    integer("tile_m", 1, INT32_MAX, true, m.tile_m);
    integer("k_channels", 1, INT32_MAX, false, m.k_channels);
    integer("tile_rows", 1, INT32_MAX, true, m.tile_rows);
    integer("tile_cols", 1, INT32_MAX, false, m.tile_cols);
    int64_t lvl = -1;
    integer("keep_inputs_level", 0, 3, false, lvl);
    m.keep_in = int(lvl);
    lvl = -1;
    integer("keep_weights_level", 0, 3, false, lvl);
    m.keep_w = int(lvl);
    if (cell.count("order") && !cell["order"].empty()) {
      std::string o = cell["order"];
      std::transform(o.begin(), o.end(), o.begin(), [](char c) { return char(std::toupper(c)); });
      std::string sorted = o;
      std::sort(sorted.begin(), sorted.end());
      if (sorted != "KMN")
        throw InputError(path, line_no, "order",
                         who +
                             "expected the three loops N, K, M in some order, outermost first, "
                             "e.g. NMK (got " +
                             clip_text(cell["order"]) + ")");
      m.order = o;
    }
    if (cell.count("lut_share") && !cell["lut_share"].empty()) {
      const std::string& v = cell["lut_share"];
      char* end = nullptr;
      const double x = std::strtod(v.c_str(), &end);
      if (end == v.c_str() || *end != '\0' || !std::isfinite(x) || x < 0 || x > 1)
        throw InputError(path, line_no, "lut_share",
                         who + "expected a number 0..1 (got " + clip_text(v) + ")");
      m.lut_share = x;
    }
    const auto [it, fresh] = g->layers.emplace(m.layer, m);
    if (!fresh)
      throw InputError(path, line_no, "layer",
                       who + fmt::format("given twice (first on line {})", it->second.line));
  }
  if (header.empty())
    throw InputError(
        path, 0, "",
        "empty mapping file; expected a header naming " + join(kRequired) + " and a row per layer");
  // A header alone gives no layer: the run was the search's (mapping: search) with a line on
  // stderr, most likely a file whose rows were lost.
  if (g->layers.empty())
    throw InputError(path, header_line, "",
                     "no layer rows after the header; expected a row per layer to give (for no "
                     "given layer, use accelerator.scheduler.mapping: search)");
  return g;
}

}  // namespace

std::shared_ptr<const GivenMapping> load_given_mapping(const std::string& path) {
  // Planning asks for the mapping once per layer (and again for every buffer split searched):
  // read the file once.
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const GivenMapping>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(path);
  if (it != cache.end()) return it->second;
  std::shared_ptr<const GivenMapping> g = parse(path);
  cache.emplace(path, g);
  return g;
}

std::vector<std::string> check_given_mapping(const std::string& path,
                                             const std::vector<std::string>& network_layers,
                                             const std::vector<std::string>& selected) {
  const std::shared_ptr<const GivenMapping> g = load_given_mapping(path);
  const std::set<std::string> names(network_layers.begin(), network_layers.end());
  for (const auto& [name, m] : g->layers)
    if (!names.count(name)) {
      std::string hint;
      size_t best = std::string::npos;
      for (const std::string& n : network_layers) {
        const size_t d = edit_distance(name, n);
        if (d < best && d <= std::max<size_t>(2, n.size() / 3)) best = d, hint = n;
      }
      throw InputError(path, m.line, "layer",
                       "expected a layer of the network (got " + clip_text(name) + ")" +
                           (hint.empty() ? "" : "; did you mean '" + hint + "'?"));
    }
  std::vector<std::string> missing;
  for (const std::string& n : selected.empty() ? network_layers : selected)
    if (!g->layers.count(n)) missing.push_back(n);
  return missing;
}

}  // namespace msq
