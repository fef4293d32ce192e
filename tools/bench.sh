#!/bin/sh
# tools/bench.sh - memsim throughput against the cost of reading the file.
#
# Generates (once, deterministically) the benchmark traces with
# tools/gen-bench, then for each times RUNS runs of: `cat FILE > /dev/null`,
# `memsim info -q FILE`, memsim replay with 1 and with 4 policies, and for
# the plain allocation trace tools/replay-real (the real glibc malloc/free),
# the malloc model and the real:glibc/jemalloc/tcmalloc/mimalloc policies
# (CPU times include their child processes).
# Prints the median wall time, events/s and MB/s of each, memsim's peak RSS
# (max of the runs, GNU time's %M) and ratios within the run.
# docs/performance.md explains the traces and records the results.
# Each trace is also converted once to the binary form (memsim convert)
# for the decode-only pass (tools/bench-decode, a loop of trace_next) and
# the replay from binary.
# Last, the sweep row (docs/sweeps.md): 24 variants over one trace, as one
# replay (the best one-process grouping: one reading thread, one
# simulation thread per CPU) and as a `memsim sweep` plan run by GNU
# parallel (one single-threaded job per CPU), with the ratio of the two
# (target: at most x1.20).
# Environment: MEMSIM, GEN (gen-bench binary), REAL (replay-real binary),
# DECODE (bench-decode binary),
# BENCH_DIR, RUNS, EVENTS, SEED_OBJECTS, REFS_EVENTS, TRACES (names below),
# SWEEP_EVENTS (the sweep row's trace; 0 skips the row), SWEEP (its -p);
# TRACES="" runs the sweep row alone.
set -eu
case "${1:-}" in
-h | --help)
	sed -n '2,23s/^# \{0,1\}//p' "$0"
	exit 0
	;;
esac
: "${MEMSIM:=bin/memsim}" "${GEN:=build/release/tools/gen-bench}"
: "${REAL:=build/release/tools/replay-real}"
: "${DECODE:=$(dirname "$GEN")/bench-decode}"
: "${BENCH_DIR:=build/bench}" "${RUNS:=3}" "${EVENTS:=20000000}"
: "${SEED_OBJECTS:=10485760}" "${REFS_EVENTS:=10000000}"
: "${TRACES=churn-addr seed-rc seed-fan refs alloc-addr}"
: "${SWEEP_EVENTS:=2000000}"
# (braces cannot go inside ${SWEEP:=...}: the first '}' would end it)
[ -n "${SWEEP:-}" ] ||
	SWEEP='cpython-3.11:allocator.arena_size={256K,1M,4M}:gc.threshold0={700,2000,10000,100000}:freelists.mode={per-type,shared}'
: "${POLICY1:=cpython-3.11}"
: "${POLICIES4:=-p cpython-3.11 -p cpython-2.7 -p cpython-3.13 -p malloc}"
TIME=/usr/bin/time
mkdir -p "$BENCH_DIR"

# gen NAME ARGS...: $BENCH_DIR/NAME.trace from gen-bench ARGS, once.
gen() {
	name=$1
	shift
	trace="$BENCH_DIR/$name.trace"
	if [ ! -s "$trace" ] || [ "$GEN" -nt "$trace" ]; then
		echo "bench: generating $trace" >&2
		"$GEN" "$@" >"$trace.tmp" && mv "$trace.tmp" "$trace"
	fi
	events=$(grep -vc '^#' "$trace")
	bytes=$(wc -c <"$trace")
}

