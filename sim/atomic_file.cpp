#include "sim/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "models/error.h"

namespace msq {

namespace {

[[noreturn]] void cannot_write(const std::string& path, int err) {
  throw InputError(path, 0, "", std::string("cannot write: ") + std::strerror(err));
}

std::string temp_name(const std::string& path) {
  return path + ".tmp-" + std::to_string(::getpid());
}

}  // namespace

void check_writable(const std::string& path) {
  struct stat st {};
  // The rename at the end would fail on a directory, after all the work.
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) cannot_write(path, EISDIR);
  const std::string tmp = temp_name(path);
  // O_EXCL: a file that happens to have this name is not ours to truncate or remove.
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) {
    if (errno == EEXIST) return;  // the directory takes files: that is what was to be known
    cannot_write(path, errno);
  }
  ::close(fd);
  ::unlink(tmp.c_str());
}

void check_not_input(const std::string& out, const std::string& option, const std::string& in,
                     const std::string& what) {
  if (out.empty() || in.empty()) return;
  std::error_code eo, ei;
  const std::filesystem::path po = std::filesystem::weakly_canonical(out, eo);
  const std::filesystem::path pi = std::filesystem::weakly_canonical(in, ei);
  if (!eo && !ei && po == pi)
    throw InputError(out, 0, option,
                     "is the run's " + what + ": writing the output would replace it");
}

void check_dir_writable(const std::string& dir) {
  std::string base = dir;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  std::string tmp = base + ".tmp-XXXXXX";
  if (!::mkdtemp(tmp.data())) cannot_write(dir, errno);
  ::rmdir(tmp.c_str());
}

void write_file_atomic(const std::string& path, const std::string& content) {
  const std::string tmp = temp_name(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) cannot_write(path, errno);
  const auto fail = [&](int err, const char* what) {
    ::close(fd);
    std::remove(tmp.c_str());
    return InputError(path, 0, "", std::string(what) + ": " + std::strerror(err));
  };
  const char* p = content.data();
  size_t left = content.size();
  while (left > 0) {
    const ssize_t w = ::write(fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) throw fail(errno, "cannot write");
    if (w == 0) throw fail(ENOSPC, "cannot write");
    p += w, left -= size_t(w);
  }
  // Some file systems (NFS, quotas) report a full disk only here; and without the data on disk,
  // a crash after the rename could leave an empty file under the finished name.
  if (::fsync(fd) != 0 && errno != EINVAL) throw fail(errno, "cannot write");
  if (::close(fd) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    cannot_write(path, err);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    throw InputError(path, 0, "", "cannot rename the finished file into place: " + why);
  }
}

}  // namespace msq
