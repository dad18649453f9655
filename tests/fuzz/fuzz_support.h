// Shared by the libFuzzer harnesses (tests/fuzz/README.md): the loaders read files, so each input
// is written to a file in a private scratch directory first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "models/error.h"

namespace msq::fuzz {

// A scratch directory for this process, removed at exit. Holds symbolic links to the source
// tree's configs/ subdirectories, so that relative paths of the seed files
// ("../examples/default.yaml", "../workloads/resnet18.yaml") resolve as in the repository.
const std::string& scratch();

// Writes bytes to scratch()/in/name (replacing it) and returns the path. in/ is a real directory
// beside the links, so "../examples/default.yaml" from an input resolves into configs/.
std::string put(const std::string& name, const std::string& bytes);

inline std::string text(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// MSQ_FUZZ_VERBOSE set: print each user error's message (to check a reproducer by hand).
bool verbose();

// Runs a loader on one input. A user error (InputError, with its message naming the file) is the
// expected outcome of bad input; anything else escapes to libFuzzer: another exception type
// terminates the process, and crashes, sanitizer reports, huge allocations and timeouts are
// libFuzzer's to report.
template <typename F>
void expect_user_errors(F&& load) {
  try {
    load();
  } catch (const InputError& e) {
    if (verbose()) std::fprintf(stderr, "fuzz: user error: %s\n", e.what());
  }
}

// A failed property check (a round trip that does not reproduce its input): print and abort,
// which libFuzzer records as a crash with the input.
[[noreturn]] void property_failed(const std::string& what);

}  // namespace msq::fuzz
