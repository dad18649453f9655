#include "models/config_dir.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "models/error.h"

#ifndef MSQ_BINARY_DIR
#define MSQ_BINARY_DIR ""
#endif

namespace msq {

namespace fs = std::filesystem;

std::string find_configs_dir() {
  std::error_code ec;
  // A mistyped directory made every name lookup list no names at all ("a device name ()").
  if (const char* env = std::getenv("MSQSIM_CONFIG_DIR"); env && *env) {
    if (!fs::is_directory(env, ec))
      throw InputError(std::string("MSQSIM_CONFIG_DIR=") + env +
                       ": not a directory; expected the configs directory (devices/, memory/, "
                       "workloads/, resources/, energy/), e.g. a copy of the source tree's "
                       "configs/ (or unset it)");
    return env;
  }
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  // Without /proc there is no telling where the binary is: the build's own tree is the best guess.
  if (ec) return MSQ_SOURCE_DIR "/configs";
  const fs::path bin = exe.parent_path();
  const fs::path installed = (bin / ".." / "share" / "msqsim" / "configs").lexically_normal();
  if (fs::is_directory(installed, ec)) return installed.string();
  // Only a binary that still sits in its build directory may use the source tree: an installed
  // one must not quietly depend on a checkout that happens to be on the machine.
  if (fs::equivalent(bin, fs::path(MSQ_BINARY_DIR), ec)) return MSQ_SOURCE_DIR "/configs";
  throw InputError("no configs directory: " + installed.string() +
                   " does not exist (install msqsim with 'cmake --install' or its Debian package, "
                   "or set MSQSIM_CONFIG_DIR to a copy of the configs/ directory)");
}

}  // namespace msq
