// What every YAML loader's error messages need: the 1-based line of a node (0: none known) and a
// short, single-line rendering of the offending value for "(got X)".
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

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

}  // namespace msq
