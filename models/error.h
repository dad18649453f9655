// User-facing errors. The library throws; only main() turns them into messages and exit codes.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

namespace msq {

// A value quoted in a message, on one line and at most `max` characters ("..." marks a cut): a
// 50 MB value must not come back whole in an error.
std::string clip_text(const std::string& s, size_t max = 60);

// Formats "FILE:LINE: KEY: WHAT" (line omitted when unknown, i.e. line <= 0; file and key when
// empty). The key and the
// text are clipped too (to 120 and 1000 characters), a backstop for a caller that quoted a value
// whole.
std::string input_error_text(const std::string& file, int line, const std::string& key,
                             const std::string& what);

// What kind of mistake an InputError is, for a caller that acts on it (a sweep checking its axes
// against the config's keys): decided where the error is raised, never by matching its text.
// MixedSpelling: a key of one spelling of the engines (accelerator.engines, or the old
// accelerator.lut_core / dsp_core) next to the other: wrong whatever its value.
enum class InputProblem { Other, UnknownKey, MixedSpelling };

// Bad usage or bad input: a config, a trace, a workload file. Exit code 2. Loaders give the parts
// (file, line, key, what) and what() is their input_error_text; callers that add context or move
// an error to another file's line use the parts, never the message text.
class InputError : public std::runtime_error {
 public:
  // A message with no parts (what() = detail() = message).
  explicit InputError(const std::string& message) : std::runtime_error(message), what_(message) {}
  // line <= 0: none known; key "": none.
  InputError(std::string file, int line, std::string key, std::string what,
             InputProblem problem = InputProblem::Other)
      : std::runtime_error(input_error_text(file, line, key, what)),
        file_(std::move(file)),
        key_(std::move(key)),
        what_(std::move(what)),
        line_(line),
        problem_(problem) {}

  const std::string& file() const { return file_; }
  int line() const { return line_; }
  const std::string& key() const { return key_; }
  const std::string& detail() const { return what_; }  // what was wrong, without file and key
  InputProblem problem() const { return problem_; }

 private:
  std::string file_, key_, what_;
  int line_ = 0;
  InputProblem problem_ = InputProblem::Other;
};

// `e`, raised while working for FILE (the config that asked for a design that cannot be built), as
// an error of FILE: its parts kept when it names no file of its own; when it does, that file's
// message becomes the detail ("FILE: OTHER:LINE: KEY: WHAT").
InputError within_file(const std::string& file, const InputError& e);

}  // namespace msq
