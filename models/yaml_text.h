// What every YAML loader's error messages need: the 1-based line of a node (0: none known) and a
// short, single-line rendering of the offending value for "(got X)".
#pragma once

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <string>
#include <vector>

#include "models/error.h"

namespace msq {

inline int yaml_line(const YAML::Node& n) {
  const YAML::Mark m = n.Mark();
  return m.line >= 0 ? m.line + 1 : 0;
}

inline std::string yaml_got(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "nothing";
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a mapping";
  if (n.Scalar().empty()) return "\"\"";
  return clip_text(n.Scalar());
}

// Bounds on what a YAML document may expand to. An alias is shared in yaml-cpp's tree, but every
// loader walks it as if it were copied, so a 600-byte file of aliases to aliases would expand to
// billions of values, and an alias inside its own anchor would never end.
constexpr size_t kYamlMaxValues = 1'000'000;  // values visited with aliases expanded
constexpr size_t kYamlMaxDepth = 64;          // nesting; the deepest real file has 4 levels

// Walks `root` as the loaders will, and throws one InputError naming `file`, the line and the key
// when an alias refers to a node that contains it, when the document expands to more than
// kYamlMaxValues values, or when it nests deeper than kYamlMaxDepth. `prefix` is the key of the
// root in messages; `lines` = false leaves lines out (text that is not a file's).
inline void check_yaml_tree(const YAML::Node& root, const std::string& file,
                            const std::string& prefix = "", bool lines = true) {
  struct Walker {
    const std::string& file;
    bool lines;
    size_t visited = 0;
    std::vector<YAML::Node> stack;  // the nodes containing the current one
    std::vector<std::string> path;  // their keys, for messages

    std::string key() const {
      std::string k;
      for (const auto& p : path) k += (k.empty() || p[0] == '[' ? "" : ".") + p;
      return k;
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
inline YAML::Node load_yaml_text(const std::string& text, const std::string& label,
                                 const std::string& key) {
  YAML::Node n = YAML::Load(text);
  check_yaml_tree(n, label, key, false);
  return n;
}

// Every file the loaders read is a few kilobytes; yaml-cpp needs seconds per 10 MB.
constexpr uintmax_t kYamlMaxFileBytes = uintmax_t(16) << 20;

// A file a loader is about to read: says which of "no such file" and "not a regular file" it is.
inline void require_readable_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(path, ec)) return;
  const bool exists = std::filesystem::exists(path, ec);
  throw InputError(
      path, 0, "",
      exists ? "cannot read it: not a regular file" : "cannot read the file (no such file)");
}

// Parses a YAML file; a missing file or a syntax error is one InputError naming the file (and the
// line of the error).
inline YAML::Node load_yaml_file(const std::string& path) {
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
  } catch (const YAML::ParserException& e) {
    throw InputError(path, e.mark.line + 1, "", "YAML syntax error: " + e.msg);
  } catch (const YAML::BadFile&) {
    throw InputError(path, 0, "", "cannot read the file");
  }
  check_yaml_tree(root, path);
  return root;
}

}  // namespace msq
