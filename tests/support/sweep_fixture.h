// End-to-end sweep tests run the msqsim executable in a temporary directory: SystemC elaborates
// once per process, and the sweep's behaviour (files, exit codes, resume) is the contract.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/cli_fixture.h"

namespace msq::testing {

using CmdResult = Result;

class SweepDir : public CliTest {
 protected:
  CmdResult msqsim(const std::string& args) { return run(args); }

  // A sweep file whose base is the shipped default example.
  std::string sweep(const std::string& name, const std::string& body) {
    return write(name, "base: " MSQ_SOURCE_DIR "/configs/examples/default.yaml\n" + body);
  }

  // Starts msqsim with `args` in the temp dir, its stdout and stderr going to TAG.out and TAG.err
  // there; `in_child` runs in the child just before exec (limits, signals, environment).
  pid_t start(const std::vector<std::string>& args, const std::string& tag,
              const std::function<void()>& in_child = {}) {
    const std::string out = path(tag + ".out"), err = path(tag + ".err");
    const pid_t pid = fork();
    if (pid == 0) {
      if (chdir(dir_.c_str()) != 0) _exit(127);
      const int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (o < 0 || e < 0) _exit(127);
      dup2(o, 1), dup2(e, 2);
      if (in_child) in_child();
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(MSQSIM_EXE));
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(MSQSIM_EXE, argv.data());
      _exit(127);
    }
    return pid;
  }

  // Waits for a process from start(); code is -1 when it was killed by a signal.
  CmdResult finish(pid_t pid, const std::string& tag) {
    int status = 0;
    waitpid(pid, &status, 0);
    CmdResult r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = read(path(tag + ".out"));
    r.err = read(path(tag + ".err"));
    return r;
  }

  // Waits until `file` has at least `lines` lines (at most 30 s); false on time out.
  bool wait_lines(const std::string& file, int lines) {
    const auto t0 = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(30)) {
      const std::string t = read(file);
      if (std::count(t.begin(), t.end(), '\n') >= lines) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }

  // Rows of a results CSV as maps from column to cell (cells hold no commas in these tests).
  static std::vector<std::map<std::string, std::string>> rows(const std::string& csv_path) {
    std::istringstream in(read(csv_path));
    std::string line;
    std::vector<std::string> header;
    std::vector<std::map<std::string, std::string>> out;
    while (std::getline(in, line)) {
      std::vector<std::string> cells;
      std::stringstream ls(line);
      for (std::string c; std::getline(ls, c, ',');) cells.push_back(c);
      if (!line.empty() && line.back() == ',') cells.emplace_back();
      if (header.empty()) {
        header = cells;
        continue;
      }
      std::map<std::string, std::string> m;
      for (size_t i = 0; i < header.size() && i < cells.size(); ++i) m[header[i]] = cells[i];
      out.push_back(m);
    }
    return out;
  }
};

}  // namespace msq::testing
