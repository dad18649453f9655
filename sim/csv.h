// The project's one CSV format: RFC 4180 cells (quoted when they hold a comma, a quote or a line
// break), one row per line, "\n" line ends. Whole files go through write_file_atomic
// (sim/atomic_file.h); files that grow row by row while a command runs go through AppendFile.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace msq {

// One cell, quoted (its quotes doubled) exactly when it holds a comma, a quote, a CR or an LF.
std::string csv_field(const std::string& cell);

// One row as text, with its newline.
std::string csv_line(const std::vector<std::string>& cells);

// A header and rows as the text of a whole file.
std::string csv_text(const std::vector<std::string>& header,
                     const std::vector<std::vector<std::string>>& rows);

// Splits one line (without its newline) into cells; `ok` is false when a quoted cell is not
// closed.
std::vector<std::string> csv_split(const std::string& line, bool& ok);

// Appends whole lines to a file with unbuffered, checked writes: a line is on its way to the disk
// (safe from a kill of this process) when append returns. A failed write (disk full, file size
// limit, I/O error) throws InputError "PATH: cannot write: REASON" after cutting the file back to
// its last complete line, so that the file stays readable and later writes cannot tear a row.
class AppendFile {
 public:
  AppendFile() = default;
  AppendFile(const AppendFile&) = delete;
  AppendFile& operator=(const AppendFile&) = delete;
  ~AppendFile();  // closes without throwing; call close() to see a late error

  // truncate: start empty; else append to what the file holds (created if missing).
  void open(const std::string& path, bool truncate);
  void append(const std::string& lines);
  void close();
  bool is_open() const { return fd_ >= 0; }
  const std::string& path() const { return path_; }

 private:
  [[noreturn]] void fail(int err);
  std::string path_;
  int fd_ = -1;
  off_t good_ = 0;  // where the last complete append ended
};

}  // namespace msq
