#include "sim/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "models/error.h"

namespace msq {

void write_file_atomic(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) throw InputError(path + ": cannot write: " + std::strerror(errno));
  const auto fail = [&](int err, const char* what) {
    ::close(fd);
    std::remove(tmp.c_str());
    return InputError(path + ": " + what + ": " + std::strerror(err));
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
    throw InputError(path + ": cannot write: " + std::strerror(err));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    throw InputError(path + ": cannot rename the finished file into place: " + why);
  }
}

}  // namespace msq
