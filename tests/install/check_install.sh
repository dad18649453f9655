#!/usr/bin/env bash
# ctest install.tree: `cmake --install` into a temporary prefix; the installed binary, run from an
# unrelated directory, must find its configs there (not in this checkout), and must fail cleanly
# (exit 2, one message naming the directory) when they are gone.
#   tests/install/check_install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "install.tree: $*" >&2; exit 1; }

prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" > "$tmp/install.log" || { cat "$tmp/install.log"; fail "cmake --install failed"; }
for f in bin/msqsim \
         share/msqsim/configs/examples/default.yaml share/msqsim/configs/resources/costs.yaml \
         share/msqsim/configs/devices/xc7z045.yaml share/msqsim/configs/workloads/resnet18.yaml \
         share/doc/msqsim/README.md share/doc/msqsim/docs/index.md \
         share/doc/msqsim/docs/arithmetic.md share/doc/msqsim/docs/report.md \
         share/doc/msqsim/docs/traces.md share/doc/msqsim/docs/cli.md \
         share/doc/msqsim/docs/config.md share/doc/msqsim/docs/install.md; do
  [ -e "$prefix/$f" ] || fail "cmake --install did not install $f"
done
for t in quantize_to_trace.py make_test_trace.py plot_sweep.py; do
  [ -x "$prefix/share/msqsim/tools/$t" ] || fail "share/msqsim/tools/$t missing or not executable"
done
[ -f "$prefix/share/msqsim/tools/msd_reference.csv" ] || fail "share/msqsim/tools/msd_reference.csv (read by msd_compare.py) missing"
[ ! -e "$prefix/share/msqsim/tools/setup.sh" ] || fail "setup.sh needs a checkout and must not be installed"

mkdir "$tmp/elsewhere"
cd "$tmp/elsewhere"
unset MSQSIM_CONFIG_DIR
exe=$prefix/bin/msqsim
cfgdir=$prefix/share/msqsim/configs

# A run of the installed example, its device, DRAM preset and network found by name.
"$exe" run "$cfgdir/examples/default.yaml" --set 'workload.layers=[conv1, fc]' --json r.json \
  > run.txt 2> run.err || { cat run.txt run.err; fail "installed msqsim run failed"; }
grep -q "verify: .* 0 mismatches" run.txt || { cat run.txt; fail "no verification line"; }
python3 -c "import json; r = json.load(open('r.json')); assert r['verify']['outputs_checked'] > 0" \
  || fail "r.json has no verified outputs"

# A user's own config in the working directory, naming everything by name (arrays small enough for
# the XC7Z020: validate refuses a design that does not fit, as run does).
printf 'device: xc7z020\nmemory: {preset: ddr3-1066-x32}\naccelerator: {lut_core: {rows: 16, cols: 16}, dsp_core: {rows: 8, cols: 8}}\nworkload: {network: mobilenet_v2}\n' > mine.yaml
"$exe" validate mine.yaml > validate.txt || { cat validate.txt; fail "validate failed"; }
grep -q "config is valid" validate.txt || fail "validate did not accept mine.yaml"

# Configs removed: exit 2 with one line that names the missing directory. The checkout's configs
# exist on this machine; an installed binary must not fall back on them.
mv "$cfgdir" "$tmp/configs"
set +e
"$exe" validate mine.yaml > none.out 2> none.err
rc=$?
set -e
[ "$rc" -eq 2 ] || { cat none.out none.err; fail "exit $rc without configs, expected 2"; }
[ "$(wc -l < none.err)" -eq 1 ] || { cat none.err; fail "expected one line of error"; }
grep -q "no configs directory: $cfgdir does not exist" none.err || { cat none.err; fail "message does not name $cfgdir"; }
grep -q "MSQSIM_CONFIG_DIR" none.err || fail "message does not mention MSQSIM_CONFIG_DIR"

# MSQSIM_CONFIG_DIR points the same binary at a moved copy.
MSQSIM_CONFIG_DIR=$tmp/configs "$exe" validate mine.yaml > moved.txt || fail "MSQSIM_CONFIG_DIR not followed"
echo "install.tree: ok ($prefix)"
