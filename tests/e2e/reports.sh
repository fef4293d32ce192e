#!/bin/bash
# memsim replay's reports: baseline differences in text, JSON and CSV,
# the JSON schema of docs/reports.md, CSV parsed back, the --out
# directory (data, scripts, images when gnuplot is installed, index.html
# whose every link exists), determinism, and a failed replay writing
# nothing. Expected numbers are derived by hand in the comments.
. "$ROOT/tests/lib.sh"

# One 56-byte list. Under malloc the glibc model serves a 64-byte chunk
# (56 + 8 header, rounded to 16) from a brk heap grown by 64 + top_pad
# 131072 = 131136, rounded up to pages: 135168 bytes = 132.00 KiB. Under
# cpython-3.11 pymalloc maps one 1 MiB arena (1048576) for it.
# Difference to the baseline malloc: 1048576 - 135168 = 913408 bytes =
# 892.00 KiB; 913408 / 135168 = 6.7576 -> +675.8%.
# Fragmentation #2 (footprint - live) / live: malloc (135168-56)/56 =
# 2412.7143, pymalloc (1048576-56)/56 = 18723.571; difference 16310.857 =
# 1631085.71 percentage points, +676.0% of 2412.7143.
printf 'a 1 56 list\n' >"$T/one.trace"
t_run replay -q -p malloc -p cpython-3.11 --baseline malloc "$T/one.trace"
t_is "baseline: exit status" "$T_STATUS" 0
t_like "baseline: section" "$T_OUT" "difference to baseline malloc"
t_like "baseline: footprint row" "$T_OUT" \
	"peak footprint                   +892.00 KiB (+675.8%)"
t_like "baseline: ratio row in percentage points" "$T_OUT" \
	"frag #2 at peak live          +1631085.71 pp (+676.0%)"
t_like "baseline: equal values" "$T_OUT" \
	"peak live                                  0 B (+0.0%)"

t_run replay -q -p malloc -p cpython-3.11 --baseline malloc --format json "$T/one.trace"
t_is "json: baseline key" "$(jqv .baseline)" malloc
t_is "json: delta footprint" "$(jqv .traces[0].policies[1].vs_baseline.delta.peak_footprint_bytes)" 913408
t_is "json: percent of a zero baseline is null" \
	"$(jqv .traces[0].policies[1].vs_baseline.percent.gc.collections_gen0)" None
t_is "json: no vs_baseline in the baseline" \
	"$(python3 -c 'import json,sys; print("vs_baseline" in json.load(sys.stdin)["traces"][0]["policies"][0])' <"$T/.out")" False

t_run replay -q -p malloc -p cpython-3.11 --baseline nosuch "$T/one.trace"
t_is "baseline: unknown name is a usage error" "$T_STATUS" 64
t_like "baseline: unknown name message" "$T_ERR" "--baseline 'nosuch' is not one of the policies"

# JSON schema (docs/reports.md): required keys and types at each level.
t_run replay -q -p malloc -p cpython-2.7 --baseline malloc --format json \
	"$ROOT/traces/cycle.trace" "$ROOT/traces/list-churn.trace.gz"
cp "$T/.out" "$T/r.json"
t_ok "json: schema" python3 - "$T/r.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
num = (int, float)
def need(obj, key, typ, where):
    if key not in obj or not isinstance(obj[key], typ):
        sys.exit("%s: %s missing or not %s" % (where, key, typ))
need(doc, "traces", list, "top"); assert doc["baseline"] in (None, "malloc")
metrics = ["peak_rss_bytes", "peak_rss_event", "final_rss_bytes", "peak_footprint_bytes",
           "peak_footprint_event", "final_footprint_bytes", "peak_allocated_bytes",
           "final_allocated_bytes", "peak_live_bytes", "peak_live_event",
           "final_live_bytes", "peak_live_objects", "final_live_objects"]
groups = {"fragmentation": ["jw1", "jw2", "jw3", "jw4"],
          "freelists": ["held_bytes_peak", "held_bytes_final", "hits", "misses", "blocked_bytes"],
          "gc": ["collections_gen0", "collections_gen1", "collections_gen2",
                 "collected_total", "gc_share", "run_ns"]}
