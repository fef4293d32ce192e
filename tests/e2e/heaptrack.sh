#!/bin/bash
# memsim convert --from heaptrack on recordings made here, now, by Debian's
# heaptrack 1.4 of three real programs: a C program with a known pattern
# (tests/data/heaptrack-prog.c), python3 with PYTHONMALLOC=malloc, and
# sort(1). Expected figures come from heaptrack_print on the same file:
#  - allocations: its "calls to allocation functions: N" line;
#  - peak live bytes: the sum of its flame-graph stacks with cost "peak"
#    (heaptrack_print.cpp writes every trace's bytes at the peak, and
#    accumulatedtracedata.cpp sets them all at the one peak event);
#  - live bytes at the end: the sum with cost "leaked", with heaptrack's
#    leak suppressions off (they hide leaks from its report only).
# Its rounded summary ("peak heap memory consumption: 14.39M") is checked
# too, by formatting memsim's figure as heaptrack_print's formatBytes does.
. "$ROOT/tests/lib.sh"

if ! command -v heaptrack >/dev/null || ! command -v heaptrack_print >/dev/null; then
	t_skip "heaptrack recordings" "heaptrack is not installed (tools/setup.sh installs it)"
	t_done
	exit 0
fi
NOSUP="--disable-builtin-suppressions --disable-embedded-suppressions"

# record NAME CMD...: heaptrack's file for CMD in $T/NAME.zst (or .gz when
# zstd(1) is missing: heaptrack's script then uses gzip).
record() {
	name=$1; shift
	heaptrack -o "$T/$name" "$@" >"$T/$name.log" 2>&1
	REC=$(ls "$T/$name".zst "$T/$name".gz 2>/dev/null | head -1)
}

# format_bytes N: heaptrack_print.cpp's formatBytes (1000-based units,
# two decimals but none for bytes, the unit's first letter).
format_bytes() {
	python3 -c '
import sys
b = float(sys.argv[1]); units = "BKMGT"; i = 0
while i < len(units) - 1 and abs(b) > 1000.0:
    b /= 1000.0; i += 1
print("%d%s" % (b, units[0]) if i == 0 else "%.2f%s" % (b, units[i]))' "$1"
}

# check NAME FILE: memsim's converted figures against heaptrack_print's.
check() {
	name=$1 file=$2
	heaptrack_print $NOSUP -f "$file" -F "$T/$name.peak" --flamegraph-cost-type peak >"$T/$name.print"
	heaptrack_print $NOSUP -f "$file" -F "$T/$name.leak" --flamegraph-cost-type leaked >/dev/null
	h_allocs=$(sed -n 's/^calls to allocation functions: \([0-9]*\) .*/\1/p' "$T/$name.print")
	h_peak=$(awk '{ s += $NF } END { print s + 0 }' "$T/$name.peak")
	h_leak=$(awk '{ s += $NF } END { print s + 0 }' "$T/$name.leak")
	h_peak_text=$(sed -n 's/^peak heap memory consumption: //p' "$T/$name.print")
	h_leak_text=$(sed -n 's/^total memory leaked: //p' "$T/$name.print")

	t_run convert -q --from heaptrack "$file" "$T/$name.trace"
	t_is "$name: convert exits 0" "$T_STATUS" 0
	t_run info --format json "$T/$name.trace"
	m_allocs=$(jqv .events.alloc) m_peak=$(jqv .peak_live_bytes) m_leak=$(jqv .final_live_bytes)
	t_is "$name: allocations = heaptrack_print's calls ($h_allocs)" "$m_allocs" "$h_allocs"
	t_is "$name: peak live bytes = heaptrack_print's peak" "$m_peak" "$h_peak"
	t_is "$name: live at the end = heaptrack_print's leaked" "$m_leak" "$h_leak"
	t_is "$name: peak in heaptrack_print's units" "$(format_bytes "$m_peak")" "$h_peak_text"
	t_is "$name: leaked in heaptrack_print's units" "$(format_bytes "$m_leak")" "$h_leak_text"
	t_is "$name: metadata" "$(jqv .metadata.source) $(jqv .metadata.level)" "heaptrack allocator"
}

