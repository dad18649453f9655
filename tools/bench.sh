#!/usr/bin/env bash
# Simulation speed against a plain int8 GEMM over the same MACs, all on one core, in one run:
#   tools/bench.sh [MSQSIM] [CONFIG] [REPEATS]
# Prints the reference time, the whole-process times of `msqsim run` with --no-verify and with
# verification, and their ratios to the reference (best of REPEATS interleaved runs; default 3),
# each also as CPU time. MSQSIM_ISA picks the kernel variant of both msqsim and the reference.
# Last, the cost of the mapping search: `msqsim validate` of ResNet-50 on CONFIG's accelerator
# with the search and with the fixed rule (validate plans every layer; the difference is the search).
set -euo pipefail
cd "$(dirname "$0")/.."
exe=${1:-build/msqsim}
config=${2:-configs/examples/default.yaml}
repeats=${3:-3}
gemm=$(dirname "$exe")/msqsim_bench_gemm
pin=(taskset -c 0)
command -v taskset >/dev/null || pin=()

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$exe" run "$config" --no-verify --json "$tmp/r.json" > /dev/null
macs=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['total']['macs'])" "$tmp/r.json")
# The kernel variant in use (MSQSIM_ISA or the widest the CPU runs); the reference uses the same.
kernels=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1])).get('kernels', 'unknown'))" "$tmp/r.json")

# The machine's speed drifts from minute to minute and other processes may share the core: each
# repeat times the reference and both runs back to back, each figure is the best of its repeats,
# and the CPU time (user + system) of each process is reported too, which other processes on the
# core do not inflate.
python3 - "$config" "$macs" "$kernels" "$repeats" "$gemm" "$exe" "${pin[@]}" <<'PY'
import resource, subprocess, sys, time
cfg, macs, kernels, repeats, gemm, exe, pin = *sys.argv[1:3], sys.argv[3], int(sys.argv[4]), *sys.argv[5:7], sys.argv[7:]
macs = int(macs)

def run(cmd):
    """Wall and CPU seconds of one run, and its output."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(pin + cmd, stdout=subprocess.PIPE, text=True, check=True).stdout
    t1 = time.perf_counter()
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return t1 - t0, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime), out

best = {}
def keep(key, v):
    best[key] = min(best.get(key, v), v)

for _ in range(repeats):
    wall, cpu, out = run([gemm, str(macs)])
    keep("ref", float(out.split()[0]))  # the loop alone, timed by the reference itself
    keep("ref_cpu", cpu)
    for key, extra in (("timing", ["--no-verify"]), ("verified", [])):
        wall, cpu, _ = run([exe, "run", cfg] + extra)
        keep(key, wall)
        keep(key + "_cpu", cpu)
ref, ref_cpu = best["ref"], best["ref_cpu"]
print(f"bench: {cfg}: {macs/1e9:.3f} GMAC, one core, {kernels} kernels, best of the runs")
print(f"bench: reference int8 GEMM over the same MACs: {ref*1e3:.1f} ms ({macs/ref/1e9:.2f} GMAC/s); "
      f"CPU {ref_cpu*1e3:.1f} ms")
for key, what, target in (("timing", "--no-verify (timing only):", 0.25),
                          ("verified", "(every output verified):  ", 3)):
    t, c = best[key], best[key + "_cpu"]
    print(f"bench: msqsim run {what} {t*1e3:.1f} ms = {t/ref:.3f}x the reference (target <= {target}x); "
          f"CPU {c*1e3:.1f} ms = {c/ref_cpu:.3f}x")

plan = {}
for _ in range(repeats):
    for mode in ("search", "fixed"):
        wall, cpu, _ = run([exe, "validate", cfg, "--set", "workload.network=resnet50",
                            "--set", f"accelerator.scheduler.mapping={mode}"])
        plan[mode] = min(plan.get(mode, cpu), cpu)
print(f"bench: msqsim validate, ResNet-50: CPU {plan['search']*1e3:.1f} ms with the mapping search, "
      f"{plan['fixed']*1e3:.1f} ms with the fixed rule: the search takes "
      f"{(plan['search'] - plan['fixed'])*1e3:.1f} ms (target well under 1 s)")
PY
