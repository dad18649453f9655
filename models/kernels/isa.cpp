#include "models/kernels/isa.h"

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <stdexcept>

namespace msq::kernels {

namespace {

constexpr const char* kNames[kIsaCount] = {"scalar", "avx2", "avx512", "avx512vnni"};

bool cpu_has(Isa isa) {
#if MSQ_ISA_X86
  // GCC's checks of the AVX features include the OS's (XGETBV): a kernel that does not save the
  // wide registers reports them absent.
  __builtin_cpu_init();
  const bool v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                  __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2") &&
                  __builtin_cpu_supports("popcnt");
  const bool v4 = v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                  __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
                  __builtin_cpu_supports("avx512cd");
  switch (isa) {
    case Isa::Scalar:
      return true;
    case Isa::Avx2:
      return v3;
    case Isa::Avx512:
      return v4;
    case Isa::Avx512Vnni:
      return v4 && __builtin_cpu_supports("avx512vnni");
  }
  return false;
#else
  return isa == Isa::Scalar;
#endif
}

std::string supported_list() {
  std::string s;
  for (int i = 0; i < kIsaCount; ++i)
    if (isa_supported(Isa(i))) s += std::string(s.empty() ? "" : ", ") + kNames[i];
  return s;
}

// What MSQSIM_ISA asks for: the variant, or an error message.
bool from_env(Isa& isa, std::string& error) {
  const char* v = std::getenv("MSQSIM_ISA");
  isa = best_isa();
  error.clear();
  if (!v || !*v) return true;
  const std::string want = v;
  for (int i = 0; i < kIsaCount; ++i)
    if (want == kNames[i]) {
      if (!isa_supported(Isa(i))) {
        error = "MSQSIM_ISA=" + want + ": this CPU does not run the " + want +
                " kernels; it runs " + supported_list() + " (unset MSQSIM_ISA for the widest)";
        return false;
      }
      isa = Isa(i);
      return true;
    }
  error = "MSQSIM_ISA=" + want +
          ": unknown kernel variant, expected scalar, avx2, avx512 or avx512vnni (this CPU runs " +
          supported_list() + ")";
  return false;
}

std::atomic<int> g_active{-1};
std::once_flag g_once;

}  // namespace

const char* isa_name(Isa isa) {
  return kNames[int(isa)];
}

bool isa_supported(Isa isa) {
  static const bool has[kIsaCount] = {cpu_has(Isa::Scalar), cpu_has(Isa::Avx2),
                                      cpu_has(Isa::Avx512), cpu_has(Isa::Avx512Vnni)};
  return has[int(isa)];
}

Isa best_isa() {
  for (int i = kIsaCount - 1; i > 0; --i)
    if (isa_supported(Isa(i))) return Isa(i);
  return Isa::Scalar;
}

std::string isa_env_error() {
  Isa isa;
  std::string error;
  from_env(isa, error);
  return error;
}

Isa active_isa() {
  const int a = g_active.load(std::memory_order_relaxed);
  if (a >= 0) return Isa(a);
  std::call_once(g_once, [] {
    Isa isa;
    std::string error;
    if (!from_env(isa, error)) throw std::runtime_error(error);
    int expected = -1;
    g_active.compare_exchange_strong(expected, int(isa));
  });
  return Isa(g_active.load());
}

std::string isa_summary() {
  return std::string("kernels: ") + isa_name(active_isa()) + " (this CPU runs " + supported_list() +
         "; MSQSIM_ISA picks one)";
}

void set_active_isa(Isa isa) {
  if (!isa_supported(isa))
    throw std::invalid_argument(std::string("this CPU does not run the ") + isa_name(isa) +
                                " kernels");
  g_active.store(int(isa));
}

}  // namespace msq::kernels
