#!/bin/bash
# memsim replay's reports, all read from one results record: the text
# sections (hidden all-zero rows, --all, units, "at end", fragmentation
# n/a below the floor, 80 columns with six policies), baseline
# differences in text, JSON and CSV, the JSON schema of docs/reports.md,
# the CSV parsed back (allocator counters, per-generation and per-type
# columns), the registry in --help, duplicate policies, an empty trace,
# the --out directory (data, scripts, checked images, index.html with
# captions from the record, occupancy at peak and end, the pause timeline
# by generation) and determinism. Expected numbers are derived by hand in
# the comments. The output directory's failure modes (full disk, a used
# directory) are in outdir.sh, the page in a browser in html.sh.
. "$ROOT/tests/lib.sh"
cd "$ROOT" || exit 1    # traces named relative to the tree: paths stay short

# cell SECTION LABEL: the cells of the row LABEL (its text without the
# leading spaces) in SECTION of the last text report, joined by "|"
# (cells are split on runs of two or more spaces).
cell() {
	printf '%s\n' "$T_OUT" | python3 -c '
import re, sys
sec, label = sys.argv[1], sys.argv[2]
cur = None
for line in sys.stdin.read().split("\n"):
    if line and not line.startswith(" "):
        cur = re.split(r"\s{2,}", line.strip())[0]
        continue
    parts = re.split(r"\s{2,}", line.strip())
    if cur == sec and parts[0] == label:
        print("|".join(parts[1:])); break
' "$1" "$2"
}

# One 56-byte list. Under malloc the glibc model serves a 64-byte chunk
# (56 + 8 header, rounded to 16) from a brk heap grown by 64 + top_pad
# 131072 = 131136, rounded up to pages: 135168 bytes = 132 KiB. Under
# cpython-3.11 pymalloc maps one 1 MiB arena (1048576) for it.
# Difference to the baseline malloc: 1048576 - 135168 = 913408 bytes,
# 913408 / 135168 = 6.7576: +676% (three digits). RSS is one page under
# both (4 KiB), allocated 64 B, live 56 B: equal, so the difference rows
# show only the two footprint rows.
printf 'a 1 56 list\n' >"$T/one.trace"
t_run replay -q -p malloc -p cpython-3.11 --baseline malloc "$T/one.trace"
t_is "baseline: exit status" "$T_STATUS" 0
t_is "text: names head the columns" "$(printf '%s\n' "$T_OUT" | grep '^memory')" \
	"memory                           malloc  cpython-3.11"
t_is "text: peak footprint" "$(cell memory 'peak footprint')" "132 KiB|1.00 MiB"
t_is "text: final values say at end" "$(cell memory 'footprint at end')" "132 KiB|1.00 MiB"
t_is "baseline: footprint row" "$(cell 'vs baseline' 'peak footprint')" "base|+676%"
t_is "baseline: only rows that differ" \
	"$(printf '%s\n' "$T_OUT" | sed -n '/^vs baseline/,/^$/p' | grep -c '^  ')" 2
# jw2 = (135168 - 56) / 56: its live bytes (56) are under the 1 MiB floor.
t_is "text: fragmentation n/a below the floor" "$(cell fragmentation '#2 at peak live')" "n/a|n/a"
t_like "text: the floor's note" "$T_OUT" "n/a: the live bytes under the ratio are below 1 MiB"
t_like "text: hidden rows counted" "$T_OUT" "rows zero under every policy are hidden (--all shows them)."
t_is "text: allocator detail with units" "$(cell 'allocator detail' 'arena bytes')" "-|1.00 MiB"
t_run replay -q --all -p malloc -p cpython-3.11 "$T/one.trace"
t_is "text --all: a zero row shows" "$(cell collector 'pauses')" "0|0"
t_is "text --all: no hidden note" "$(printf '%s\n' "$T_OUT" | grep -c 'are hidden')" 0

t_run replay -q -p malloc -p cpython-3.11 --baseline malloc --format json "$T/one.trace"
t_is "json: baseline key" "$(jqv .baseline)" malloc
t_is "json: delta footprint" "$(jqv .traces[0].policies[1].vs_baseline.delta.peak_footprint_bytes)" 913408
t_is "json: percent of a zero baseline is null" \
	"$(jqv .traces[0].policies[1].vs_baseline.percent.gc.collections_total)" None
