// Runs the msqsim executable in a fresh temporary directory: exit code, stdout, stderr.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace msq::testing {

struct Result {
  int code = -1;
  std::string out, err;
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "msq_cli_XXXXXX").string();
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

  // A JSON file the command wrote in the temp dir (a report, a timeline).
  nlohmann::json read_json(const std::string& name) const {
    std::ifstream in(path(name));
    return nlohmann::json::parse(in);
  }

  // A shell command (already quoted) in the temp dir.
  Result shell(const std::string& cmd) {
    const std::string err = path("stderr.txt");
    Result r;
    FILE* p = popen(("cd '" + dir_ + "' && " + cmd + " 2>'" + err + "'").c_str(), "r");
    if (!p) return r;
    char buf[4096];
    for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
    const int status = pclose(p);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.err = read(err);
    return r;
  }

  // Runs msqsim with `args` (already shell-quoted) in the temp dir.
  Result run(const std::string& args) { return shell("'" MSQSIM_EXE "' " + args); }

  // Exit 2 with exactly one line on stderr that starts with `prefix`.
  void expect_input_error(const std::string& args, const std::string& prefix) {
    const Result r = run(args);
    EXPECT_EQ(r.code, 2) << args;
    EXPECT_EQ(r.err.rfind(prefix, 0), 0u) << args << "\nstderr: " << r.err;
    ASSERT_FALSE(r.err.empty());
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "more than one line: " << r.err;
  }
  std::string dir_;
};

}  // namespace msq::testing
