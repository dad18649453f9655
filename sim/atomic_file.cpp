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

// 0, or the errno of the write that failed (ENOSPC for a write that wrote nothing).
int write_all(int fd, const std::string& content) {
  const char* p = content.data();
  size_t left = content.size();
  while (left > 0) {
    const ssize_t w = ::write(fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return errno;
    if (w == 0) return ENOSPC;
    p += w, left -= size_t(w);
  }
  return 0;
}

}  // namespace

bool is_special_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

void check_writable(const std::string& path) {
  struct stat st {};
  // The rename at the end would fail on a directory, after all the work.
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) cannot_write(path, EISDIR);
  // A device or a pipe is written in place (write_file_atomic): no temporary file next to it.
  if (is_special_file(path)) {
    if (::access(path.c_str(), W_OK) != 0) cannot_write(path, errno);
    return;
  }
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
  // /dev/null, /dev/stdout, a pipe: renaming the finished file over it replaced the device node
  // itself (as root, /dev/null became a regular file for every process on the machine). A
  // stream has no partial file to hide, so it is written in place.
  if (is_special_file(path)) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) cannot_write(path, errno);
    const int err = write_all(fd, content);
    ::close(fd);
    if (err) cannot_write(path, err);
    return;
  }
  const std::string tmp = temp_name(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) cannot_write(path, errno);
  const auto fail = [&](int err, const char* what) {
    ::close(fd);
    std::remove(tmp.c_str());
    return InputError(path, 0, "", std::string(what) + ": " + std::strerror(err));
  };
  if (const int err = write_all(fd, content)) throw fail(err, "cannot write");
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
