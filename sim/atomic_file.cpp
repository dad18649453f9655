#include "sim/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>

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

namespace {

// The path a chain of symlinks ends at, one hop at a time (weakly_canonical leaves a link to a file
// not yet made, a dangling one, as it is); `stop` ends the walk early at a path it accepts.
std::string follow_links(std::string p, bool (*stop)(const std::string&) = nullptr) {
  for (int hop = 0; hop < 40; ++hop) {
    if (stop && stop(p)) break;
    struct stat l {};
    if (::lstat(p.c_str(), &l) != 0 || !S_ISLNK(l.st_mode)) break;
    char buf[4096];
    const ssize_t n = ::readlink(p.c_str(), buf, sizeof buf - 1);
    if (n <= 0) break;
    const std::string t(buf, size_t(n));
    p = t[0] == '/' ? t : (std::filesystem::path(p).parent_path() / t).string();
  }
  return p;
}

bool in_proc(const std::string& p) {
  return p.rfind("/proc/", 0) == 0;
}

// A path that reaches /proc through its links: /dev/stdout is /proc/self/fd/1, whatever that is
// (a terminal, a pipe, or the file the shell redirected to).
bool through_proc(const std::string& path) {
  std::error_code ec;
  const std::string p = std::filesystem::absolute(path, ec).string();
  return !ec && in_proc(follow_links(p, in_proc));
}

}  // namespace

// A finished file is renamed to the file a symlink names: renaming it over the link replaced the
// link itself (/dev/stdout became a regular file).
std::string link_target(const std::string& path) {
  return follow_links(path);
}

bool written_in_place(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) return true;
  return through_proc(path);
}

void check_writable(const std::string& path_in) {
  struct stat st {};
  // The rename at the end would fail on a directory, after all the work.
  if (::stat(path_in.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) cannot_write(path_in, EISDIR);
  // A device, a pipe or /dev/stdout is written in place (write_file_atomic): no temporary file
  // next to it.
  if (written_in_place(path_in)) {
    if (::access(path_in.c_str(), W_OK) != 0) cannot_write(path_in, errno);
    return;
  }
  const std::string tmp = temp_name(link_target(path_in));
  // O_EXCL: a file that happens to have this name is not ours to truncate or remove.
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) {
    if (errno == EEXIST) return;  // the directory takes files: that is what was to be known
    cannot_write(path_in, errno);
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

void write_file_atomic(const std::string& path_in, const std::string& content) {
  // /dev/null, /dev/stdout, a pipe: renaming the finished file over it replaced the device node
  // or the link itself (as root, /dev/null became a regular file for every process on the
  // machine). A stream has no partial file to hide, so it is written in place, appended after
  // what the command printed to it.
  if (written_in_place(path_in)) {
    std::cout.flush();
    std::fflush(stdout);
    const int fd = ::open(path_in.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) cannot_write(path_in, errno);
    const int err = write_all(fd, content);
    ::close(fd);
    if (err) cannot_write(path_in, err);
    return;
  }
  const std::string path = link_target(path_in);
  const std::string tmp = temp_name(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) cannot_write(path_in, errno);
  const auto fail = [&](int err, const char* what) {
    ::close(fd);
    std::remove(tmp.c_str());
    return InputError(path_in, 0, "", std::string(what) + ": " + std::strerror(err));
  };
  if (const int err = write_all(fd, content)) throw fail(err, "cannot write");
  // Some file systems (NFS, quotas) report a full disk only here; and without the data on disk,
  // a crash after the rename could leave an empty file under the finished name.
  if (::fsync(fd) != 0 && errno != EINVAL) throw fail(errno, "cannot write");
  if (::close(fd) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    cannot_write(path_in, err);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    throw InputError(path_in, 0, "", "cannot rename the finished file into place: " + why);
  }
}

}  // namespace msq
