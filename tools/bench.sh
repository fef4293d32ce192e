#!/bin/sh
# tools/bench.sh - memsim throughput against the cost of reading the file.
#
# Generates (once) a ~20-million-event trace with tools/gen-bench, then
# times, RUNS times each, `cat FILE > /dev/null` and `memsim info -q FILE`,
# and prints the median wall time, events/s and MB/s of each. Then the
# same trace in the binary form (docs/binary-format.md, made once with
# memsim convert): decode-only (tools/bench-decode, a loop of trace_next)
# and `memsim replay -p cpython-3.11`, text and binary side by side.
# Environment: MEMSIM, GEN (gen-bench binary), DECODE (bench-decode
# binary), BENCH_DIR, RUNS, EVENTS.
set -eu
: "${MEMSIM:=bin/memsim}" "${GEN:=build/release/tools/gen-bench}"
: "${DECODE:=$(dirname "$GEN")/bench-decode}"
: "${BENCH_DIR:=build/bench}" "${RUNS:=5}" "${EVENTS:=20000000}"
mkdir -p "$BENCH_DIR"
trace="$BENCH_DIR/bench-$EVENTS.trace"
if [ ! -s "$trace" ]; then
	echo "bench: generating $trace" >&2
	"$GEN" -n "$EVENTS" >"$trace.tmp" && mv "$trace.tmp" "$trace"
fi
events=$(grep -vc '^#' "$trace")
bytes=$(wc -c <"$trace")

# median_seconds CMD...: median wall time of RUNS runs, in seconds.
median_seconds() {
	i=0
	: >"$BENCH_DIR/times"
	while [ "$i" -lt "$RUNS" ]; do
		s=$(date +%s.%N)
		"$@" >/dev/null
		e=$(date +%s.%N)
		echo "$e $s" | awk '{ printf "%.6f\n", $1 - $2 }' >>"$BENCH_DIR/times"
		i=$((i + 1))
	done
	sort -n "$BENCH_DIR/times" | awk '{ t[NR] = $1 } END { print t[int((NR + 1) / 2)] }'
}

row() { # name seconds [bytes]
	awk -v n="$1" -v s="$2" -v ev="$events" -v b="${3:-$bytes}" 'BEGIN {
		printf "%-28s %9.3f s %12.1f Mev/s %10.1f MB/s\n", n, s, ev / s / 1e6, b / s / 1e6 }'
}

echo "trace: $trace ($events events, $bytes bytes); median of $RUNS runs"
row "cat > /dev/null" "$(median_seconds cat "$trace")"
row "memsim info" "$(median_seconds "$MEMSIM" info -q "$trace")"

bin="$BENCH_DIR/bench-$EVENTS.msb"
if [ ! -s "$bin" ]; then
	echo "bench: converting to $bin" >&2
	"$MEMSIM" convert -q "$trace" "$bin"
fi
bbytes=$(wc -c <"$bin")
echo "binary: $bin ($bbytes bytes, $(awk -v b="$bbytes" -v e="$events" 'BEGIN { printf "%.2f", b / e }') bytes/event)"
row "memsim info (binary)" "$(median_seconds "$MEMSIM" info -q "$bin")" "$bbytes"
if [ -x "$DECODE" ]; then
	row "decode only (text)" "$(median_seconds "$DECODE" "$trace")"
	row "decode only (binary)" "$(median_seconds "$DECODE" "$bin")" "$bbytes"
fi
row "replay cpython-3.11 (text)" "$(median_seconds "$MEMSIM" replay -q -p cpython-3.11 "$trace")"
row "replay cpython-3.11 (binary)" "$(median_seconds "$MEMSIM" replay -q -p cpython-3.11 "$bin")" "$bbytes"
