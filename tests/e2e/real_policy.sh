#!/bin/bash
# tests/e2e/real_policy.sh - the real: policies (sim/alloc_real.c): the
# trace's allocator calls, as the simulated heap makes them, replayed in a
# child process (replay-real --stream) on the real glibc, jemalloc,
# tcmalloc and mimalloc, and measured there.
#
# Real programs are recorded here with tools/memrec (sqlite3 loading rows,
# tests/data/realloc-chains.c, and python3 with PYTHONMALLOC=malloc
# outside the slow tiers). Expected values come from the real library:
#  - `malloc` (the glibc 2.36 model) equals real:glibc on peak footprint,
#    its event, final footprint and the arena's free bytes (mallinfo2
#    arena and fordblks measured in the child);
#  - real:glibc's final figures equal those of replay-real run alone on
#    the same trace (the same calls in a fresh process);
#  - the issue's command prints every policy side by side, labelled
#    measured or model, in text, JSON, CSV and the memory plot's legend.
# Bad input: a library not installed (78, naming the Debian package), a
# trace error located as under a model (65), a child killed by a signal
# (70) or out of memory under a ulimit (71): never numbers.
. "$ROOT/tests/lib.sh"
BIN=$(dirname "${VG_MEMSIM:-$MEMSIM}")
REAL=$BIN/replay-real
if [ ! -x "$REAL" ] || [ ! -f "$ROOT/bin/libmemrec.so" ]; then
	t_skip "real: policies" "replay-real next to memsim or bin/libmemrec.so not built (make)"
	t_done; exit
fi
glibc236=1
case $(ldd --version | head -1) in *" 2.36"*) ;; *) glibc236=0 ;; esac
rec="$ROOT/tools/memrec --time-ns 0 -o"

# --- record real programs ----------------------------------------------------
rows=3000; t_slow && rows=600
python3 -c "
import random
r = random.Random(3)
print('create table t(a integer primary key, b text);')
print('begin;')
for i in range($rows):
    print('insert into t values(%d, %r);' % (i, 'z' * r.randint(1, 120)))
print('commit;')
print('create index tb on t(b);')
" >"$T/load.sql"
$rec "$T/sqlite3.trace" -- sqlite3 "$T/db.sqlite" <"$T/load.sql" >/dev/null ||
	t_fail "memrec sqlite3"
cc -O1 -o "$T/chains" "$ROOT/tests/data/realloc-chains.c" && $rec "$T/chains.trace" -- "$T/chains" >/dev/null ||
	t_fail "memrec realloc-chains"
traces="sqlite3 chains"
if ! t_slow; then
	$rec "$T/python.trace" -- env PYTHONMALLOC=malloc python3 -c '
import json
d = [{"k": i, "s": "q" * (i % 50), "l": list(range(i % 20))} for i in range(2500)]
assert json.loads(json.dumps(d)) == d
' || t_fail "memrec python3"
	traces="$traces python"
fi

# --- malloc = real:glibc, and real:glibc = replay-real alone ----------------
for t in $traces; do
	t_run replay -q -p malloc -p real:glibc -f json "$T/$t.trace"
	t_is "$t: malloc and real:glibc replay" "$T_STATUS" 0
	printf '%s\n' "$T_OUT" >"$T/$t.json"
	"$REAL" "$T/$t.trace" | grep '^end ' >"$T/$t.alone"
	python3 - "$T/$t.json" "$T/$t.alone" "$glibc236" >"$T/$t.cmp" <<'PY'
import json, sys
m, r = json.load(open(sys.argv[1]))["traces"][0]["policies"]
t = open(sys.argv[2]).read().split()
alone = dict(zip(t[1::2], map(int, t[2::2])))
meas = r["real"]
rows = []
if sys.argv[3] == "1":     # the model is of glibc 2.36
    for k in ("peak_footprint_bytes", "peak_footprint_event", "final_footprint_bytes"):
        rows.append(("model %s = real glibc's" % k, m[k], r[k]))
    for k in ("arena", "fordblks", "uordblks"):
        rows.append(("model mallinfo2 %s = real glibc's" % k, m["glibc"][k], meas["measured." + k]))
