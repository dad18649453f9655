// What every YAML loader's error messages need: the 1-based line of a node (0: none known) and a
// short, single-line rendering of the offending value for "(got X)".
#pragma once

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <string>

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
  std::string s = n.Scalar();
  if (s.empty()) return "\"\"";
  for (char& ch : s)
    if (ch == '\n' || ch == '\r') ch = ' ';
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

// A file a loader is about to read: says which of "no such file" and "not a regular file" it is.
inline void require_readable_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(path, ec)) return;
  const bool exists = std::filesystem::exists(path, ec);
  throw InputError(input_error_text(
      path, 0, "",
      exists ? "cannot read it: not a regular file" : "cannot read the file (no such file)"));
}

// Parses a YAML file; a missing file or a syntax error is one InputError naming the file (and the
// line of the error).
inline YAML::Node load_yaml_file(const std::string& path) {
  require_readable_file(path);
  try {
    return YAML::LoadFile(path);
  } catch (const YAML::ParserException& e) {
    throw InputError(input_error_text(path, e.mark.line + 1, "", "YAML syntax error: " + e.msg));
  } catch (const YAML::BadFile&) {
    throw InputError(input_error_text(path, 0, "", "cannot read the file"));
  }
}

}  // namespace msq
