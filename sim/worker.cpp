#include "sim/worker.h"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
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
};

// In the child: the first byte of the pipe says how the task ended ('0' ok, '1' failed, '2' bad
// input), the rest is its result or message.
Child spawn(const std::function<std::string()>& fn) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
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
  return Child{pid, fds[0], {}};
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
              const std::function<void(size_t, bool, const std::string&, int)>& on_done) {
  if (jobs <= 0) jobs = int(std::max(1u, std::thread::hardware_concurrency()));
  std::map<int, std::pair<size_t, Child>> running;  // by fd
  size_t next = 0;
  while (next < count || !running.empty()) {
    while (next < count && int(running.size()) < jobs) {
      const size_t i = next++;
      Child c = spawn([&task, i] { return task(i); });
      running.emplace(c.fd, std::make_pair(i, c));
    }
    std::vector<pollfd> fds;
    for (auto& [fd, _] : running) fds.push_back(pollfd{fd, POLLIN, 0});
    if (poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR)
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
  }
}

}  // namespace msq
