#!/bin/bash
# tools/bench-recorders.sh - what recording costs: pyrec, memrec and
# heaptrack on the same Python programs (docs/recording.md, "Recording
# cost").
#
#   tools/bench-recorders.sh [--python PREFIX] [--runs N] [PROGRAM.py...]
#
# For each program (default: tools/bench-programs/*.py but run.py) and
# each way of running it, the run of N (default 3) with the least CPU
# time (user + system of every process, GNU time) gives:
#   cpu_s       that CPU time
#   slowdown    against plain (pyrec) or malloc (memrec, heaptrack: they
#               see every object through malloc, so that is their base)
#   rss_MB      the recorded process's own peak RSS (its VmHWM, written
#               by tools/bench-programs/run.py at the program's end)
#   added_MB    rss_MB minus the base's
#   largest_MB  the largest process of the run (GNU time's maximum RSS):
#               heaptrack's helper heaptrack_interpret can be larger than
#               the program
#   out_MB      the recording's size on disk
#   B/live      added bytes per live block at the peak (pyrec's stats
#               live_peak; `memsim info`'s peak live objects of memrec's
#               trace for memrec and heaptrack, which record the same
#               malloc calls)
# Runs:
#   plain       python -S run.py PROGRAM (pymalloc)
#   malloc      PYTHONMALLOC=malloc python -S run.py PROGRAM
#   pyrec       tools/pyrec (binary trace, object level on 3.13)
#   memrec      PYTHONMALLOC=malloc tools/memrec -o T.msb (recorded as
#               text, converted to binary when the program ends: the
#               conversion is part of the cost)
#   heaptrack   PYTHONMALLOC=malloc heaptrack -o T python -S run.py PROGRAM
# CPU times are comparable across rows; wall times on a shared machine are
# not, so none are printed.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
py=${PYENV_ROOT:-$HOME/.pyenv}/versions/3.13.0
runs=3
progs=()
while [ $# -gt 0 ]; do
	case $1 in
	--python) py=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	-h|--help) sed -n '2,35s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) progs+=("$1"); shift ;;
	esac
done
if [ ${#progs[@]} -eq 0 ]; then
	for p in "$root"/tools/bench-programs/*.py; do
		[ "$(basename "$p")" = run.py ] || progs+=("$p")
	done
fi
bin=$py/bin/python3
run=$root/tools/bench-programs/run.py
[ -x "$bin" ] || { echo "bench-recorders: no $bin" >&2; exit 66; }
command -v heaptrack >/dev/null || { echo "bench-recorders: no heaptrack" >&2; exit 69; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-recorders.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
memsim=$root/bin/memsim

# best CMD...: runs CMD $runs times (its last argument is where run.py
# writes VmHWM); prints "CPU_S OWN_KB LARGEST_KB" of the run with the
# least CPU. The outputs of that run are kept in $tmp/keep.
best() {
	local b="" r
	for _ in $(seq "$runs"); do
		rm -rf "$tmp/out"* "$tmp/hwm"
		/usr/bin/time -f "%U %S %M" -o "$tmp/time" "$@" >/dev/null 2>"$tmp/err" ||
			{ echo "bench-recorders: failed: $*" >&2; tail -3 "$tmp/err" >&2; return 1; }
		r=$(awk -v h="$(cat "$tmp/hwm")" '{printf "%.2f %d %d", $1 + $2, h, $3}' "$tmp/time")
		if [ -z "$b" ] || awk -v a="${r%% *}" -v b="${b%% *}" 'BEGIN{exit !(a < b)}'; then
			b=$r
			rm -rf "$tmp/keep" && mkdir "$tmp/keep" && { cp -r "$tmp"/out* "$tmp/keep/" 2>/dev/null || true; }
		fi
	done
	echo "$b"
}
size_of() { du -cb "$tmp"/keep/out* 2>/dev/null | tail -1 | cut -f1; }

printf '%-14s %-10s %7s %9s %7s %9s %11s %7s %7s\n' program run cpu_s slowdown rss_MB \
	added_MB largest_MB out_MB B/live
for p in "${progs[@]}"; do
	name=$(basename "$p" .py)
	read -r c0 m0 l0 <<<"$(best "$bin" -S "$run" "$p" "$tmp/hwm")" || continue
	read -r cm mm lm <<<"$(best env PYTHONMALLOC=malloc "$bin" -S "$run" "$p" "$tmp/hwm")"
	read -r cp mp lp <<<"$(best "$root/tools/pyrec" --python "$py" -o "$tmp/out.msb" \
		--stats "$tmp/out.json" "$run" "$p" "$tmp/hwm")"
	sp=$(size_of)
	np=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["recorder"]["live_peak"])' \
		"$tmp/keep/out.json")
	read -r cr mr lr <<<"$(best env PYTHONMALLOC=malloc "$root/tools/memrec" -o "$tmp/out.msb" \
		-- "$bin" -S "$run" "$p" "$tmp/hwm")"
	sr=$(size_of)
	nr=$("$memsim" info --format json "$tmp/keep/out.msb" | python3 -c \
		'import json,sys; print(json.load(sys.stdin)["peak_live_objects"])')
	read -r ch mh lh <<<"$(best env PYTHONMALLOC=malloc heaptrack -o "$tmp/out" "$bin" -S "$run" \
		"$p" "$tmp/hwm")"
	sh=$(size_of)
	# row RUN CPU OWN LARGEST BASE_CPU BASE_OWN OUT_BYTES LIVE
	row() {
		awk -v n="$name" -v r="$1" -v c="$2" -v m="$3" -v l="$4" -v c0="$5" -v m0="$6" \
			-v o="$7" -v k="$8" 'BEGIN {
			printf "%-14s %-10s %7.2f %8.2fx %7.1f %9.1f %11.1f %7s %7s\n", n, r, c,
			c / c0, m / 1024, (m - m0) / 1024, l / 1024,
			o == "" ? "-" : sprintf("%.1f", o / 1048576),
			k == "" ? "-" : sprintf("%.1f", (m - m0) * 1024 / k) }'
	}
	row plain "$c0" "$m0" "$l0" "$c0" "$m0" "" ""
	row malloc "$cm" "$mm" "$lm" "$c0" "$m0" "" ""
	row pyrec "$cp" "$mp" "$lp" "$c0" "$m0" "$sp" "$np"
	row memrec "$cr" "$mr" "$lr" "$cm" "$mm" "$sr" "$nr"
	row heaptrack "$ch" "$mh" "$lh" "$cm" "$mm" "$sh" "$nr"
done
