#include "sim/worker.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <thread>
#include <vector>

#include "models/error.h"

namespace msq {

namespace {

struct Child {
  pid_t pid = -1;
  int fd = -1;
  std::string out;
  double start = 0;  // steady clock, seconds
};

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// In the child: the first byte of the pipe says how the task ended ('0' ok, '1' failed, '2' bad
// input), the rest is its result or message.
Child spawn(const std::function<std::string()>& fn) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  std::fflush(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    // A worker whose parent died has no one to report to, and would keep the parent's files and
    // locks (the sweep's output lock) open for as long as it runs.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    close(fds[0]);
    std::string msg;
    char tag = '0';
    try {
      msg = fn();
    } catch (const InputError& e) {
      tag = '2', msg = e.what();
    } catch (const std::exception& e) {
      tag = '1', msg = e.what();
    } catch (...) {
      tag = '1', msg = "unknown error";
    }
    msg.insert(msg.begin(), tag);
    const char* p = msg.data();
    size_t left = msg.size();
    while (left > 0) {
      const ssize_t w = write(fds[1], p, left);
      if (w <= 0) break;
      p += w, left -= size_t(w);
    }
    close(fds[1]);
    std::fflush(nullptr);
    _exit(0);
  }
  close(fds[1]);
  return Child{pid, fds[0], {}, now_s()};
}

// Reads what is available; returns false at end of file.
bool drain(Child& c) {
  char buf[65536];
  const ssize_t n = read(c.fd, buf, sizeof buf);
  if (n > 0) {
    c.out.append(buf, size_t(n));
    return true;
  }
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  return false;
}

// Reaps the child and splits its output into (ok, text, code).
void finish(Child& c, bool& ok, std::string& text, int& code) {
  close(c.fd);
  int status = 0;
  waitpid(c.pid, &status, 0);
  if (c.out.empty()) {
    ok = false, code = 1;
    text = WIFSIGNALED(status)
               ? std::string("worker killed by signal ") + std::to_string(WTERMSIG(status))
               : "worker ended without a result";
    return;
  }
  ok = c.out[0] == '0';
  code = c.out[0] == '2' ? 2 : (ok ? 0 : 1);
  text = c.out.substr(1);
}

std::string fmt_seconds(double s) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "no result after %g s: the worker was killed", s);
  return buf;
}

}  // namespace

std::string run_in_child(const std::function<std::string()>& fn) {
  Child c = spawn(fn);
  while (drain(c)) {
  }
  bool ok;
  std::string text;
  int code;
  finish(c, ok, text, code);
  if (!ok) throw WorkerError(text, code);
  return text;
}

void run_pool(int jobs, size_t count, const std::function<std::string(size_t)>& task,
              const std::function<void(size_t, bool, const std::string&, int)>& on_done,
              double timeout_s) {
  if (jobs <= 0) jobs = int(std::max(1u, std::thread::hardware_concurrency()));
  std::map<int, std::pair<size_t, Child>> running;  // by fd
  // Should on_done throw (the sweep's output cannot be written), no worker outlives the pool.
  struct KillOnUnwind {
    std::map<int, std::pair<size_t, Child>>& running;
    ~KillOnUnwind() {
      for (auto& [fd, ic] : running) {
        kill(ic.second.pid, SIGKILL);
        close(fd);
        waitpid(ic.second.pid, nullptr, 0);
      }
    }
  } guard{running};
  size_t next = 0;
  while (next < count || !running.empty()) {
    while (next < count && int(running.size()) < jobs) {
      const size_t i = next++;
      Child c = spawn([&task, i] { return task(i); });
      running.emplace(c.fd, std::make_pair(i, c));
    }
    std::vector<pollfd> fds;
    double first_deadline = -1;
    for (auto& [fd, ic] : running) {
      fds.push_back(pollfd{fd, POLLIN, 0});
      const double d = ic.second.start + timeout_s;
      if (timeout_s > 0 && (first_deadline < 0 || d < first_deadline)) first_deadline = d;
    }
    int wait_ms = -1;
    if (first_deadline >= 0)
      wait_ms = int(std::clamp(std::ceil((first_deadline - now_s()) * 1000.0), 0.0, 1e9));
    if (poll(fds.data(), fds.size(), wait_ms) < 0 && errno != EINTR)
      throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
    for (const pollfd& p : fds) {
      if (!(p.revents & (POLLIN | POLLHUP | POLLERR))) continue;
      auto it = running.find(p.fd);
      if (drain(it->second.second)) continue;
      bool ok;
      std::string text;
      int code;
      const size_t i = it->second.first;
      finish(it->second.second, ok, text, code);
      running.erase(it);
      on_done(i, ok, text, code);
    }
    if (timeout_s <= 0) continue;
    const double t = now_s();
    for (auto it = running.begin(); it != running.end();) {
      Child& c = it->second.second;
      if (t - c.start < timeout_s) {
        ++it;
        continue;
      }
      // A hung worker would hold the whole sweep: it is killed and its task reported.
      kill(c.pid, SIGKILL);
      close(c.fd);
      int status = 0;
      while (waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
      }
      const size_t i = it->second.first;
      it = running.erase(it);
      on_done(i, false, fmt_seconds(timeout_s), kTimedOut);
    }
  }
}

}  // namespace msq
