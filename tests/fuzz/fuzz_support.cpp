#include "tests/fuzz/fuzz_support.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace msq::fuzz {
namespace {

struct Scratch {
  std::string dir;
  Scratch() {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/msqfuzz-XXXXXX";
    if (!mkdtemp(tmpl.data())) {
      std::perror("fuzz: mkdtemp");
      std::abort();
    }
    dir = tmpl;
    for (const auto& e : fs::directory_iterator(MSQ_SOURCE_DIR "/configs"))
      if (e.is_directory())
        fs::create_directory_symlink(e.path(), dir + "/" + e.path().filename().string());
    fs::create_directory(dir + "/in");
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

}  // namespace

const std::string& scratch() {
  static const Scratch s;
  return s.dir;
}

std::string put(const std::string& name, const std::string& bytes) {
  const std::string path = scratch() + "/in/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
  out.close();
  if (!out) {
    std::fprintf(stderr, "fuzz: cannot write %s\n", path.c_str());
    std::abort();
  }
  return path;
}

bool verbose() {
  static const bool v = std::getenv("MSQ_FUZZ_VERBOSE") != nullptr;
  return v;
}

void property_failed(const std::string& what) {
  std::fprintf(stderr, "fuzz: property failed: %s\n", what.c_str());
  std::abort();
}

}  // namespace msq::fuzz
