// Default options of the sanitizers, compiled into the executables of a sanitized build
// (MSQ_SANITIZE, MSQ_FUZZ), so that ctest, a test's msqsim child process and a by-hand run all
// behave the same. ASAN_OPTIONS / UBSAN_OPTIONS / LSAN_OPTIONS in the environment still override.

extern "C" {

// ASan: every report fails the process; stack-use-after-return is cheap enough at -O1 and finds
// references to locals that outlive their function (GCC leaves it off by default).
const char* __asan_default_options() {
  return "detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1";
}

// UBSan: a stack trace with each report (the build already makes every report fatal).
const char* __ubsan_default_options() {
  return "print_stacktrace=1:halt_on_error=1";
}

// Debian's libsystemc (2.3.4, QuickThreads coroutines) reports its stack switches to ASan through
// weak references to these two functions. Its reports leave ASan believing, after a simulation,
// that the main thread's stack is a coroutine's; the next exception thrown on the main thread
// then leaves its frames poisoned and the one after is reported as a stack-buffer-overflow inside
// ASan's own sigaltstack call (seen in Regress.RecordRefusesToOverwriteANonTraceDirectory), and
// detect_stack_use_after_return crashes inside the first SC_THREAD. Definitions in the executable
// take precedence over GCC's shared runtime for libsystemc's references, so ASan keeps the main
// thread's true stack. The cost: an exception thrown on a coroutine stack would not be unpoisoned
// (ASan then warns that it ignores it); the suite shows no such warning. clang links its runtime
// statically, where these would be duplicate definitions; the fuzzers do not run SystemC.
#if defined(__GNUC__) && !defined(__clang__)
void __sanitizer_start_switch_fiber(void**, const void*, unsigned long) {}
void __sanitizer_finish_switch_fiber(void*, const void**, unsigned long*) {}
#endif

}  // extern "C"