t_is "json: no vs_baseline in the baseline" \
	"$(python3 -c 'import json,sys; print("vs_baseline" in json.load(sys.stdin)["traces"][0]["policies"][0])' <"$T/.out")" False
t_is "json: allocator counter" "$(jqv .traces[0].policies[1].pymalloc.arena_bytes)" 1048576
t_is "json: its unit is in the definitions" \
	"$(python3 -c 'import json,sys; print(json.load(sys.stdin)["definitions"]["pymalloc.arena_bytes"]["unit"])' <"$T/.out")" bytes
# No object has a key twice (held_bytes_peak was written twice once).
t_is "json: no key twice in an object" "$(python3 -c '
import json, sys
dup = []
def hook(pairs):
    keys = [k for k, v in pairs]
    dup.extend(k for k in set(keys) if keys.count(k) > 1)
    return dict(pairs)
json.load(sys.stdin, object_pairs_hook=hook)
print(" ".join(dup))' <"$T/.out")" ""

t_run replay -q -p malloc -p cpython-3.11 --baseline nosuch "$T/one.trace"
t_is "baseline: unknown name is a usage error" "$T_STATUS" 64
t_like "baseline: unknown name message" "$T_ERR" "--baseline 'nosuch' is not one of the policies"

# The same policy twice: two identical columns and an ambiguous baseline.
t_run replay -q -p malloc -p malloc "$T/one.trace"
t_is "-p X -p X: a usage error" "$T_STATUS" 64
t_like "-p X -p X: says which" "$T_ERR" "memsim: policy 'malloc' is given twice"

# An empty trace: a report of zeros, with a warning in it and on stderr.
: >"$T/empty.trace"
t_run replay -q -p malloc "$T/empty.trace"
t_is "empty trace: exit 0" "$T_STATUS" 0
t_like "empty trace: warning in the report" "$T_OUT" "the trace has no events"
t_is "empty trace: warning on stderr" "$T_ERR" \
	"memsim: warning: $T/empty.trace: the trace has no events: every value is 0"
t_run replay -q -p malloc --format json "$T/empty.trace"
t_is "empty trace: warning in JSON" "$(jqv .traces[0].warnings[0])" \
	"the trace has no events: every value is 0"

# --help lists the formats from the registry.
t_run replay --help
for f in text json csv; do
	t_like "help: format $f" "$T_OUT" "                         $f "
done
t_like "help: --out lists the page" "$T_OUT" "index.html"
t_run replay -q -p malloc --format xml "$T/one.trace"
t_like "unknown format lists the registry" "$T_ERR" "unknown format 'xml' (use text, json or csv)"

# JSON schema (docs/reports.md): required keys and types at each level;
# generations are rows named by the collector.
t_run replay -q -p malloc -p cpython-2.7 --baseline malloc --format json \
	traces/cycle.trace traces/list-churn.trace.gz
cp "$T/.out" "$T/r.json"
t_ok "json: schema" python3 - "$T/r.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
num = (int, float)
def need(obj, key, typ, where):
    if key not in obj or not isinstance(obj[key], typ):
        sys.exit("%s: %s missing or not %s" % (where, key, typ))
assert doc["schema"] == "memsim-report-2"
need(doc, "traces", list, "top"); assert doc["baseline"] in (None, "malloc")
need(doc, "warnings", list, "top"); need(doc, "definitions", dict, "top")
metrics = ["peak_rss_bytes", "peak_rss_event", "final_rss_bytes", "peak_footprint_bytes",
           "peak_footprint_event", "final_footprint_bytes", "peak_allocated_bytes",
           "final_allocated_bytes", "peak_live_bytes", "peak_live_event",
           "final_live_bytes", "peak_live_objects", "final_live_objects"]
groups = {"fragmentation": ["jw1", "jw2", "jw3", "jw4", "mean_live_bytes",
                            "live_at_peak_footprint_bytes"],
          "freelists": ["held_bytes_peak", "held_bytes_final", "hits", "misses", "blocked_bytes"],
          "gc": ["collections_total", "collected_total", "gc_share", "run_ns"]}
