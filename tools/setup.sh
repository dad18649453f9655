#!/usr/bin/env bash
# Installs what is missing (Debian packages), builds msqsim, then runs what was asked:
#   tools/setup.sh run [CONFIG] [msqsim run options]   default simulation (README command 1)
#   tools/setup.sh test [ctest options]                 whole test suite    (README command 2)
#   tools/setup.sh build                                install and build only
#   tools/setup.sh sanitize [ctest options]             whole suite under ASan + UBSan, in build-asan/
#   tools/setup.sh fuzz [SECONDS]                       each fuzz harness (tests/fuzz) for SECONDS
#                                                       (default 20) from its seed corpus, in
#                                                       build-fuzz/ with clang; fails on any finding
# Environment: BUILD_DIR (default build, build-asan or build-fuzz), JOBS (default: number of cores),
# MSQ_NATIVE=ON to compile for this machine only (-march=native; the default build runs on any
# x86-64 CPU).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-build}
[ $# -gt 0 ] && shift

# One list, read by this script and by the README: what the project needs from Debian.
packages=(build-essential cmake pkg-config libsystemc-dev libyaml-cpp-dev libboost-dev yosys verilator
          libboost-program-options-dev libfmt-dev nlohmann-json3-dev libgtest-dev python3 python3-numpy
          python3-matplotlib python3-onnx libonnx-dev libprotobuf-dev protobuf-compiler
          slurm-wlm munge gtkwave
          qemu-user)
# Only `fuzz` needs these (libFuzzer ships with clang's runtime): a user who runs or tests the
# simulator does not download a second compiler.
fuzz_packages=(clang-14 libclang-rt-14-dev)
[ "$mode" = fuzz ] && packages+=("${fuzz_packages[@]}")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing missing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
fi

# Sanitized builds are separate build directories, so that they never mix with the release build.
# -O1 with line tables: the suite runs about as fast as it can under the sanitizers and every
# report has file:line; assertions stay on (no NDEBUG).
san_type=(-DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g1")
case "$mode" in
  sanitize) build=${BUILD_DIR:-build-asan}; cmake_args=("${san_type[@]}" -DMSQ_SANITIZE=ON)
            targets=() ;;
  fuzz) build=${BUILD_DIR:-build-fuzz}
        cmake_args=("${san_type[@]}" -DMSQ_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++-14)
        targets=(--target fuzzers) ;;
  *) build=${BUILD_DIR:-build}; cmake_args=(-DCMAKE_BUILD_TYPE=Release); targets=() ;;
esac
jobs=${JOBS:-$(nproc)}
mkdir -p "$build"
# A compiler cache, when the machine has one, makes rebuilds of other checkouts cheap.
launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
# MSQ_NATIVE is passed every time: a build directory configured before it defaulted to OFF keeps
# its cached ON otherwise.
cmake -S . -B "$build" "${cmake_args[@]}" -DMSQ_NATIVE="${MSQ_NATIVE:-OFF}" "${launcher[@]}" \
  > "$build/configure.log" 2>&1 || {
  cat "$build/configure.log"; exit 1; }
cmake --build "$build" -j "$jobs" "${targets[@]}"

case "$mode" in
  build) ;;
  run)
    config=configs/examples/default.yaml
    if [ $# -gt 0 ] && [[ "$1" != -* ]]; then config=$1; shift; fi
    exec "$build/msqsim" run "$config" "$@" ;;
  test)
    cd "$build"
    ctest --output-on-failure -j "$jobs" "$@"
    # Once more with the wide kernel variants off, as on a CPU without AVX2 (README, "Speed");
    # the isa.* tests pick their variants themselves.
    echo "setup: the test suite again with MSQSIM_ISA=scalar"
    MSQSIM_ISA=scalar exec ctest --output-on-failure -j "$jobs" -E '^isa\.' "$@" ;;
  sanitize)
    cd "$build"
    # The isa.* tests check the release build's machine code (wide registers only in the kernel
    # variants, which -O1 does not vectorize) and run it under qemu-user, which cannot map ASan's
    # shadow memory; the normal suite runs them.
    exec ctest --output-on-failure -j "$jobs" -E '^isa\.' "$@" ;;
  fuzz) exec bash tests/fuzz/run.sh "$build" "${1:-20}" ;;
  *) echo "usage: tools/setup.sh run|test|build|sanitize|fuzz" >&2; exit 2 ;;
esac
