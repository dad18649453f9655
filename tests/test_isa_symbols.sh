#!/usr/bin/env bash
# The portable build holds AVX2 and AVX-512 instructions only in the kernel variants that are
# chosen at run time (models/kernels/isa.h): any other function with a ymm or zmm register would
# run, and die with an illegal instruction, on a CPU without them. This is what happens when a
# wide target leaks into shared code (a whole file compiled with -mavx512f, an inline function or
# template instantiated there and picked by the linker for everyone).
#   tests/test_isa_symbols.sh EXECUTABLE...
set -euo pipefail
status=0
for exe in "$@"; do
  command -v objdump >/dev/null || { echo "test_isa_symbols: objdump not found (binutils)" >&2; exit 1; }
  report=$(objdump -d -C --no-show-raw-insn "$exe" | awk '
    /^[0-9a-f]+ <.*>:$/ { fn = $0 }
    /%ymm/ { if (fn !~ /::avx2::|::avx512::/) bad[fn]++; else ok[fn]++ }
    /%zmm/ { if (fn !~ /::avx512::/) bad[fn]++; else ok[fn]++ }
    END {
      for (f in bad) print "outside the variants: " f
      n = 0; for (f in ok) n++
      print "variants: " n " functions with wide registers"
    }')
  echo "$exe: $report" | sed 's/^/test_isa_symbols: /'
  if grep -q "outside the variants" <<< "$report"; then status=1; fi
  if grep -q "variants: 0 functions" <<< "$report"; then
    echo "test_isa_symbols: $exe has no wide kernel variants at all" >&2
    status=1
  fi
done
exit $status
