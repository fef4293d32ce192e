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

# --- record -------------------------------------------------------------
"$MEMREC" --time-ns 0 -o "$T/python.trace" -- env PYTHONMALLOC=malloc python3 -c '
import json
d = [{"id": i, "name": "x" * (i % 40), "v": list(range(i % 25))} for i in range(4000)]
s = json.dumps(d)
assert json.loads(s) == d
' || t_fail "record python3"
python3 -c '
import random
r = random.Random(7)
print("create table t(a integer primary key, b text, c real);")
print("begin;")
for i in range(8000):
    print("insert into t values(%d, %r, %f);" % (i, "y" * r.randint(1, 90), r.random()))
print("commit;")
print("create index tb on t(b);")
print("select count(*), sum(length(b)) from t;")
' >"$T/load.sql"
"$MEMREC" --time-ns 0 -o "$T/sqlite.trace" -- sqlite3 "$T/db.sqlite" <"$T/load.sql" >/dev/null ||
	t_fail "record sqlite3"
cc -O1 -o "$T/chains" "$ROOT/tests/data/realloc-chains.c" && \
	"$MEMREC" --time-ns 0 -o "$T/chains.trace" -- "$T/chains" >/dev/null ||
	t_fail "record realloc-chains"

# --- compare -------------------------------------------------------------
# compare NAME TRACE: model and real, field by field.
compare() {
	local name=$1 trace=$2 real
	real=$("$REAL" "$trace" | grep '^end ') || { t_fail "$name: replay-real"; return; }
	t_run replay -q -p malloc -f json "$trace"
	python3 - "$T/.out" "$real" >"$T/.cmp" <<'PYEOF'
import json, sys
p = json.load(open(sys.argv[1]))["traces"][0]["policies"][0]
t = sys.argv[2].split()
real = dict(zip(t[1::2], t[2::2]))
g = p["glibc"]
rows = [("peak footprint", p["peak_footprint_bytes"], real["peak_footprint"]),
        ("final footprint", p["final_footprint_bytes"], real["footprint"])]
rows += [(k, g[k], real[k]) for k in
         ("arena", "ordblks", "smblks", "hblks", "hblkhd", "fsmblks",
          "uordblks", "fordblks", "keepcost")]
# RSS with every byte written (--touch all, the model's assumption): the
# brk heap's resident bytes (smaps) plus the mmapped chunks, all touched
rows += [("final RSS", p["final_rss_bytes"], int(real["heap_rss"]) + int(real["hblkhd"]))]
for name, model, r in rows:
    print("%s|%d|%d" % (name, int(model), int(r)))
PYEOF
	while IFS='|' read -r what model r; do
		t_is "$name: $what (model = real glibc $r)" "$model" "$r"
	done <"$T/.cmp"
}
compare python "$T/python.trace"
compare sqlite3 "$T/sqlite.trace"
compare realloc-chains "$T/chains.trace"

# --- every sample point ------------------------------------------------------
"$REAL" --every 500 "$T/sqlite.trace" | grep '^point ' | sed 's/ heap_rss [0-9]*$//' >"$T/real.pts"
"$UNIT_DIR/test_ptmalloc" points "$T/sqlite.trace" 500 >"$T/model.pts"
n=$(wc -l <"$T/real.pts" | tr -d ' ')
t_ok "sqlite3: mallinfo2 at $n points (every 500th call) is real glibc's" \
	diff -u "$T/real.pts" "$T/model.pts"
t_ok "sqlite3: the points cover the trace" test "$n" -gt 20

t_done
