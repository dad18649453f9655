#pragma once

#include <string>

namespace msq {
// Writes `content` to PATH.tmp-PID in the same directory, then renames it over PATH, so that a
// reader never sees a partial file. Throws InputError naming the path when it cannot.
void write_file_atomic(const std::string& path, const std::string& content);
}  // namespace msq
