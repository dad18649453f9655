// Where the shipped configs (devices, DRAM presets, networks, resource costs, examples) live, for
// an installed binary and for one in its build tree alike. models/ and sim/ both need it, and
// models/ must not depend on sim/, so the lookup lives here once.
#pragma once

#include <string>

namespace msq {

// $MSQSIM_CONFIG_DIR when set (returned as given); else <dir of the executable>/../share/msqsim/
// configs when that directory exists (an installed binary, docs/install.md); else, for a binary
// in the build tree it was built in, the source tree's configs/. Anything else (an installed
// binary whose configs were removed, a binary copied elsewhere) is an InputError that names the
// directories searched and the variable that overrides them.
std::string find_configs_dir();

}  // namespace msq
