// SystemC elaborates once per process: a test that compares several simulations runs each in a
// forked child and gets a trivially copyable result back through a pipe.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>
#include <type_traits>

namespace msq::testing {

template <typename T, typename F>
T in_child(F&& fn) {
  static_assert(std::is_trivially_copyable_v<T>);
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    close(fds[0]);
    int status = 0;
    try {
      const T v = fn();
      if (write(fds[1], &v, sizeof v) != ssize_t(sizeof v)) status = 3;
    } catch (...) {
      status = 4;
    }
    _exit(status);
  }
  close(fds[1]);
  T v{};
  const ssize_t got = read(fds[0], &v, sizeof v);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (got != ssize_t(sizeof v) || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("the child simulation failed");
  return v;
}

}  // namespace msq::testing
