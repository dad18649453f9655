#include "sim/csv.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "models/error.h"

namespace msq {

std::string csv_field(const std::string& c) {
  if (c.find_first_of(",\"\n\r") == std::string::npos) return c;
  std::string out = "\"";
  for (char ch : c) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + '"';
}

std::string csv_line(const std::vector<std::string>& cells) {
  std::string out;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i) out += ',';
    out += csv_field(cells[i]);
  }
  return out + "\n";
}

std::string csv_text(const std::vector<std::string>& header,
                     const std::vector<std::vector<std::string>>& rows) {
  std::string s = csv_line(header);
  for (const auto& r : rows) s += csv_line(r);
  return s;
}

std::vector<std::string> csv_split(const std::string& line, bool& ok) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char ch = line[i];
    if (quoted) {
      if (ch == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"', ++i;
      } else if (ch == '"') {
        quoted = false;
      } else {
        out.back() += ch;
      }
    } else if (ch == '"' && out.back().empty()) {
      quoted = true;
    } else if (ch == ',') {
      out.emplace_back();
    } else {
      out.back() += ch;
    }
  }
  ok = !quoted;
  return out;
}

AppendFile::~AppendFile() {
  if (fd_ >= 0) ::close(fd_);
}

void AppendFile::open(const std::string& path, bool truncate) {
  if (fd_ >= 0) close();
  path_ = path;
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0),
               0666);
  if (fd_ < 0) throw InputError(path + ": cannot write: " + std::strerror(errno));
  good_ = lseek(fd_, 0, SEEK_END);
  if (good_ < 0) fail(errno);
}

void AppendFile::fail(int err) {
  // Cutting a file shorter needs no free space, so this works on a full disk too.
  if (fd_ >= 0) {
    if (good_ >= 0 && ftruncate(fd_, good_) != 0) {
      // The write error is the one to report; a failed cut leaves a torn last line, which a
      // reader drops (it has no newline).
    }
    ::close(fd_);
    fd_ = -1;
  }
  throw InputError(path_ + ": cannot write: " + std::strerror(err));
}

void AppendFile::append(const std::string& lines) {
  if (fd_ < 0) throw InputError(path_ + ": cannot write: the file is not open");
  // O_APPEND: should something else cut the file meanwhile, the rows still land at its end, not
  // after a hole.
  const char* p = lines.data();
  size_t left = lines.size();
  while (left > 0) {
    const ssize_t w = ::write(fd_, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) fail(errno);
    if (w == 0) fail(ENOSPC);
    p += w, left -= size_t(w);
  }
  const off_t end = lseek(fd_, 0, SEEK_CUR);
  if (end >= 0) good_ = end;
}

void AppendFile::close() {
  if (fd_ < 0) return;
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    const int err = errno;
    if (err != EINTR) throw InputError(path_ + ": cannot write: " + std::strerror(err));
  }
}

}  // namespace msq
