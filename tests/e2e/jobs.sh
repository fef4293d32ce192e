#!/bin/bash
# replay -j/--jobs: the results do not depend on the number of simulation
# threads, and an error is the same whichever thread meets it: the
# earliest failing event, and on one event the first policy failing it
# (what feeding every event to every policy in turn reports), located
# at its line even when the reader has read thousands of lines further.
. "$ROOT/tests/lib.sh"

P3="-p cpython-3.11 -p cpython-2.7 -p malloc"
TR="$ROOT/traces/list-churn.trace.gz"
for fmt in text json; do
	"$MEMSIM" replay -q -j 0 -f "$fmt" $P3 "$TR" >"$T/j0.$fmt"
	for j in 1 2 3 8; do
		"$MEMSIM" replay -q -j "$j" -f "$fmt" $P3 "$TR" >"$T/j$j.$fmt"
		t_ok "list-churn, $fmt: -j $j reports what -j 0 does" cmp -s "$T/j0.$fmt" "$T/j$j.$fmt"
	done
done
"$MEMSIM" replay -q -f json $P3 "$TR" >"$T/auto.json"
t_ok "list-churn: the default reports what -j 0 does" cmp -s "$T/j0.json" "$T/auto.json"
"$MEMSIM" replay -q -f json $P3 - <"$TR" >"$T/stdin.json"
t_is "list-churn from stdin: same report but the name" \
	"$(grep -v '"trace":' "$T/stdin.json")" "$(grep -v '"trace":' "$T/j0.json")"

# Time series and pause data (--out) are sampled per thread: the same.
CY="$ROOT/traces/cycles.trace.gz"
for j in 0 2; do
	MEMSIM_GNUPLOT=/nonexistent "$MEMSIM" replay -q -j "$j" $P3 --out "$T/o$j" "$CY" \
		>/dev/null 2>&1
done
t_ok "cycles --out: -j 2 writes the data -j 0 does" diff -r "$T/o0/data" "$T/o2/data"
t_ok "cycles --out: and the same report.json" cmp -s "$T/o0/report.json" "$T/o2/report.json"

# A garbage cycle (lines 1-6), then 5000 live lists (lines 7-5006): a
# collector with threshold0=10 collects the cycle at the 11th list, so
# line 5007, which touches object 1, fails under that policy only; line
# 5008 fails under every policy.
{
	printf 'a 1 56 list\na 2 56 list\n+ 1 2\n+ 2 1\n- 0 1\n- 0 2\n'
	for i in $(seq 100 5099); do echo "a $i 56 list"; done
} >"$T/head.trace"
{ cat "$T/head.trace"; printf -- '- 1 2\nf 424242\n'; } >"$T/cyc.trace"
{ cat "$T/head.trace"; printf 'f 424242\n'; } >"$T/all.trace"
NOGC=cpython-3.11:gc.policy=none
GC10=cpython-3.11:gc.threshold0=10
for j in 0 1 2; do
	t_run replay -q -j "$j" -p "$NOGC" -p "$GC10" "$T/cyc.trace"
	t_is "-j $j: earliest failing event, policy named: exit" "$T_STATUS" 65
	t_is "-j $j: earliest failing event, policy named: message" "$T_ERR" \
		"memsim: $T/cyc.trace:5007: object 1 is not live (under policy $GC10): \"- 1 2\""
	t_run replay -q -j "$j" -p "$NOGC" -p "$GC10" "$T/all.trace"
	t_is "-j $j: one event failing everywhere: the first policy's message" "$T_ERR" \
		"memsim: $T/all.trace:5007: object 424242 is not live: \"f 424242\""
	t_is "-j $j: nothing on stdout" "$T_OUT" ""
done
"$MEMSIM" replay -q -p "$NOGC" -p "$GC10" - <"$T/cyc.trace" >"$T/out" 2>"$T/err"
t_is "stdin: the same error, located" "$(cat "$T/err")" \
	"memsim: <stdin>:5007: object 1 is not live (under policy $GC10): \"- 1 2\""

t_run replay -j x -p cpython-3.11 "$TR"
t_is "-j x: usage error" "$T_STATUS" 64
t_run replay -j 5000 -p cpython-3.11 "$TR"
t_is "-j 5000: usage error" "$T_STATUS" 64
t_is "-j 5000: message" "$T_ERR" "memsim: replay: --jobs 5000 is more than 1024 threads
memsim: see 'memsim replay --help'"
t_done
