// Stubs for the commands not written yet. Whoever implements a command deletes its stub here;
// exit 2 so that nothing mistakes a stub for a working run.
#include <cstdio>

#include "sim/commands.h"

namespace msq {
namespace {
int pending(const char* cmd) {
  std::fprintf(stderr, "msqsim: '%s' is not built yet\n", cmd);
  return 2;
}
}  // namespace

int cmd_regress(const RegressOptions&) {
  return pending("regress");
}
int cmd_trace_record(const TraceRecordOptions&) {
  return pending("trace record");
}

}  // namespace msq