for t in doc["traces"]:
    need(t, "trace", str, "trace"); need(t, "events", num, "trace")
    need(t, "policies", list, "trace"); need(t, "marks", list, "trace")
    need(t, "recorded_collections", list, "trace"); need(t, "warnings", list, "trace")
    if t["metadata"] is not None and not isinstance(t["metadata"], dict):
        sys.exit("metadata")
    for i, p in enumerate(t["policies"]):
        need(p, "name", str, "policy"); need(p, "summary", str, "policy")
        assert p["measured"] is False
        for k in metrics: need(p, k, num, p["name"])
        for g, keys in groups.items():
            need(p, g, dict, p["name"])
            for k in keys: need(p[g], k, num, p["name"] + "." + g)
        for k in ["count", "total_ns", "mean_ns", "p50_ns", "p95_ns", "p99_ns", "max_ns"]:
            need(p["gc"]["pauses"], k, num, "gc.pauses")
        for k in ["1ms", "10ms", "100ms", "1s"]: need(p["gc"]["mmu"], k, num, "gc.mmu")
        for row in p["gc"]["generations"]:
            need(row, "name", str, "generation")
            for k in ["collections", "collected", "count", "pauses", "pause_total_ns"]:
                need(row, k, num, "generation " + row["name"])
        assert sum(r["collections"] for r in p["gc"]["generations"]) == p["gc"]["collections_total"]
        for row in p["freelists"]["types"]:
            need(row, "type", str, "type"); need(row, "misses", num, row["type"])
        need(p, "pauses", dict, p["name"]); need(p, "occupancy", list, p["name"])
        assert len(p["pauses"]["rows"]) == p["gc"]["pauses"]["count"]
        if i == 0:
            assert "vs_baseline" not in p
        else:
            vs = p["vs_baseline"]; need(vs, "baseline", str, "vs")
            need(vs, "delta", dict, "vs"); need(vs, "percent", dict, "vs")
            assert "peak_rss_event" not in vs["delta"]
            d = vs["delta"]["peak_footprint_bytes"]
            assert d == p["peak_footprint_bytes"] - t["policies"][0]["peak_footprint_bytes"]
            need(vs["delta"]["gc"]["mmu"], "1s", num, "vs.delta.gc.mmu")
# cycle.trace under 2.7: its `c` is one collection of generation 2.
g = doc["traces"][0]["policies"][1]["gc"]["generations"]
assert [r["name"] for r in g] == ["0", "1", "2"], g
assert [r["collections"] for r in g] == [0, 0, 1], g
PY

# CSV parsed back: one row per (trace, policy) = 2 x 2, every row as wide
# as the header, the values those of the JSON, with the allocator
# counters, the generations and the types as columns.
t_run replay -q -p malloc -p cpython-2.7 --baseline malloc --format csv \
	traces/cycle.trace traces/list-churn.trace.gz
cp "$T/.out" "$T/r.csv"
t_ok "csv: parsed back, agrees with JSON" python3 - "$T/r.csv" "$T/r.json" <<'PY'
import csv, json, sys
rows = list(csv.reader(open(sys.argv[1])))
doc = json.load(open(sys.argv[2]))
head, body = rows[0], rows[1:]
assert len(body) == 4, len(body)
assert all(len(r) == len(head) for r in body)
assert head[:3] == ["trace", "policy", "measured"]
col = {k: i for i, k in enumerate(head)}
i = col["peak_footprint_bytes"]; d = col["vs_baseline.delta.peak_footprint_bytes"]
for r, (t, p) in zip(body, [(0, 0), (0, 1), (1, 0), (1, 1)]):
    pol = doc["traces"][t]["policies"][p]
    assert r[1] == pol["name"]
    assert float(r[i]) == pol["peak_footprint_bytes"]
    assert (r[d] == "") == (p == 0)
    # cJSON writes 15 significant digits when they read back within
    # DBL_EPSILON; CSV writes 17: compare to 1e-12 relative
    jw = float(r[col["fragmentation.jw1"]]); jj = pol["fragmentation"]["jw1"]
    assert abs(jw - jj) <= 1e-12 * abs(jj), (jw, jj)
    if p == 1:
        assert float(r[col["pymalloc.arena_bytes"]]) == pol["pymalloc"]["arena_bytes"]
        assert float(r[col["gc.generations.2.collections"]]) == \
            pol["gc"]["generations"][2]["collections"]
    else:
        assert r[col["pymalloc.arena_bytes"]] == ""     # malloc has no pymalloc
