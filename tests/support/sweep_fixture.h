// End-to-end sweep tests run the msqsim executable in a temporary directory: SystemC elaborates
// once per process, and the sweep's behaviour (files, exit codes, resume) is the contract.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace msq::testing {

struct CmdResult {
  int code = -1;
  std::string out, err;
};

class SweepDir : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "msq_sweep_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(path(name)) << text;
    return path(name);
  }

  static std::string read(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // A shell command (already quoted) in the temp dir.
  CmdResult shell(const std::string& cmd) {
    const std::string err = path("stderr.txt");
    CmdResult r;
    FILE* p = popen(("cd '" + dir_ + "' && " + cmd + " 2>'" + err + "'").c_str(), "r");
    if (!p) return r;
    char buf[4096];
    for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
    const int status = pclose(p);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.err = read(err);
    return r;
  }

  CmdResult msqsim(const std::string& args) { return shell("'" MSQSIM_EXE "' " + args); }

  // A sweep file whose base is the shipped default example.
  std::string sweep(const std::string& name, const std::string& body) {
    return write(name, "base: " MSQ_SOURCE_DIR "/configs/examples/default.yaml\n" + body);
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

  std::string dir_;
};

}  // namespace msq::testing
