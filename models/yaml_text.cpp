#include "models/yaml_text.h"

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

namespace msq {

namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> d(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) d[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = d[0];
    d[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = d[j];
      d[j] = std::min({d[j] + 1, d[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
      diag = up;
    }
  }
  return d[b.size()];
}

}  // namespace

int yaml_line(const YAML::Node& n) {
  const YAML::Mark m = n.Mark();
  return m.line >= 0 ? m.line + 1 : 0;
}

std::string yaml_got(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "nothing";
  // "expected a non-empty list (got a list)" said nothing: an empty one is named so.
  if (n.IsSequence()) return n.size() == 0 ? "an empty list" : "a list";
  if (n.IsMap()) return n.size() == 0 ? "an empty mapping" : "a mapping";
  if (n.Scalar().empty()) return "\"\"";
  return clip_text(n.Scalar());
}

// ---- Value conversions shared by every loader (run configs, networks, trace manifests, cost
// files): each checks the kind and the range, and its error is one InputError
// "FILE:LINE: KEY: expected WANT (got VALUE)".

[[noreturn]] void yaml_expected(const YAML::Node& n, const std::string& file, int line,
                                const std::string& key, const std::string& want) {
  throw InputError(file, line, key, "expected " + want + " (got " + yaml_got(n) + ")");
}

namespace {
// yaml-cpp reads 010 as octal 8 and 0x10 as 16 (YAML 1.1): a batch of 010 ran as 8. Integers are
// decimal, as YAML 1.2 reads them; a leading zero or a base prefix is refused, not guessed.
bool ambiguous_base(const YAML::Node& n) {
  if (!n.IsScalar()) return false;
  std::string s = n.Scalar();
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.erase(0, 1);
  return s.size() > 1 && s[0] == '0' &&
         std::string("0123456789xXoObB").find(s[1]) != std::string::npos;
}
}  // namespace

int64_t yaml_int(const YAML::Node& n, const std::string& file, int line, const std::string& key,
                 int64_t lo, int64_t hi) {
  int64_t v = 0;
  if (ambiguous_base(n))
    yaml_expected(n, file, line, key,
                  "a decimal integer in " + std::to_string(lo) + ".." + std::to_string(hi) +
                      ", without a leading 0 or a base prefix (YAML 1.1 reads 010 as octal 8)");
  if (!n.IsScalar() || !YAML::convert<int64_t>::decode(n, v) || v < lo || v > hi)
    yaml_expected(n, file, line, key,
                  "an integer in " + std::to_string(lo) + ".." + std::to_string(hi));
  return v;
}

uint64_t yaml_u64(const YAML::Node& n, const std::string& file, int line, const std::string& key) {
  uint64_t v = 0;
  // yaml-cpp reads "-1" into an unsigned by wrapping around on some paths; refuse any sign.
  if (!n.IsScalar() || n.Scalar().find('-') != std::string::npos || ambiguous_base(n) ||
      !YAML::convert<uint64_t>::decode(n, v))
    yaml_expected(n, file, line, key, "an unsigned 64-bit integer");
  return v;
}

double yaml_real(const YAML::Node& n, const std::string& file, int line, const std::string& key,
                 double lo, double hi, bool integer) {
  double v = 0;
  // The negated test also rejects NaN.
  if (!n.IsScalar() || !YAML::convert<double>::decode(n, v) || !(v >= lo && v <= hi) ||
      (integer && v != std::floor(v)))
    yaml_expected(n, file, line, key,
                  fmt::format("{} in {}..{}", integer ? "an integer" : "a number", lo, hi));
  return v;
}

bool yaml_bool(const YAML::Node& n, const std::string& file, int line, const std::string& key) {
  bool v = false;
  if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v))
    yaml_expected(n, file, line, key, "true or false");
  return v;
}

std::string yaml_str(const YAML::Node& n, const std::string& file, int line, const std::string& key,
                     bool allow_empty) {
  if (!n.IsScalar() || (!allow_empty && n.Scalar().empty()))
    yaml_expected(n, file, line, key, allow_empty ? "a string" : "a non-empty string");
  return n.Scalar();
}

std::string yaml_choice(const YAML::Node& n, const std::string& file, int line,
                        const std::string& key, const std::vector<std::string>& options) {
  std::string list;
  for (const auto& o : options) {
    if (n.IsScalar() && n.Scalar() == o) return o;
    list += (list.empty() ? "" : ", ") + o;
  }
  yaml_expected(n, file, line, key, "one of " + list);
}

// A mapping key, which must be a plain name: `~: 1` has a null key, `[a]: 1` a list.
std::string yaml_key(const YAML::Node& k, const std::string& file, const std::string& where) {
  if (!k.IsScalar())
    throw InputError(file, yaml_line(k), where,
                     "expected plain key names (got " + yaml_got(k) + ")");
  return k.Scalar();
}

