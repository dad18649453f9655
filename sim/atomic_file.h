// The project's one way to write a finished file (a report, a sorted CSV, a summary).
#pragma once

#include <string>

namespace msq {
// Writes `content` to PATH.tmp-PID in the same directory, flushes it to the disk, then renames it
// over PATH, so that a reader never sees a partial file and PATH keeps its old content when
// anything fails. Every write is checked: a full disk or a file size limit throws InputError
// "PATH: cannot write: REASON" (the temporary file removed).
// An existing PATH that is a device or a pipe, or a link into /proc (/dev/null, /dev/stdout), is
// written in place (appended); through any other symlink, the file it names is replaced.
void write_file_atomic(const std::string& path, const std::string& content);

// PATH is written in place by write_file_atomic: it exists and is neither a regular file nor a
// directory (a device, a pipe, a socket), or its links lead into /proc (/dev/stdout).
bool written_in_place(const std::string& path);

// PATH with its symlinks followed to the file or directory they name, which need not exist yet
// (a dangling link gives its target): what a finished output replaces, so that an output given
// as a link is written through it and the link stays a link.
std::string link_target(const std::string& path);

// Checks, before any work, that write_file_atomic (or an append to PATH) can later create its
// file: creates and removes the temporary file it would use. A missing directory, a path under a
// file, a read-only file system, or PATH being a directory throws InputError
// "PATH: cannot write: REASON", so that a mistyped --out costs nothing instead of a whole run.
void check_writable(const std::string& path);

// Throws InputError "OUT: OPTION: is the run's WHAT: writing the output would replace it" when
// OUT and IN name the same file (through symlinks and relative paths too); IN "" never matches.
// An output given the name of an input used to overwrite that input.
void check_not_input(const std::string& out, const std::string& option, const std::string& in,
                     const std::string& what);

// The same for a directory written as a whole (a trace): creates and removes a temporary
// directory next to it, as the writer will.
void check_dir_writable(const std::string& dir);
}  // namespace msq