rows.append(("flags: model, measured", "%s %s" % (m["measured"], r["measured"]), "False True"))
for k in ("footprint", "fordblks", "peak_footprint", "calls", "live_blocks"):
    rows.append(("real:glibc %s = replay-real alone" % k, meas["measured." + k], alone[k]))
rows.append(("final footprint is the measured one", r["final_footprint_bytes"], meas["measured.footprint"]))
for what, a, b in rows:
    print("%s\t%s\t%s" % (what, a, b))
PY
	while IFS=$'\t' read -r what a b; do
		t_is "$t: $what ($b)" "$a" "$b"
	done <"$T/$t.cmp"
done

# --- the issue's command: side by side, labelled, with plots ----------------
pols="-p malloc -p real:glibc -p real:jemalloc -p real:mimalloc -p real:tcmalloc -p cpython-3.13"
missing=""
for lib in jemalloc mimalloc tcmalloc; do
	"$MEMSIM" policies --show "real:$lib" >/dev/null 2>"$T/show.err" ||
		missing="$missing $lib"
done
if [ -n "$missing" ]; then
	t_skip "the issue's command" "not installed:$missing ($(head -1 "$T/show.err"))"
else
	# shellcheck disable=SC2086
	t_run replay $pols --out "$T/out" "$T/sqlite3.trace"
	t_is "six policies on sqlite3: exit 0" "$T_STATUS" 0
	# The text marks a measured column with * and says so under the legend.
	t_is "text: the real columns are marked measured, the models not" \
		"$(printf '%s\n' "$T_OUT" | grep '^memory ' | tr -s ' ' | paste -sd'|')" \
		"memory [1] [2]* [3]* [4]* [5]* [6]"
	t_like "text: the mark is explained" "$T_OUT" \
		"* measured on the real allocator; other columns are modelled"
	python3 - "$T/out/report.json" "$T/out/report.csv" >"$T/six.txt" <<'PY'
import csv, json, sys
ps = json.load(open(sys.argv[1]))["traces"][0]["policies"]
print("names", " ".join(p["name"] for p in ps))
print("measured", " ".join(str(p["measured"]) for p in ps))
rows = list(csv.reader(open(sys.argv[2])))
i = rows[0].index("measured")
print("csv", " ".join(r[i] for r in rows[1:]))
calls = [p["real"]["measured.calls"] for p in ps if p["measured"]]
print("calls equal", len(set(calls)) == 1 and calls[0] > 0)
libstats = [k for p in ps if p["measured"] for k in p["real"]]
print("own stats", all(k in libstats for k in ("measured.arena", "measured.stats.resident",
      "measured.generic.heap_size", "measured.mi.current_commit")))
defs = json.load(open(sys.argv[1]))["definitions"]
print("defined", sorted(k for p in ps if p["measured"] for k in p["real"]
                        if defs.get("real." + k, {}).get("label", k) == k))
PY
	t_is "json: the six policies" "$(sed -n 1p "$T/six.txt")" \
		"names malloc real:glibc real:jemalloc real:mimalloc real:tcmalloc cpython-3.13"
	t_is "json: measured flags" "$(sed -n 2p "$T/six.txt")" "measured False True True True True False"
	t_is "csv: measured column" "$(sed -n 3p "$T/six.txt")" "csv 0 1 1 1 1 0"
	t_is "every library got every call" "$(sed -n 4p "$T/six.txt")" "calls equal True"
	t_is "each library's own statistics" "$(sed -n 5p "$T/six.txt")" "own stats True"
	t_is "every measured counter has a label (alloc_real.c's table)" "$(sed -n 6p "$T/six.txt")" "defined []"
	t_like "plot: the real lines are labelled measured" \
		"$(cat "$T/out/plots/sqlite3.memory.gp")" "'real:jemalloc (measured)'"
	n2=$(wc -l <"$T/out/data/sqlite3.p2.series.dat")
	n1=$(wc -l <"$T/out/data/sqlite3.p1.series.dat")
	t_is "the real series is sampled on the model's schedule" "$n2" "$n1"
	t_ok "the real series has points" test "$n2" -gt 10
