#include "sim/cli.h"

#include <cstdio>

namespace msq {
// Placeholder until the command line is written (issue 2); exits 2 so that nothing mistakes it
// for a working run.
int cli_main(int, char**) {
  std::fprintf(stderr, "msqsim: command line not built yet\n");
  return 2;
}
}  // namespace msq