// The candidate nearest to `k`, or "" when none is plausibly a misspelling of it.
std::string nearest_name(const std::string& k, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = std::max<size_t>(2, k.size() / 3) + 1;
  for (const auto& c : candidates) {
    // The lengths bound the distance from below; skipping saves a 50 MB value's quadratic time.
    if ((k.size() > c.size() ? k.size() - c.size() : c.size() - k.size()) >= best_d) continue;
    const size_t d = edit_distance(k, c);
    if (d < best_d) best_d = d, best = c;
  }
  return best;
}

// "unknown key, expected one of A, B (did you mean 'A'?)"
std::string unknown_key_what(const std::string& k, const std::vector<std::string>& known) {
  std::string list;
  for (const auto& c : known) list += (list.empty() ? "" : ", ") + c;
  const std::string hint = nearest_name(k, known);
  return "unknown key, expected one of " + list +
         (hint.empty() ? "" : " (did you mean '" + hint + "'?)");
}

// Bounds on what a YAML document may expand to. An alias is shared in yaml-cpp's tree, but every
// loader walks it as if it were copied, so a 600-byte file of aliases to aliases would expand to
// billions of values, and an alias inside its own anchor would never end.

// Walks `root` as the loaders will, and throws one InputError naming `file`, the line and the key
// when an alias refers to a node that contains it, when the document expands to more than
// kYamlMaxValues values, or when it nests deeper than kYamlMaxDepth. `prefix` is the key of the
// root in messages; `lines` = false leaves lines out (text that is not a file's).
void check_yaml_tree(const YAML::Node& root, const std::string& file, const std::string& prefix,
                     bool lines) {
  struct Walker {
    const std::string& file;
    bool lines;
    size_t visited = 0;
    std::vector<YAML::Node> stack;  // the nodes containing the current one
    std::vector<std::string> path;  // their keys, for messages

    std::string key() const {
      // The first levels say where; a path 60 levels deep would say nothing more.
      std::string k;
      for (size_t i = 0; i < path.size() && i < 6; ++i)
        k += (k.empty() || path[i][0] == '[' ? "" : ".") + path[i];
      return path.size() > 6 ? k + "..." : k;
    }
    [[noreturn]] void bad(const YAML::Node& n, const std::string& what) const {
      throw InputError(file, lines ? yaml_line(n) : 0, key(), what);
    }
    void visit(const YAML::Node& n) {
      if (++visited > kYamlMaxValues)
        bad(n, "the document expands to more than " + std::to_string(kYamlMaxValues) +
                   " values (aliases that repeat aliases?); expected a smaller document");
      if (!n.IsMap() && !n.IsSequence()) return;
      for (const auto& a : stack)
        if (a.is(n)) bad(n, "an alias refers to a node that contains it (a cycle)");
      if (stack.size() >= kYamlMaxDepth)
        bad(n, "nested more than " + std::to_string(kYamlMaxDepth) + " levels deep");
      stack.push_back(n);
      if (n.IsMap()) {
        for (auto it = n.begin(); it != n.end(); ++it) {
          path.push_back(it->first.IsScalar() ? clip_text(it->first.Scalar(), 40) : "?");
          visit(it->first);
          visit(it->second);
          path.pop_back();
        }
      } else {
        size_t i = 0;
        for (auto it = n.begin(); it != n.end(); ++it, ++i) {
          path.push_back("[" + std::to_string(i) + "]");
          visit(*it);
          path.pop_back();
        }
      }
      stack.pop_back();
    }
  };
  Walker w{file, lines, 0, {}, {}};
  if (!prefix.empty()) w.path.push_back(prefix);
  w.visit(root);
}

// Parses YAML text (a --set value, say) with the same bounds as a file; messages name `label`
// and `key`, without lines.
YAML::Node load_yaml_text(const std::string& text, const std::string& label,
                          const std::string& key) {
  YAML::Node n = YAML::Load(text);
  check_yaml_tree(n, label, key, false);
  return n;
}

// Every file the loaders read is a few kilobytes; yaml-cpp needs seconds per 10 MB.

// A file a loader is about to read: says which of "no such file" and "not a regular file" it is.
void require_readable_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(path, ec)) return;
  const bool exists = std::filesystem::exists(path, ec);
  throw InputError(
      path, 0, "",
      exists ? "cannot read it: not a regular file" : "cannot read the file (no such file)");
}

// Parses a YAML file; a missing file or a syntax error is one InputError naming the file (and the
// line of the error).
YAML::Node load_yaml_file(const std::string& path) {
  require_readable_file(path);
  std::error_code ec;
  const uintmax_t bytes = std::filesystem::file_size(path, ec);
  if (!ec && bytes > kYamlMaxFileBytes)
    throw InputError(
        path, 0, "",
        "expected a YAML file of at most 16 MiB (got " + std::to_string(bytes) + " bytes)");
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own message for this is "bad file".
    throw InputError(path, e.mark.line + 1, "",
                     "YAML nested more than " + std::to_string(e.depth()) + " levels deep");
  } catch (const YAML::ParserException& e) {
    throw InputError(path, e.mark.line + 1, "", "YAML syntax error: " + e.msg);
  } catch (const YAML::BadFile&) {
    throw InputError(path, 0, "", "cannot read the file");
  }
  check_yaml_tree(root, path);
  return root;
}

}  // namespace msq
