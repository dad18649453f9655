// The user documentation against the code: tables in docs/arithmetic.md that are generated from
// the code must still equal it, links between the docs must resolve, and the product must not
// point outside the repository.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "models/arith/packed_dsp.h"
#include "models/arith/sp2.h"

namespace fs = std::filesystem;

namespace {

const fs::path kSrc = MSQ_SOURCE_DIR;

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The table rows between two marker comments, as lists of cells.
std::vector<std::vector<std::string>> table_between(const std::string& doc,
                                                    const std::string& begin,
                                                    const std::string& end) {
  const size_t b = doc.find(begin), e = doc.find(end);
  EXPECT_NE(b, std::string::npos) << begin;
  EXPECT_NE(e, std::string::npos) << end;
  std::vector<std::vector<std::string>> rows;
  if (b == std::string::npos || e == std::string::npos) return rows;
  std::istringstream lines(doc.substr(b, e - b));
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] != '|') continue;
    if (n++ < 2) continue;  // header and separator
    std::vector<std::string> cells;
    std::string cell;
    std::istringstream cs(line.substr(1));
    while (std::getline(cs, cell, '|')) {
      const size_t f = cell.find_first_not_of(' '), l = cell.find_last_not_of(' ');
      cells.push_back(f == std::string::npos ? "" : cell.substr(f, l - f + 1));
    }
    rows.push_back(cells);
  }
  return rows;
}

std::string join(const std::vector<int32_t>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s;
}

// GitHub's heading anchors: lower case, spaces to '-', punctuation other than '-' and '_' dropped.
std::set<std::string> anchors(const std::string& doc) {
  std::set<std::string> out;
  std::istringstream lines(doc);
  std::string line;
  bool fence = false;
  while (std::getline(lines, line)) {
    if (line.rfind("```", 0) == 0) fence = !fence;
    if (fence || line.empty() || line[0] != '#') continue;
    const size_t t = line.find_first_not_of('#');
    std::string a;
    for (char c : line.substr(t == std::string::npos ? line.size() : t + 1)) {
      if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')
        a += char(std::tolower(static_cast<unsigned char>(c)));
      else if (c == ' ')
        a += '-';
    }
    out.insert(a);
  }
  return out;
}

std::vector<fs::path> user_docs() {
  std::vector<fs::path> v{kSrc / "README.md"};
  for (const auto& e : fs::directory_iterator(kSrc / "docs"))
    if (e.path().extension() == ".md") v.push_back(e.path());
  return v;
}

}  // namespace

TEST(Docs, Sp2LevelTableMatchesTheCode) {
  const auto rows = table_between(read(kSrc / "docs/arithmetic.md"), "<!-- SP2 LEVELS -->",
                                  "<!-- END SP2 LEVELS -->");
  ASSERT_EQ(rows.size(), 6u);  // b = 3..8
  for (const auto& r : rows) {
    ASSERT_EQ(r.size(), 8u);
    const msq::Sp2Format f(std::stoi(r[0]));
    const std::vector<int32_t> levels = msq::sp2_levels(f);
    std::vector<int32_t> non_negative;
    for (int32_t v : levels)
      if (v >= 0) non_negative.push_back(v);
    EXPECT_EQ(r[1], std::to_string(f.m1)) << "b = " << f.bits;
    EXPECT_EQ(r[2], std::to_string(f.m2)) << "b = " << f.bits;
    EXPECT_EQ(r[3], std::to_string(f.F)) << "b = " << f.bits;
    EXPECT_EQ(r[4], std::to_string(f.max_level())) << "b = " << f.bits;
    EXPECT_EQ(r[5], std::to_string(1 << f.bits)) << "b = " << f.bits;
    EXPECT_EQ(r[6], std::to_string(levels.size())) << "b = " << f.bits;
    EXPECT_EQ(r[7], join(non_negative)) << "b = " << f.bits;
  }
}

TEST(Docs, PackedChainTableMatchesTheCode) {
  const auto rows = table_between(read(kSrc / "docs/arithmetic.md"), "<!-- PACKED CHAINS -->",
                                  "<!-- END PACKED CHAINS -->");
  ASSERT_EQ(rows.size(), 14u);  // two slices x b = 2..8
  for (const auto& r : rows) {
    ASSERT_EQ(r.size(), 5u);
    const auto g =
        msq::dsp_geometry(r[0] == "DSP48E1" ? msq::DspKind::DSP48E1 : msq::DspKind::DSP48E2);
    const int b = std::stoi(r[1]);
    const int D = msq::max_lane_offset(g, b);
    EXPECT_EQ(r[2], std::to_string(D)) << r[0] << " b = " << b;
    EXPECT_EQ(r[3], std::to_string(msq::packed_max_chain(g, {b, 8, D}))) << r[0] << " b = " << b;
    EXPECT_EQ(r[4], std::to_string(msq::packed_max_chain(g, {b, 4, D}))) << r[0] << " b = " << b;
  }
}

TEST(Docs, RelativeLinksAndAnchorsResolve) {
  const std::regex link(R"(\]\(([^)\s]+)\))");
  for (const fs::path& doc : user_docs()) {
    const std::string text = read(doc);
    for (std::sregex_iterator it(text.begin(), text.end(), link), end; it != end; ++it) {
      const std::string target = (*it)[1];
      if (target.rfind("http", 0) == 0) continue;
      const size_t hash = target.find('#');
      const std::string file = target.substr(0, hash);
      const fs::path p = file.empty() ? doc : doc.parent_path() / file;
      EXPECT_TRUE(fs::exists(p)) << doc << " links to " << target << ", which does not exist";
      if (hash == std::string::npos || !fs::exists(p) || p.extension() != ".md") continue;
      const std::string anchor = target.substr(hash + 1);
      EXPECT_TRUE(anchors(read(p)).count(anchor))
          << doc << " links to " << target << ": no heading with that anchor";
    }
  }
}

// The product (code, configs, tools, docs, help text) documents itself: no pointer to notes that
// are not part of the repository.
TEST(Docs, NoReferenceOutsideTheRepository) {
  // Spelt in pieces so that this file does not find itself.
  const std::vector<std::string> banned{
      std::string("DOM") + "AIN.md", std::string("DES") + "IGN.md", std::string("../") + "shared"};
  std::vector<fs::path> files{kSrc / "README.md", kSrc / "CMakeLists.txt"};
  for (const char* dir : {"docs", "sim", "models", "tools", "configs", "tests"})
    for (const auto& e : fs::recursive_directory_iterator(kSrc / dir)) {
      const std::string ext = e.path().extension().string();
      if (e.is_regular_file() &&
          std::set<std::string>{".md", ".h", ".cpp", ".py", ".sh", ".yaml", ".csv"}.count(ext))
        files.push_back(e.path());
    }
  for (const fs::path& f : files) {
    const std::string text = read(f);
    for (const std::string& b : banned)
      EXPECT_EQ(text.find(b), std::string::npos) << f << " mentions " << b;
  }
}