# 1. The C program. By hand from heaptrack-prog.c: fill(100, 40) is one
# calloc and 100 mallocs, fill(1000, 24) one and 1000, grow() 13 reallocs
# (one of NULL): 1115 calls of its own. What stays: kept's 800-byte array
# and its 50 odd entries, 40 + i % 7 bytes for i = 1, 3, ..., 99.
cc -O2 -g -o "$T/prog" "$ROOT/tests/data/heaptrack-prog.c"
record prog "$T/prog"
t_ok "prog: recorded" test -s "$REC"
check prog "$REC"
kept=$(python3 -c 'print(800 + sum(40 + i % 7 for i in range(1, 100, 2)))')
t_run info --format json "$T/prog.trace"
t_ok "prog: at least its own 1115 calls" test "$(jqv .events.alloc)" -ge 1115
t_ok "prog: at least kept's $kept bytes live at the end" test "$(jqv .final_live_bytes)" -ge "$kept"

# heaptrack's stacks are the trace's sites (k nodes, ^SITE). By hand from
# heaptrack-prog.c: main's line 50, fill(1000, 24), mallocs 24 + i % 7
# bytes for i < 1000 through make_label's line 14 (inlined into fill's
# line 26), all live at once before the frees; main's line 49, fill(100,
# 40), 40 + i % 7 bytes for i < 100; grow's line 36 reallocs 32, 64, ..
# 65536 bytes, one block at a time (its line 32 is realloc(NULL, 16)); the
# import writes each realloc as `f` and `a`, so these are 12 objects.
t_is "prog: a version-2 trace" "$(head -c 15 "$T/prog.trace")" "#memsim-trace 2"
t_run info --format json --sites 0 "$T/prog.trace"
python3 - "$T_OUT" >"$T/sites.txt" <<'PY'
import json, sys
sites = json.loads(sys.argv[1])["sites"]
def find(*frames):
    for s in sites:
        p = [f.split("@", 1)[0] + ":" + f.rsplit(":", 1)[-1] for f in s["path"][:len(frames)]]
        if p == list(frames):
            return "%d %d %d" % (s["objects"], s["bytes"], s["peak_live_bytes"])
    return "missing"
print(find("make_label:14", "fill:26", "main:50"))
print(find("make_label:14", "fill:26", "main:49"))
print(find("grow:36", "main:51"))
PY
temp=$(python3 -c 'print(sum(24 + i % 7 for i in range(1000)))')
kept_all=$(python3 -c 'print(sum(40 + i % 7 for i in range(100)))')
t_is "prog: site make_label<-fill<-main:50" "$(sed -n 1p "$T/sites.txt")" "1000 $temp $temp"
t_is "prog: site make_label<-fill<-main:49" "$(sed -n 2p "$T/sites.txt")" "100 $kept_all $kept_all"
t_is "prog: site grow:36 (12 reallocs)" "$(sed -n 3p "$T/sites.txt")" \
	"12 $(python3 -c 'print(sum(2 ** k for k in range(5, 17)))') 65536"

# The same data gzip-compressed and plain: the same trace, byte for byte;
# to binary: the same figures.
zstd -dcq "$REC" >"$T/prog.plain" 2>/dev/null || gzip -dc "$REC" >"$T/prog.plain"
gzip -c "$T/prog.plain" >"$T/prog.gz.in"
t_run convert -q --from heaptrack "$T/prog.plain" "$T/plain.trace"
t_ok "plain input: same trace" cmp -s <(tail -n +2 "$T/plain.trace") <(tail -n +2 "$T/prog.trace")
t_run convert -q --from heaptrack "$T/prog.gz.in" "$T/gz.trace"
t_ok "gzip input: same trace" cmp -s <(tail -n +2 "$T/gz.trace") <(tail -n +2 "$T/prog.trace")
t_run convert -q --from heaptrack "$REC" "$T/prog.msb"
t_run info --format json "$T/prog.msb"
t_is "binary output: same peak" "$(jqv .peak_live_bytes)" "$m_peak"
t_run convert -q --from heaptrack - "$T/stdin.trace" <"$REC"
t_ok "standard input: same trace" cmp -s <(tail -n +2 "$T/stdin.trace") <(tail -n +2 "$T/prog.trace")

