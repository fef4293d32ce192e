#!/bin/bash
# tests/e2e/glibc_exact.sh - the `glibc` model (sim/alloc_ptmalloc.c)
# against the real glibc 2.36 of this machine. Three real programs are
# recorded here with tools/memrec: python3 with PYTHONMALLOC=malloc doing
# a JSON round trip, sqlite3 loading rows and building an index, and
# tests/data/realloc-chains.c. Each trace is replayed by the `malloc`
# preset and by tools/replay-real (the same calls on the real malloc in a
# fresh process); the expected values are the real library's, read from
# mallinfo2() and sbrk(0) there: peak and final footprint and every
# mallinfo2 field at the end must be equal, and so must the final RSS
# (the real one from /proc/self/smaps, every block written). On one trace the model's
# mallinfo2 (test_ptmalloc points) must equal the real one after every
# 500th call. docs/policies.md ("Fidelity") has the table this makes.
. "$ROOT/tests/lib.sh"
TOOLS=$(cd "$UNIT_DIR/../../tools" 2>/dev/null && pwd)
REAL=$TOOLS/replay-real
MEMREC=$ROOT/tools/memrec
if [ ! -x "$REAL" ] || [ ! -f "$ROOT/bin/libmemrec.so" ]; then
	t_skip "glibc exact" "replay-real or bin/libmemrec.so not built (make tools)"
	t_done; exit
fi
case $(ldd --version | head -1) in
*" 2.36"*) ;;
*) t_skip "glibc exact" "the model is of glibc 2.36; this libc is $(ldd --version | head -1)"
   t_done; exit ;;
esac

# --- record and compare (tools/glibc-fidelity prints TRACE METRIC MODEL REAL)
MEMSIM=$MEMSIM REAL=$REAL "$ROOT/tools/glibc-fidelity" "$T/fid" >"$T/fid.txt" ||
	t_fail "tools/glibc-fidelity ran"
while read -r trace what model real; do
	t_is "$trace: $what (model = real glibc $real)" "$model" "$real"
done <"$T/fid.txt"
t_ok "three traces, twelve metrics each" test "$(wc -l <"$T/fid.txt")" -eq 36

# --- every sample point ------------------------------------------------------
"$REAL" --every 500 "$T/fid/sqlite3.trace" | grep '^point ' | sed -E 's/ mapped [0-9]+ rss [0-9]+//; s/ heap_rss [0-9]+$//' >"$T/real.pts"
"$UNIT_DIR/test_ptmalloc" points "$T/fid/sqlite3.trace" 500 >"$T/model.pts"
n=$(wc -l <"$T/real.pts" | tr -d ' ')
t_ok "sqlite3: mallinfo2 at $n points (every 500th call) is real glibc's" \
	diff -u "$T/real.pts" "$T/model.pts"
t_ok "sqlite3: the points cover the trace" test "$n" -gt 20

# --- the other real allocators (tools/replay-real --lib) -------------------
calls=$("$REAL" "$T/fid/sqlite3.trace" | tr ' ' '\n' | sed -n '/^calls$/{n;p;q}')
for lib in jemalloc tcmalloc mimalloc; do
	"$REAL" --lib "$lib" "$T/fid/sqlite3.trace" >"$T/$lib.out" 2>"$T/$lib.err"
	st=$?
	if [ $st -eq 78 ]; then
		t_skip "real $lib" "$(cat "$T/$lib.err")"
		continue
	fi
	t_is "real $lib: replays every call" "$st $(tr ' ' '\n' <"$T/$lib.out" | sed -n '/^calls$/{n;p;q}')" "0 $calls"
	t_like "real $lib: reports its mapped memory" "$(cat "$T/$lib.out")" " peak_mapped "
done
REPLAY_REAL_LIBDIR=$T/nowhere "$REAL" --lib jemalloc "$T/fid/sqlite3.trace" >/dev/null 2>"$T/miss.err"
t_is "a library not installed: exit 78" "$?" 78
t_like "a library not installed: names the Debian package" "$(cat "$T/miss.err")" \
	"real:jemalloc: libjemalloc.so.2 is not installed (Debian package libjemalloc2"

t_done