# measure CMD...: runs it RUNS times; sets secs (median wall seconds), cpu
# (median user+system seconds: steadier on a shared machine) and rss
# (largest peak RSS, KiB).
measure() {
	i=0
	: >"$BENCH_DIR/times"
	while [ "$i" -lt "$RUNS" ]; do
		$TIME -f "%e %M %U %S" -o "$BENCH_DIR/one" "$@" >/dev/null
		tail -n 1 "$BENCH_DIR/one" >>"$BENCH_DIR/times"
		i=$((i + 1))
	done
	secs=$(sort -n "$BENCH_DIR/times" | awk '{ t[NR] = $1 } END { print t[int((NR + 1) / 2)] }')
	rss=$(sort -k2 -n "$BENCH_DIR/times" | tail -n 1 | awk '{ print $2 }')
	cpu=$(awk '{ print $3 + $4 }' "$BENCH_DIR/times" | sort -n |
		awk '{ t[NR] = $1 } END { print t[int((NR + 1) / 2)] }')
}

row() { # name [ratio-base-seconds]
	awk -v n="$1" -v s="$secs" -v c="$cpu" -v ev="$events" -v b="$bytes" -v r="$rss" \
	    -v base="${2:-0}" 'BEGIN {
		if (s <= 0) s = 0.001
		if (c <= 0) c = 0.001
		printf "%-30s %7.2f s %7.2f Mev/s %7.1f MB/s | cpu %7.2f s %7.2f Mev/s | %6.0f MiB RSS",
		       n, s, ev / s / 1e6, b / s / 1e6, c, ev / c / 1e6, r / 1024
		if (base > 0) printf "  x%.2f cpu", c / base
		printf "\n" }'
}

# The text-trace rows of one trace.
text_rows() {
	measure cat "$trace"
	row "cat > /dev/null"
	measure "$MEMSIM" info -q "$trace"
	row "memsim info"
	measure "$MEMSIM" replay -q -p "$POLICY1" "$trace"
	one=$cpu one_wall=$secs one_rss=$rss
	row "replay 1 policy ($POLICY1)"
	measure "$MEMSIM" replay -q -j 0 -p "$POLICY1" "$trace"
	row "  the same, one thread (-j 0)"
	# shellcheck disable=SC2086
	measure "$MEMSIM" replay -q $POLICIES4 "$trace"
	row "replay 4 policies" "$one"
	awk -v a="$secs" -v b="$one_wall" 'BEGIN { printf "  4 policies / 1 policy, wall: x%.2f\n", a / b }'
	# shellcheck disable=SC2086
	measure "$MEMSIM" replay -q -j 0 $POLICIES4 "$trace"
	row "  the same, one thread (-j 0)" "$one"
	"$MEMSIM" info "$trace" | awk -v r="$one_rss" -v r4="$rss" '
		/^peak live objects/ { n = $4 }
		END { if (n > 0) printf "  memsim RSS per peak live object: %.1f bytes (1 policy), %.1f bytes per policy (4, one thread); target <= 50\n", r * 1024 / n, r4 * 1024 / n / 4 }'
}

# The same trace in the binary form: decode-only passes over both forms
# (the parsing ceiling) and the replay from binary.
binary_rows() {
	bin="$BENCH_DIR/$(basename "$trace" .trace).msb"
	if [ ! -s "$bin" ]; then
		echo "bench: converting to $bin" >&2
		"$MEMSIM" convert -q "$trace" "$bin"
	fi
	echo "  binary: $(wc -c <"$bin") bytes, $(awk -v b="$(wc -c <"$bin")" -v e="$events" 'BEGIN { printf "%.2f", b / e }') bytes/event"
	if [ -x "$DECODE" ]; then
		measure "$DECODE" "$trace"
		row "decode only (text)"
		measure "$DECODE" "$bin"
		row "decode only (binary)"
	fi
	measure "$MEMSIM" replay -q -p "$POLICY1" "$bin"
	row "replay 1 policy (binary)"
}

