// What every YAML loader needs, so that all of them (run configs, devices, DRAM presets, networks,
// sweeps, trace manifests, cost files) check values the same way and word their errors the same:
// one InputError "FILE:LINE: KEY: expected WANT (got VALUE)". Files are parsed with bounds that a
// hostile file cannot get past (size, nesting, alias cycles, alias expansion).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "models/error.h"

namespace msq {

// The 1-based line of a node; 0 when none is known (a node built in code, or cloned).
int yaml_line(const YAML::Node& n);

// A short, single-line rendering of a value for "(got X)": "nothing", "a list", "a mapping", or
// the scalar clipped to 60 characters.
std::string yaml_got(const YAML::Node& n);

// ---- Value conversions. `line` is where the value is (yaml_line(n), or a line the caller
// tracks); each throws "expected WANT (got VALUE)" for the wrong kind or range.

[[noreturn]] void yaml_expected(const YAML::Node& n, const std::string& file, int line,
                                const std::string& key, const std::string& want);
int64_t yaml_int(const YAML::Node& n, const std::string& file, int line, const std::string& key,
                 int64_t lo, int64_t hi);
uint64_t yaml_u64(const YAML::Node& n, const std::string& file, int line, const std::string& key);
// A number in lo..hi; with `integer`, also whole (read as a double, so "1e3" is 1000).
double yaml_real(const YAML::Node& n, const std::string& file, int line, const std::string& key,
                 double lo, double hi, bool integer = false);
bool yaml_bool(const YAML::Node& n, const std::string& file, int line, const std::string& key);
std::string yaml_str(const YAML::Node& n, const std::string& file, int line, const std::string& key,
                     bool allow_empty = false);
// One of `options`: "expected one of A, B (got X)".
std::string yaml_choice(const YAML::Node& n, const std::string& file, int line,
                        const std::string& key, const std::vector<std::string>& options);

// A mapping key, which must be a plain name: `~: 1` has a null key, `[a]: 1` a list. `where` is
// the key of the mapping, for the message.
std::string yaml_key(const YAML::Node& k, const std::string& file, const std::string& where);

// The candidate nearest to `k`, or "" when none is plausibly a misspelling of it.
std::string nearest_name(const std::string& k, const std::vector<std::string>& candidates);

// "unknown key, expected one of A, B (did you mean 'A'?)"
std::string unknown_key_what(const std::string& k, const std::vector<std::string>& known);

// ---- Bounds on documents. An alias is shared in yaml-cpp's tree, but every loader walks it as if
// it were copied, so a 600-byte file of aliases to aliases would expand to billions of values,
// and an alias inside its own anchor would never end.
constexpr size_t kYamlMaxValues = 1'000'000;  // values visited with aliases expanded
constexpr size_t kYamlMaxDepth = 64;          // nesting; the deepest real file has 4 levels
// Every file the loaders read is a few kilobytes; yaml-cpp needs seconds per 10 MB.
constexpr uintmax_t kYamlMaxFileBytes = uintmax_t(16) << 20;

// Walks `root` as the loaders will, and throws one InputError naming `file`, the line and the key
// when an alias refers to a node that contains it, when the document expands to more than
// kYamlMaxValues values, or when it nests deeper than kYamlMaxDepth. `prefix` is the key of the
// root in messages; `lines` = false leaves lines out (text that is not a file's).
void check_yaml_tree(const YAML::Node& root, const std::string& file,
                     const std::string& prefix = "", bool lines = true);

// Parses YAML text (a --set value, say) with the same bounds as a file; messages name `label`
// and `key`, without lines. Syntax errors are yaml-cpp's ParserException, for the caller to word.
YAML::Node load_yaml_text(const std::string& text, const std::string& label,
                          const std::string& key);

// A file a loader is about to read: says which of "no such file" and "not a regular file" it is.
void require_readable_file(const std::string& path);

// Parses a YAML file within the bounds above; a missing, oversized or unparsable file is one
// InputError naming the file (and the line of the error).
YAML::Node load_yaml_file(const std::string& path);

}  // namespace msq