# list-churn under 2.7: 15920 list hits (docs/scenarios.md)
assert body[3][col["freelists.types.list.hits"]] == "15920"
PY

# Every line of the text table fits 80 columns, with six policies, and
# the sections a reader asked for fit one screen.
t_run replay -q -p cpython-2.4 -p cpython-2.7 -p cpython-3.11 -p cpython-3.13 \
	-p malloc -p cpython-2.7:freelists.mode=shared --baseline cpython-2.7 \
	traces/list-churn.trace.gz
t_is "text: 80 columns" "$(printf '%s\n' "$T_OUT" | awk 'length($0) > 79' | head -3)" ""
t_is "text: six policies in one block" "$(printf '%s\n' "$T_OUT" | grep -c '^memory ')" 1
t_is "text: the legend names them" "$(printf '%s\n' "$T_OUT" | sed -n 2p)" \
	"policies: [1] cpython-2.4  [2] cpython-2.7 (baseline)  [3] cpython-3.11"
# A long path is never cut, and does not make the table wider.
mkdir -p "$T/a-rather-long-directory-name-to-make-the-path-longer-than-a-line"
cp traces/cycle.trace "$T/a-rather-long-directory-name-to-make-the-path-longer-than-a-line/"
t_run replay -q -p cpython-2.4 -p cpython-2.7 -p cpython-3.11 -p cpython-3.13 -p malloc \
	"$T/a-rather-long-directory-name-to-make-the-path-longer-than-a-line/cycle.trace"
t_is "text: 80 columns below a long path" \
	"$(printf '%s\n' "$T_OUT" | tail -n +2 | awk 'length($0) > 79' | head -3)" ""

# A warning longer than a line is wrapped at a space (the no-typed-objects
# sentence is 109 characters), continued four spaces in.
printf '#memsim-trace 1\na 1 100\nf 1\n' >"$T/untyped.trace"
t_run replay -q -p cpython-3.13 "$T/untyped.trace"
t_is "text: a long warning fits 80 columns" \
	"$(printf '%s\n' "$T_OUT" | tail -n +2 | awk 'length($0) > 79' | head -3)" ""
t_like "text: the warning's second line is indented" "$T_OUT" $'act on,\n    and collectors'

# --out: a failed replay (second trace missing) writes nothing.
t_run replay -q --out "$T/failed" -p malloc traces/cycle.trace "$T/missing.trace"
t_is "out: failed replay status" "$T_STATUS" 66
t_ok "out: failed replay left no directory" test ! -e "$T/failed"
t_is "out: nor a staging directory" "$(ls -a "$T" | grep -c memsim-)" 0

# --out without gnuplot: data, scripts and the page, no images, a note.
MEMSIM_GNUPLOT=/nonexistent/gnuplot "$MEMSIM" replay -q --out "$T/nognu" \
	-p cpython-3.11 traces/cycle.trace >/dev/null 2>"$T/nognu.err"
t_like "out: gnuplot missing note" "$(cat "$T/nognu.err")" "gnuplot not found on PATH"
t_ok "out: scripts written" test -s "$T/nognu/plots/cycle.memory.gp"
t_ok "out: series written" test -s "$T/nognu/data/cycle.p1.series.dat"
t_ok "out: page says plots not drawn" grep -q "Plots not drawn" "$T/nognu/index.html"
t_is "out: no image" "$(ls "$T/nognu/plots" | grep -c 'png$')" 0

# --out with the bundled scenarios and six policies.
OUT="$T/out"
"$MEMSIM" replay -q --out "$OUT" --baseline cpython-2.7 -p cpython-2.4 -p cpython-2.7 \
	-p cpython-3.11 -p cpython-3.13 -p malloc -p cpython-2.7:freelists.mode=shared \
	traces/cycle.trace traces/int-then-float.trace.gz traces/list-churn.trace.gz \
	>"$T/out.txt" 2>"$T/out.err"
