// Trace manifest loader (sim/trace.h read_trace). The input is trace.yaml; the layer directories
// beside it are copies of those of tests/traces, so that a manifest naming one of them (as the
// seeds do) goes on to read and check its arrays. The arrays themselves are fuzz_npy's.
#include <filesystem>

#include "sim/trace.h"
#include "tests/fuzz/fuzz_support.h"

namespace fs = std::filesystem;

namespace {

const std::string& trace_dir() {
  static const std::string dir = [] {
    const std::string d = msq::fuzz::scratch() + "/in/trace";
    fs::create_directories(d);
    for (const auto& t : fs::directory_iterator(MSQ_SOURCE_DIR "/tests/traces"))
      if (fs::exists(t.path() / "trace.yaml"))
        for (const auto& layer : fs::directory_iterator(t.path()))
          if (layer.is_directory() && !fs::exists(fs::path(d) / layer.path().filename()))
            fs::copy(layer.path(), fs::path(d) / layer.path().filename());
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace msq;
  const std::string& dir = trace_dir();
  fuzz::put("trace/trace.yaml", fuzz::text(data, size));
  fuzz::expect_user_errors([&] { read_trace(dir); });
  return 0;
}
