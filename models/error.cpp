#include "models/error.h"

namespace msq {

std::string input_error_text(const std::string& file, int line, const std::string& key,
                             const std::string& what) {
  std::string s = file;
  if (line > 0) s += ":" + std::to_string(line);
  if (!key.empty()) s += ": " + key;
  s += ": " + what;
  return s;
}

}  // namespace msq