fi

# --- reference events: the simulated heap decides, the library serves ------
t_run replay -q -p malloc -p real:glibc -f json "$ROOT/traces/cycle.trace"
t_is "a trace with references and a collector: exit 0" "$T_STATUS" 0
if [ "$glibc236" = 1 ]; then
	t_is "cycle.trace: peak footprint, model = real glibc" \
		"$(printf '%s\n' "$T_OUT" | python3 -c '
import json, sys
a, b = json.load(sys.stdin)["traces"][0]["policies"]
print(a["peak_footprint_bytes"] == b["peak_footprint_bytes"], b["peak_footprint_bytes"] > 0)')" "True True"
fi

# --- bad input -----------------------------------------------------------------
REPLAY_REAL_LIBDIR=$T/nowhere t_run replay -p real:jemalloc "$T/chains.trace"
t_is "a library not installed: exit 78" "$T_STATUS" 78
t_like "a library not installed: names the Debian package" "$T_ERR" \
	"memsim: real:jemalloc: allocator (real): libjemalloc.so.2 is not installed (Debian package libjemalloc2: apt-get install libjemalloc2)"
t_is "a library not installed: no numbers" "$T_OUT" ""

printf 'a 1 10\na 2 20\nf 3\n' >"$T/bad.trace"
t_run replay -p malloc "$T/bad.trace"
model_err=$T_ERR
t_run replay -p real:glibc "$T/bad.trace"
t_is "a trace error: exit 65" "$T_STATUS" 65
t_is "a trace error: file:line as under a model" "$T_ERR" "$model_err"

# A child killed by a signal mid-run: a replayer that reads a little, then
# SIGKILLs itself.
cat >"$T/killed.sh" <<'EOF'
#!/bin/sh
head -c 4800 >/dev/null
kill -9 $$
EOF
chmod +x "$T/killed.sh"
MEMSIM_REPLAY_REAL=$T/killed.sh t_run replay -p real:glibc "$T/chains.trace"
t_is "a child killed by a signal: exit 70" "$T_STATUS" 70
t_like "a child killed by a signal: says so" "$T_ERR" \
	"the replayer process was killed by signal 9"
t_is "a child killed by a signal: no numbers" "$T_OUT" ""

# Out of memory: the replayer under a 200 MB address-space limit, a trace
# asking 1 GiB.
cat >"$T/limited.sh" <<EOF
#!/bin/sh
ulimit -v 200000
exec "$REAL" "\$@"
EOF
chmod +x "$T/limited.sh"
printf 'a 1 1073741824\na 2 64\nf 2\nf 1\n' >"$T/huge.trace"
MEMSIM_REPLAY_REAL=$T/limited.sh t_run replay -p real:glibc "$T/huge.trace"
t_is "a child out of memory: exit 71" "$T_STATUS" 71
t_like "a child out of memory: names the call" "$T_ERR" \
	"replay-real: malloc of 1073741824 bytes failed (call 1, trace event 1): out of memory"
t_like "a child out of memory: says so" "$T_ERR" "real:glibc: the replayer process ran out of memory"
t_is "a child out of memory: no numbers" "$T_OUT" ""

MEMSIM_REPLAY_REAL=$T/nowhere/replay-real t_run replay -p real:glibc "$T/chains.trace"
t_is "no replayer: exit 71" "$T_STATUS" 71
t_like "no replayer: says where it looked" "$T_ERR" "cannot start replay-real"
t_done
