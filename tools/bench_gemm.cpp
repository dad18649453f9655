// The speed reference of tools/bench.sh: a plain int8 x int8 -> int32 GEMM loop over a given
// number of MACs. The loop is built for the same instruction sets as the simulator's kernels and
// picked the same way (the widest the CPU runs, or MSQSIM_ISA), so that the ratios compare like
// with like. Prints the seconds it took, the rate and a checksum.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <vector>

#include "models/kernels/isa.h"

namespace {

// A ResNet-like layer shape, repeated until the MAC count is reached.
constexpr int M = 256, K = 1152, N = 784;

// c[m][n] = sum_k a[m][k] * b[n][k]
#define MSQ_GEMM_LOOP                                                     \
  void gemm(const int8_t* a, const int8_t* b, int32_t* c) {               \
    for (int m = 0; m < M; ++m)                                           \
      for (int n = 0; n < N; ++n) {                                       \
        int32_t acc = 0;                                                  \
        const int8_t* x = a + size_t(m) * K;                              \
        const int8_t* y = b + size_t(n) * K;                              \
        for (int k = 0; k < K; ++k) acc += int32_t(x[k]) * int32_t(y[k]); \
        c[size_t(m) * N + n] = acc;                                       \
      }                                                                   \
  }

namespace scalar {
MSQ_GEMM_LOOP
}  // namespace scalar
#if MSQ_ISA_X86
MSQ_ISA_BEGIN_AVX2
namespace avx2 {
MSQ_GEMM_LOOP
}  // namespace avx2
MSQ_ISA_END
MSQ_ISA_BEGIN_AVX512
namespace avx512 {
MSQ_GEMM_LOOP
}  // namespace avx512
MSQ_ISA_END
#endif

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: msqsim_bench_gemm MACS\n");
    return 2;
  }
  using msq::kernels::Isa;
  Isa isa;
  try {
    isa = msq::kernels::active_isa();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "msqsim_bench_gemm: %s\n", e.what());
    return 2;
  }
  auto* gemm = scalar::gemm;
#if MSQ_ISA_X86
  if (isa >= Isa::Avx512)
    gemm = avx512::gemm;
  else if (isa == Isa::Avx2)
    gemm = avx2::gemm;
#endif
  const double macs = std::atof(argv[1]);
  std::vector<int8_t> a(size_t(M) * K), b(size_t(N) * K);
  for (size_t i = 0; i < a.size(); ++i) a[i] = int8_t((i * 37 + 11) % 15 - 7);
  for (size_t i = 0; i < b.size(); ++i) b[i] = int8_t((i * 53 + 5) % 127);
  std::vector<int32_t> c(size_t(M) * N);
  const int64_t reps = int64_t(macs / (double(M) * K * N) + 0.5);
  int64_t sink = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t r = 0; r < std::max<int64_t>(1, reps); ++r) {
    gemm(a.data(), b.data(), c.data());
    sink += c[size_t(r % M) * N];
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%.6f %.3f %lld\n", s, double(std::max<int64_t>(1, reps)) * M * K * N / s / 1e9,
              static_cast<long long>(sink));
  return 0;
}
