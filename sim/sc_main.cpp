// libsystemc's own main() calls sc_main; msqsim and the tests have their own main(), so this is
// never run, but the shared library needs the symbol to link.
#include <cstdio>

extern "C" int sc_main(int, char**) {
  std::fprintf(stderr, "msqsim: sc_main is not an entry point\n");
  return 2;
}
