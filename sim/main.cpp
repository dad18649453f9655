// msqsim entry point: the command line lives in sim/cli.cpp.
#include <malloc.h>
#include <signal.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "models/kernels/isa.h"
#include "sim/cli.h"

namespace {

// A verified run allocates tens of megabytes per layer (weights, tiles, outputs). Fresh memory
// costs a page fault and a zeroed page per 4 KiB, a sixth of a ResNet-18 run. So: every block
// comes from the heap, freed memory stays there for reuse, and the heap's first gigabyte of
// address space is marked for transparent huge pages (one fault per 2 MiB). Reserving address
// space touches no memory; pages are only backed when used.
void heap_in_huge_pages() {
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, INT32_MAX);
  constexpr size_t kReserve = size_t(1) << 30, kHuge = size_t(2) << 20;
  void* p = std::malloc(kReserve);
  if (!p) return;
  const uintptr_t lo = (uintptr_t(p) + kHuge - 1) & ~uintptr_t(kHuge - 1);
  const uintptr_t hi = (uintptr_t(p) + kReserve) & ~uintptr_t(kHuge - 1);
  madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_HUGEPAGE);  // advice: failure is harmless
  std::free(p);
}

// The heap is set up before any shared library's static constructors run: SystemC's allocates
// and clears a 3 MiB scratch heap, which otherwise costs ~770 page faults, a quarter of the
// timing-only ResNet-18 run. A preinit_array entry of the executable runs before every library
// initializer. Under AddressSanitizer, whose own start-up also uses preinit_array, main does it.
#if defined(__SANITIZE_ADDRESS__)
#define MSQ_HEAP_IN_MAIN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MSQ_HEAP_IN_MAIN 1
#endif
#endif
#ifndef MSQ_HEAP_IN_MAIN
void preinit_heap(int, char**, char**) {
  heap_in_huge_pages();
}
__attribute__((section(".preinit_array"),
               used)) void (*const preinit_heap_entry)(int, char**, char**) = preinit_heap;
#endif

}  // namespace

int main(int argc, char** argv) {
  // The kernel variant is fixed for the whole run: a bad MSQSIM_ISA stops before any work.
  const std::string isa_error = msq::kernels::isa_env_error();
  if (!isa_error.empty()) {
    std::fprintf(stderr, "msqsim: %s\n", isa_error.c_str());
    return 2;
  }
  // Under a file size limit (ulimit -f) a write past it would kill msqsim without a word; ignored,
  // the write fails with EFBIG and every writer reports it with its reason, like a full disk.
  signal(SIGXFSZ, SIG_IGN);
#ifdef MSQ_HEAP_IN_MAIN
  heap_in_huge_pages();
#endif
  return msq::cli_main(argc, argv);
}
