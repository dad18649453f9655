// User-facing errors. The library throws; only main() turns them into messages and exit codes.
#pragma once

#include <stdexcept>
#include <string>

namespace msq {

// Bad usage or bad input: a config, a trace, a workload file. Exit code 2.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Formats "FILE:LINE: KEY: WHAT" (line omitted when unknown, i.e. line <= 0).
std::string input_error_text(const std::string& file, int line, const std::string& key,
                             const std::string& what);

}  // namespace msq
