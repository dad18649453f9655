// SystemC elaborates once per process, so every simulation beyond a process's first runs in a
// forked worker. A worker returns a string (usually JSON) through a pipe; an exception in the
// worker comes back as a WorkerError carrying its message and the exit code it stands for.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>

namespace msq {

class WorkerError : public std::runtime_error {
 public:
  WorkerError(const std::string& what, int exit_code)
      : std::runtime_error(what), code_(exit_code) {}
  int exit_code() const { return code_; }  // 2 bad input, 1 anything else

 private:
  int code_;
};

// Runs fn in a forked child and returns its result. Throws WorkerError when fn threw (InputError
// -> exit code 2) or the child died.
std::string run_in_child(const std::function<std::string()>& fn);

// The code run_pool reports for a task that ran out of time (as timeout(1) exits).
constexpr int kTimedOut = 124;

// Runs tasks 0..count-1, at most `jobs` children at once (jobs <= 0: one per core). on_done is
// called in the parent, in completion order, with the task index, whether it succeeded, and its
// result or error message (and the exit code it stands for on failure). A child still running
// `timeout_s` seconds after it started (timeout_s > 0) is killed with SIGKILL and reported as
// failed with code kTimedOut; the others go on.
void run_pool(
    int jobs, size_t count, const std::function<std::string(size_t)>& task,
    const std::function<void(size_t, bool ok, const std::string& text, int code)>& on_done,
    double timeout_s = 0);

}  // namespace msq
