#pragma once

namespace msq {
// Parses the command line, runs the subcommand, and maps errors to exit codes
// (docs/cli.md): 0 success, 1 the run finished but something failed, 2 bad usage or input.
int cli_main(int argc, char** argv);
}  // namespace msq
