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