t_is "out: exit status" "$?" 0
for f in report.txt report.json report.csv index.html; do
	t_ok "out: $f" test -s "$OUT/$f"
done
t_ok "out: report.txt is the printed table" cmp -s "$OUT/report.txt" "$T/out.txt"
# The series: int-then-float has 400000 events. With the automatic step
# the k-th halving comes when 2048 points fill at step 2^(k-1), at event
# 2048 * 2^(k-1); the 8th at 262144 (the 9th would be at 524288), leaving
# 1024 points on multiples of 256 up to 262144. Then 262400 .. 399872:
# (399872 - 262144) / 256 = 538 more, and the final point at 400000:
# 1563 points.
t_is "out: series ends at the last event" \
	"$(tail -1 "$OUT/data/int-then-float.p1.series.dat" | cut -d' ' -f1)" 400000
t_is "out: series points" "$(grep -vc '^#' "$OUT/data/int-then-float.p1.series.dat")" 1563
t_is "out: series step" "$(grep -v '^#' "$OUT/data/int-then-float.p1.series.dat" | head -2 | cut -d' ' -f1 | tr '\n' ' ')" "256 512 "
t_is "out: the JSON holds the series" \
	"$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["traces"][1]["policies"][0]["series"]["points"]))' "$OUT/report.json")" 1563
# The series' last running peak is the report's peak RSS.
t_is "out: series peak = report peak" \
	"$(tail -1 "$OUT/data/int-then-float.p3.series.dat" | cut -d' ' -f10)" \
	"$(jqv .traces[1].policies[2].peak_rss_bytes "$OUT/report.json")"
# cycle.trace: one collection (the `c`), generation 2, at event 7.
t_is "out: pause record" "$(grep -v '^#' "$OUT/data/cycle.p3.pauses.dat" | cut -d' ' -f1,2,5,6)" "1 7 2 1"
# Occupancy under 3.11 on cycle.trace (test_record.c derives it): one
# arena, 1 pool in use at the peak footprint, none at the end (the full
# collection cleared the list free list): columns peak, end.
t_is "out: occupancy at peak and end" \
	"$(grep -v '^#' "$OUT/data/cycle.p3.occupancy.dat" | sed -n '1p;2p' | tr '\n' '/')" "0 0 1/1 1 0/"
t_like "out: the timeline is coloured by generation" \
	"$(cat "$OUT/plots/cycle.pause-timeline.gp")" "title 'generation 2'"

if command -v gnuplot >/dev/null 2>&1; then
	t_ok "out: gnuplot rendered (no note)" test ! -s "$T/out.err"
	# Every image: a whole PNG of 960x540 (IHDR) or a closed SVG, over 4 KB,
	# and not blank: the decoded PNG has many distinct pixel values.
	t_is "out: every plot has a valid, non-blank PNG and SVG" "$(python3 - "$OUT" "$ROOT/tests" <<'PY'
import glob, os, sys
sys.path.insert(0, sys.argv[2])
from pngcheck import png_info
bad = []
for gp in sorted(glob.glob(os.path.join(sys.argv[1], "plots", "*.gp"))):
    base = gp[:-3]
    png, svg = base + ".png", base + ".svg"
    for f in (png, svg):
        if not os.path.exists(f) or os.path.getsize(f) < 4000:
            bad.append(os.path.basename(f) + "(size)")
    if not os.path.exists(png):
        continue
    w, h, verdict = png_info(png)
    if verdict != "ok":
        bad.append(os.path.basename(png) + "(%s)" % verdict)
    elif (w, h) != (960, 540):
        bad.append(os.path.basename(png) + "(%dx%d)" % (w, h))
    if b"</svg>" not in open(svg, "rb").read()[-64:]:
        bad.append(os.path.basename(svg) + "(not closed)")
print(" ".join(bad))
PY
)" ""
	# Plots of cycle: memory + 6 breakdowns + pause CDF, timeline and MMU
	# (it collects) + occupancy for the 5 pymalloc policies (not malloc).
	t_is "out: plots of cycle" "$(ls "$OUT"/plots/cycle.*.gp | wc -l)" 15
	t_ok "out: occupancy plot" test -s "$OUT/plots/cycle.p3.occupancy.svg"
