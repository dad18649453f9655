// The value kernels (LUT core, DSP core, functional model) come in variants for several x86-64
// instruction sets, all built into one portable binary; the widest one the CPU runs is chosen at
// start-up. MSQSIM_ISA=scalar|avx2|avx512|avx512vnni forces a narrower one (README, "Speed").
#pragma once

#include <string>

namespace msq::kernels {

// Narrowest first. scalar is portable C++ at the build's baseline (x86-64: SSE2, which the
// compiler may still use for vectors); avx2 adds AVX2, FMA, BMI1/2 and POPCNT (x86-64-v3 class);
// avx512 adds AVX-512 F/BW/VL/DQ/CD; avx512vnni adds VNNI (the functional model's 8-bit dot
// products).
enum class Isa : int { Scalar = 0, Avx2 = 1, Avx512 = 2, Avx512Vnni = 3 };
constexpr int kIsaCount = 4;

const char* isa_name(Isa isa);
// Whether this CPU (and its operating system, which must save the wide registers) runs `isa`.
bool isa_supported(Isa isa);
// The widest variant this CPU runs.
Isa best_isa();

// The variant in use: chosen on first use from MSQSIM_ISA, else best_isa(). Throws
// std::runtime_error with isa_env_error()'s message when MSQSIM_ISA is not usable.
Isa active_isa();
// "" when MSQSIM_ISA is unset, empty or names a variant this CPU runs; else one message saying
// what is wrong and what is accepted. Programs check it at start-up to exit with it.
std::string isa_env_error();
// One line for `msqsim --version`: the variant in use and the ones this CPU runs.
std::string isa_summary();
// Tests switch variants within one process. Throws std::invalid_argument when the CPU lacks it.
void set_active_isa(Isa isa);

}  // namespace msq::kernels

// Target regions for the variants: a kernel source (models/kernels/*.inc) is included once per
// variant between MSQ_ISA_BEGIN_* and MSQ_ISA_END, inside namespace scalar / avx2 / avx512, with
// MSQ_ISA_LEVEL set to the Isa value. Only functions defined inside a region get its instruction
// set; everything defined before (std templates, the project's inline helpers) stays baseline, so
// no copy of a shared inline function can hold wide instructions. Feature lists, not arch=, keep
// the baseline helpers inlinable into the kernels.
#if defined(__x86_64__) && defined(__clang__)
// clang (the fuzz build) has no `#pragma GCC target`; its attribute regions do the same.
#define MSQ_ISA_X86 1
// clang-format off
#define MSQ_ISA_BEGIN_AVX2 _Pragma("clang attribute push(__attribute__((target(\"avx2,fma,bmi,bmi2,popcnt\"))), apply_to = function)")
#define MSQ_ISA_BEGIN_AVX512 _Pragma("clang attribute push(__attribute__((target(\"avx2,fma,bmi,bmi2,popcnt,avx512f,avx512bw,avx512vl,avx512dq,avx512cd\"))), apply_to = function)")
#define MSQ_ISA_BEGIN_AVX512_W256 MSQ_ISA_BEGIN_AVX512
// clang-format on
#define MSQ_ISA_END _Pragma("clang attribute pop")
#elif defined(__x86_64__)
#define MSQ_ISA_X86 1
// clang-format off
#define MSQ_ISA_BEGIN_AVX2 _Pragma("GCC push_options") _Pragma("GCC target(\"avx2,fma,bmi,bmi2,popcnt\")")
// 512-bit vectors: GCC keeps AVX-512 code to 256 bits unless told; the cycle model's kernels run
// about twice as fast at full width (tools/bench.sh).
#define MSQ_ISA_BEGIN_AVX512 _Pragma("GCC push_options") _Pragma("GCC target(\"avx2,fma,bmi,bmi2,popcnt,avx512f,avx512bw,avx512vl,avx512dq,avx512cd,prefer-vector-width=512\")")
// The same at 256 bits (the functional model's int16 multiply-adds measured faster there).
#define MSQ_ISA_BEGIN_AVX512_W256 _Pragma("GCC push_options") _Pragma("GCC target(\"avx2,fma,bmi,bmi2,popcnt,avx512f,avx512bw,avx512vl,avx512dq,avx512cd,prefer-vector-width=256\")")
// clang-format on
#define MSQ_ISA_END _Pragma("GCC pop_options")
#else
#define MSQ_ISA_X86 0
#endif
