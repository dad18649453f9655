#include "models/error.h"

namespace msq {

std::string clip_text(const std::string& s, size_t max) {
  std::string out = s.size() > max ? s.substr(0, max > 3 ? max - 3 : 0) + "..." : s;
  for (char& ch : out)
    if (ch == '\n' || ch == '\r' || ch == '\t') ch = ' ';
  return out;
}

std::string input_error_text(const std::string& file, int line, const std::string& key,
                             const std::string& what) {
  std::string s = file;
  if (line > 0) s += ":" + std::to_string(line);
  if (!key.empty()) s += (s.empty() ? "" : ": ") + clip_text(key, 120);
  s += (s.empty() ? "" : ": ") + clip_text(what, 1000);
  return s;
}

InputError within_file(const std::string& file, const InputError& e) {
  if (e.file().empty()) return InputError(file, e.line(), e.key(), e.detail(), e.problem());
  // Already an error of FILE: naming it twice ("c.yaml: c.yaml: workload.calibration") says no
  // more.
  if (e.file() == file) return e;
  return InputError(file, 0, "", e.what(), e.problem());
}

}  // namespace msq
