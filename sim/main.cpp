// msqsim entry point: the command line lives in sim/cli.cpp.
#include "sim/cli.h"

int main(int argc, char** argv) {
  return msq::cli_main(argc, argv);
}