else
	t_skip "out: images" "gnuplot not installed"
fi
# Every file the page links to or shows exists, and the captions carry
# the record's numbers: int-then-float's highest peak RSS is cpython-2.4's
# or 2.7's (Python 2's blocks never return memory).
t_is "out: index.html links resolve" "$(python3 - "$OUT" <<'PY'
import html.parser, os, sys
d = sys.argv[1]
class P(html.parser.HTMLParser):
    refs = []
    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("href", "src"):
                self.refs.append(v)
p = P(); p.feed(open(os.path.join(d, "index.html")).read())
missing = [r for r in p.refs if not os.path.exists(os.path.join(d, r))]
print(len(p.refs) > 20, " ".join(missing))
PY
)" "True "
t_like "out: a caption from the record" "$(cat "$OUT/index.html")" \
	"Dots mark each exact peak: highest cpython-2.4"
t_is "out: no caption says dashed live bytes" "$(grep -c 'live bytes dashed' "$OUT/index.html")" 0

# Deterministic: a second run gives the same bytes.
"$MEMSIM" replay -q --out "$T/out2" --baseline cpython-2.7 -p cpython-2.4 -p cpython-2.7 \
	-p cpython-3.11 -p cpython-3.13 -p malloc -p cpython-2.7:freelists.mode=shared \
	traces/cycle.trace traces/int-then-float.trace.gz traces/list-churn.trace.gz \
	>/dev/null 2>&1
t_ok "out: deterministic reports and data" diff -r -x '*.png' -x '*.svg' "$OUT" "$T/out2"

t_run replay -q --sample-step 10 -p malloc traces/cycle.trace
t_is "sample-step needs --out or --series" "$T_STATUS" 64
t_run replay -q --series --sample-step 2 -p malloc --format json traces/cycle.trace
# 7 events sampled every 2: points at 2, 4, 6 and the final 7.
t_is "--series: the series in JSON" \
	"$(python3 -c 'import json,sys; print([p[0] for p in json.load(sys.stdin)["traces"][0]["policies"][0]["series"]["points"]])' <"$T/.out")" \
	"[2, 4, 6, 7]"
# --sections: the text report keeps only the sections named, in the
# report's own order whatever the list's; JSON is not cut.
sections_of() { grep -E '^(memory|fragmentation|free lists|collector|allocator detail|vs baseline|recorded collector)( |$|:)' | awk '{print $1}' | tr '\n' ' '; }
t_run replay -q -p cpython-2.7 -p cpython-3.13 --baseline cpython-2.7 traces/cycles.trace.gz
t_is "--sections: all by default" "$(printf '%s\n' "$T_OUT" | sections_of)" \
	"memory fragmentation free collector allocator vs "
t_run replay -q -p cpython-2.7 -p cpython-3.13 --baseline cpython-2.7 \
	--sections collector,memory traces/cycles.trace.gz
t_is "--sections collector,memory: those two, in report order" \
	"$(printf '%s\n' "$T_OUT" | sections_of)" "memory collector "
t_run replay -q -p cpython-2.7 -p cpython-3.13 --baseline cpython-2.7 \
	--sections baseline,allocator,freelists,fragmentation traces/cycles.trace.gz
t_is "--sections: the other four" "$(printf '%s\n' "$T_OUT" | sections_of)" \
	"fragmentation free allocator vs "
t_run replay -q -p cpython-2.7 --sections memory --format json traces/cycle.trace
t_is "--sections leaves JSON whole (the cycle: one c, two lists)" \
	"$(jqv '.traces[0].policies[0].gc.collections_total') $(jqv '.traces[0].policies[0].gc.collected_total')" "1 2"
t_run replay -p malloc --sections memory,bogus traces/cycle.trace
t_is "--sections with an unknown name: 64 and the valid ones" "$T_STATUS $T_ERR" \
	"64 memsim: --sections: unknown section 'bogus' in 'memory,bogus' (use memory, fragmentation, freelists, collector, allocator, baseline)
memsim: see 'memsim replay --help'"
t_run replay -p malloc --sections '' traces/cycle.trace
t_is "--sections '': 64" "$T_STATUS" 64
t_done
