#!/usr/bin/env bash
# ctest install.deb: `cpack -G DEB` from the build tree into a temporary directory, then checks
# of the package's control fields and contents, and a run of its binary unpacked (dpkg-deb -x, no
# root needed) from an unrelated directory.
#   tests/install/check_deb.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "install.deb: $*" >&2; exit 1; }

(cd "$tmp" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/pkg" > cpack.log 2>&1) \
  || { cat "$tmp/cpack.log"; fail "cpack -G DEB failed"; }
debs=("$tmp"/pkg/msqsim_*.deb)
[ -f "${debs[0]}" ] || fail "no msqsim_*.deb in $tmp/pkg"
deb=${debs[0]}

[ "$(dpkg-deb -f "$deb" Package)" = msqsim ] || fail "package name is not msqsim"
depends=$(dpkg-deb -f "$deb" Depends)
# Every library the binary links must come from a declared dependency that Debian has.
for lib in systemc yaml-cpp fmt boost_program_options; do
  so=$(ldd "$build/msqsim" | awk -v l="lib$lib" 'index($1, l) == 1 { print $3; exit }')
  [ -n "$so" ] || fail "msqsim does not link lib$lib (update this test and the Depends)"
  pkg=$(dpkg -S "$(readlink -f "$so")" 2>/dev/null | head -1 | cut -d: -f1) || true
  [ -n "$pkg" ] || pkg=$(dpkg -S "$so" | head -1 | cut -d: -f1)
  [[ ", $depends," == *", $pkg"[\ ,]* ]] || fail "$so comes from $pkg, which Depends ($depends) lacks"
done

contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
for f in ./usr/bin/msqsim ./usr/share/msqsim/configs/examples/default.yaml \
         ./usr/share/msqsim/configs/resources/costs.yaml ./usr/share/doc/msqsim/README.md \
         ./usr/share/doc/msqsim/docs/arithmetic.md ./usr/share/msqsim/tools/quantize_to_trace.py; do
  grep -qxF "$f" <<< "$contents" || fail "the package lacks $f"
done

dpkg-deb -x "$deb" "$tmp/root"
mkdir "$tmp/elsewhere"
cd "$tmp/elsewhere"
unset MSQSIM_CONFIG_DIR
"$tmp/root/usr/bin/msqsim" run "$tmp/root/usr/share/msqsim/configs/examples/default.yaml" \
  --set 'workload.layers=[conv1]' > run.txt 2>&1 || { cat run.txt; fail "the packaged msqsim failed"; }
grep -q "verify: .* 0 mismatches" run.txt || { cat run.txt; fail "no verification line"; }
echo "install.deb: ok ($(basename "$deb"), Depends: $depends)"