for t in doc["traces"]:
    need(t, "trace", str, "trace"); need(t, "events", num, "trace")
    need(t, "policies", list, "trace")
    if t["metadata"] is not None and not isinstance(t["metadata"], dict):
        sys.exit("metadata")
    for i, p in enumerate(t["policies"]):
        need(p, "name", str, "policy"); need(p, "summary", str, "policy")
        for k in metrics: need(p, k, num, p["name"])
        for g, keys in groups.items():
            need(p, g, dict, p["name"])
            for k in keys: need(p[g], k, num, p["name"] + "." + g)
        for k in ["count", "total_ns", "mean_ns", "p50_ns", "p95_ns", "p99_ns", "max_ns"]:
            need(p["gc"]["pauses"], k, num, "gc.pauses")
        for k in ["1ms", "10ms", "100ms", "1s"]: need(p["gc"]["mmu"], k, num, "gc.mmu")
        if i == 0:
            assert "vs_baseline" not in p
        else:
            vs = p["vs_baseline"]; need(vs, "baseline", str, "vs")
            need(vs, "delta", dict, "vs"); need(vs, "percent", dict, "vs")
            assert "peak_rss_event" not in vs["delta"]
            d = vs["delta"]["peak_footprint_bytes"]
            assert d == p["peak_footprint_bytes"] - t["policies"][0]["peak_footprint_bytes"]
            need(vs["delta"]["gc"]["mmu"], "1s", num, "vs.delta.gc.mmu")
PY

# CSV parsed back: one row per (trace, policy) = 2 x 2, every row as wide
# as the header, the values those of the JSON.
t_run replay -q -p malloc -p cpython-2.7 --baseline malloc --format csv \
	"$ROOT/traces/cycle.trace" "$ROOT/traces/list-churn.trace.gz"
cp "$T/.out" "$T/r.csv"
t_ok "csv: parsed back, agrees with JSON" python3 - "$T/r.csv" "$T/r.json" <<'PY'
import csv, json, sys
rows = list(csv.reader(open(sys.argv[1])))
doc = json.load(open(sys.argv[2]))
head, body = rows[0], rows[1:]
assert len(body) == 4, len(body)
assert all(len(r) == len(head) for r in body)
assert head[:2] == ["trace", "policy"]
i = head.index("peak_footprint_bytes"); d = head.index("vs_baseline.delta.peak_footprint_bytes")
for r, (t, p) in zip(body, [(0, 0), (0, 1), (1, 0), (1, 1)]):
    pol = doc["traces"][t]["policies"][p]
    assert r[1] == pol["name"]
    assert float(r[i]) == pol["peak_footprint_bytes"]
    assert (r[d] == "") == (p == 0)
    # cJSON writes 15 significant digits when they read back within
    # DBL_EPSILON; CSV writes 17: compare to 1e-12 relative
    jw = float(r[head.index("fragmentation.jw1")]); jj = pol["fragmentation"]["jw1"]
    assert abs(jw - jj) <= 1e-12 * abs(jj), (jw, jj)
PY

# Every line of the text table fits 80 columns, with six policies. The
# "trace:" line names the trace as given (the checkout's absolute path
# here), which is never cut, so it is not counted.
t_run replay -q -p cpython-2.4 -p cpython-2.7 -p cpython-3.11 -p cpython-3.13 \
	-p malloc -p cpython-2.7:freelists.mode=shared --baseline cpython-2.7 \
	"$ROOT/traces/list-churn.trace.gz"
t_is "text: 80 columns" "$(printf '%s\n' "$T_OUT" | awk 'length($0) > 79 && !/^trace: /' | head -3)" ""

# --out: a failed replay (second trace missing) writes nothing.
t_run replay -q --out "$T/failed" -p malloc "$ROOT/traces/cycle.trace" "$T/missing.trace"
t_is "out: failed replay status" "$T_STATUS" 66
t_ok "out: failed replay left no directory" test ! -e "$T/failed"

