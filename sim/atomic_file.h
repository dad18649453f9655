// The project's one way to write a finished file (a report, a sorted CSV, a summary).
#pragma once

#include <string>

namespace msq {
// Writes `content` to PATH.tmp-PID in the same directory, flushes it to the disk, then renames it
// over PATH, so that a reader never sees a partial file and PATH keeps its old content when
// anything fails. Every write is checked: a full disk or a file size limit throws InputError
// "PATH: cannot write: REASON" (the temporary file removed).
void write_file_atomic(const std::string& path, const std::string& content);
}  // namespace msq