# The allocation trace against the real malloc/free: time and peak RSS,
# and the malloc preset's modelled peak RSS for comparison.
real_rows() {
	measure "$REAL" "$trace"
	row "replay-real (glibc malloc)"
	measure "$MEMSIM" replay -q -p malloc "$trace"
	model_cpu=$cpu model_wall=$secs
	row "replay 1 policy (malloc)"
	# The real: policy kind: the same calls, streamed to a child process
	# on the real glibc (the CPU time includes the child, which memsim
	# reaps). Wall time is noisy on a shared machine; CPU time less so.
	measure "$MEMSIM" replay -q -p real:glibc "$trace"
	row "replay 1 policy (real:glibc)" "$model_cpu"
	awk -v a="$secs" -v b="$model_wall" -v c="$cpu" -v d="$model_cpu" 'BEGIN {
		printf "  real:glibc / malloc model, wall: x%.2f, cpu: x%.2f (the model must stay faster)\n", a / b, c / d }'
	for lib in jemalloc tcmalloc mimalloc; do
		"$MEMSIM" policies --show "real:$lib" >/dev/null 2>&1 || continue
		measure "$MEMSIM" replay -q -p "real:$lib" "$trace"
		row "replay 1 policy (real:$lib)" "$model_cpu"
	done
	"$REAL" "$trace" | awk '/^end / { for (i = 2; i < NF; i += 2) if ($i == "process_peak_rss") printf "  real peak RSS %.1f MiB\n", $(i + 1) / 1048576 }'
	"$MEMSIM" replay -q -f csv -p malloc "$trace" |
		awk -F, 'NR == 2 { printf "  malloc preset modelled peak RSS %.1f MiB\n", $3 / 1048576 }'
}

bench_trace() { # name
	case $1 in
	churn-addr) gen "$1" -n "$EVENTS" -a ;;
	churn) gen "$1" -n "$EVENTS" ;;
	seed-rc) gen "$1" -m seed-rc -n "$SEED_OBJECTS" ;;
	seed-fan) gen "$1" -m seed-fan -n "$SEED_OBJECTS" ;;
	refs) gen "$1" -m refs -n "$REFS_EVENTS" ;;
	alloc-addr) gen "$1" -m alloc -a -n "$EVENTS" ;;
	*) echo "bench: unknown trace $1" >&2; exit 64 ;;
	esac
	echo "== $1: $trace ($events events, $bytes bytes); median of $RUNS runs"
	text_rows
	binary_rows
	case $1 in alloc-*) real_rows ;; esac
}

# The sweep row: one replay of 24 variants against the plan's jobs under
# GNU parallel, same trace, same policies.
sweep_rows() {
	gen sweep-churn -n "$SWEEP_EVENTS" -l $((SWEEP_EVENTS / 10))
	echo "== sweep: 24 variants of $SWEEP over $trace ($events events); median of $RUNS runs"
	measure "$MEMSIM" replay -q -p "$SWEEP" "$trace"
	best=$secs best_cpu=$cpu
	row "one replay, 24 policies"
	if ! command -v parallel >/dev/null 2>&1; then
		echo "  GNU parallel is not installed (sh tools/setup.sh): no parallel row"
		return
	fi
	plan="$BENCH_DIR/sweep-plan"
	rm -rf "$plan"
	"$MEMSIM" sweep --plan "$plan" -q -p "$SWEEP" "$trace"
	measure sh -c 'parallel --will-cite < "$1/jobs.txt"' sh "$plan"
	row "GNU parallel, $(wc -l <"$plan/jobs.txt") jobs"
	awk -v a="$secs" -v b="$best" -v c="$cpu" -v d="$best_cpu" 'BEGIN {
		printf "  GNU parallel / one replay, wall: x%.2f (target <= x1.20), cpu: x%.2f\n", a / b, c / d }'
}

for t in $TRACES; do
	bench_trace "$t"
done
# (an `if`: `[ ... ] && sweep_rows` as the last command made the script
# fail, exit 1, whenever SWEEP_EVENTS=0 skipped the row)
if [ "$SWEEP_EVENTS" -gt 0 ]; then
	sweep_rows
fi