# --out without gnuplot: data, scripts and the page, no images, a note.
t_run replay -q --out "$T/nognu" -p cpython-3.11 "$ROOT/traces/cycle.trace"
MEMSIM_GNUPLOT=/nonexistent/gnuplot "$MEMSIM" replay -q --out "$T/nognu" \
	-p cpython-3.11 "$ROOT/traces/cycle.trace" >/dev/null 2>"$T/nognu.err"
t_like "out: gnuplot missing note" "$(cat "$T/nognu.err")" "gnuplot not found on PATH"
t_ok "out: scripts written" test -s "$T/nognu/plots/cycle.memory.gp"
t_ok "out: series written" test -s "$T/nognu/data/cycle.p1.series.dat"
t_ok "out: page says plots not rendered" grep -q "Plots not rendered" "$T/nognu/index.html"

# --out with the bundled scenarios and six policies.
OUT="$T/out"
"$MEMSIM" replay -q --out "$OUT" --baseline cpython-2.7 -p cpython-2.4 -p cpython-2.7 \
	-p cpython-3.11 -p cpython-3.13 -p malloc -p cpython-2.7:freelists.mode=shared \
	"$ROOT/traces/cycle.trace" "$ROOT/traces/int-then-float.trace.gz" \
	"$ROOT/traces/list-churn.trace.gz" >"$T/out.txt" 2>"$T/out.err"
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
# The series' last running peak is the report's peak RSS.
t_is "out: series peak = report peak" \
	"$(tail -1 "$OUT/data/int-then-float.p3.series.dat" | cut -d' ' -f10)" \
	"$(jqv .traces[1].policies[2].peak_rss_bytes "$OUT/report.json" | sed 's/\.0$//')"
# cycle.trace: one collection (the `c`), generation 2, at event 7.
t_is "out: pause record" "$(grep -v '^#' "$OUT/data/cycle.p3.pauses.dat" | cut -d' ' -f1,2,5,6)" "1 7 2 1"

if command -v gnuplot >/dev/null 2>&1; then
	t_ok "out: gnuplot rendered (no note)" test ! -s "$T/out.err"
	bad=""
	for gp in "$OUT"/plots/*.gp; do
		b=${gp%.gp}
		for ext in png svg; do
			f=$b.$ext
			if [ ! -f "$f" ] || [ "$(wc -c <"$f")" -lt 4000 ]; then
				bad="$bad $f"
			fi
		done
		head -c 8 "$b.png" | od -An -tx1 | tr -d ' \n' | grep -q '^89504e470d0a1a0a$' || bad="$bad $b.png(magic)"
		grep -q '<svg' "$b.svg" || bad="$bad $b.svg(no svg)"
	done
	t_is "out: every plot has a valid PNG and SVG of non-trivial size" "$bad" ""
	# Plots expected: per trace memory + 6 breakdowns; cycle also pause CDF,
	# timeline and MMU (it collects); occupancy per pymalloc policy with
	# arenas at peak: 5 of 6 on cycle (all but malloc).
	t_is "out: plots of cycle" "$(ls "$OUT"/plots/cycle.*.gp | wc -l)" 15
	t_ok "out: occupancy plot" test -s "$OUT/plots/cycle.p3.occupancy.svg"
else
	t_skip "out: images" "gnuplot not installed"
fi
# Every file the page links to or shows exists.
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

# Deterministic: a second run gives the same bytes.
"$MEMSIM" replay -q --out "$T/out2" --baseline cpython-2.7 -p cpython-2.4 -p cpython-2.7 \
	-p cpython-3.11 -p cpython-3.13 -p malloc -p cpython-2.7:freelists.mode=shared \
	"$ROOT/traces/cycle.trace" "$ROOT/traces/int-then-float.trace.gz" \
	"$ROOT/traces/list-churn.trace.gz" >/dev/null 2>&1
t_ok "out: deterministic reports and data" diff -r -x '*.png' -x '*.svg' "$OUT" "$T/out2"

t_run replay -q --sample-step 10 -p malloc "$ROOT/traces/cycle.trace"
t_is "sample-step needs --out" "$T_STATUS" 64
t_done
