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

// A value quoted in a message, on one line and at most `max` characters ("..." marks a cut): a
// 50 MB value must not come back whole in an error.
std::string clip_text(const std::string& s, size_t max = 60);

// Formats "FILE:LINE: KEY: WHAT" (line omitted when unknown, i.e. line <= 0). The key and the
// text are clipped too (to 120 and 1000 characters), a backstop for a caller that quoted a value
// whole.
std::string input_error_text(const std::string& file, int line, const std::string& key,
                             const std::string& what);

}  // namespace msq