# Every policy replays it.
t_run policies
for p in $(printf '%s\n' "$T_OUT" | awk '$1 != "" { print $1 }'); do
	t_run replay -q --format json -p "$p" "$T/prog.trace"
	t_is "replay under $p: exit 0, heaptrack's peak" "$T_STATUS $(jqv .traces[0].policies[0].peak_live_bytes 2>/dev/null || echo '?')" "0 $m_peak"
done

# 2. python3 (Debian's, not a pyenv shim, which heaptrack would follow
# only as far as the shell) with the system allocator.
PYTHONMALLOC=malloc record py /usr/bin/python3 -c '
import json
d = [{"k": i, "v": str(i) * 3} for i in range(3000)]
s = json.dumps(d); x = json.loads(s); del d'
check py "$REC"

# 3. sort(1) of 20000 generated lines.
seq 20000 | awk '{ print ($1 * 7919) % 20011 }' >"$T/lines"
record sort sort -n "$T/lines" -o "$T/sorted"
check sort "$REC"

# Bad input: clear errors, exit 65, nothing left behind.
size=$(stat -c %s "$T/prog.zst" 2>/dev/null || echo 0)
if [ "$size" -gt 0 ]; then
	head -c $((size / 2)) "$T/prog.zst" >"$T/cut.zst"
	mkdir -p "$T/out"
	t_run convert --from heaptrack "$T/cut.zst" "$T/out/cut.trace"
	t_is "cut zstd file: exit 65" "$T_STATUS" 65
	t_is "cut zstd file: message" "$T_ERR" "memsim: $T/cut.zst: truncated zstd stream"
	t_is "cut zstd file: nothing left" "$(ls "$T/out")" ""
fi
mkdir -p "$T/out"
head -n 200 "$T/prog.plain" >"$T/cut.plain"
t_run convert --from heaptrack "$T/cut.plain" "$T/out/cut.trace"
t_is "file cut at a line end: exit 65" "$T_STATUS" 65
t_is "file cut at a line end: message" "$T_ERR" "memsim: $T/cut.plain: truncated heaptrack data (no '# strings: N' and '# ips: N' lines, which heaptrack_interpret writes last)"
t_is "file cut at a line end: nothing left" "$(ls "$T/out")" ""
sed '1s/^v \([0-9a-f]*\) 3$/v \1 4/' "$T/prog.plain" >"$T/v4"
t_run convert --from heaptrack "$T/v4" "$T/out/v4.trace"
t_is "file format 4: exit 65" "$T_STATUS" 65
t_is "file format 4: message" "$T_ERR" "memsim: $T/v4:1: unsupported heaptrack file format version 4 (heaptrack 1.4.0); memsim reads versions 1 to 3: \"v 10400 4\""
t_run convert --from heaptrack "$ROOT/tests/data/mtrace-glibc2.36.log" "$T/out/x.trace"
t_is "not heaptrack: exit 65" "$T_STATUS" 65
t_like "not heaptrack: message" "$T_ERR" "not a heaptrack data file"
t_run convert --from heaptrack "$T/missing.zst" "$T/out/x.trace"
t_is "missing input: exit 66" "$T_STATUS" 66
t_run convert --from heaptrack "$T/prog.plain" "$T/nodir/x.trace"
t_is "unwritable output: exit 74" "$T_STATUS" 74
t_is "still nothing left" "$(ls "$T/out")" ""
t_done
