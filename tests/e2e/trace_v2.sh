#!/bin/bash
# Trace format version 2 (docs/trace-format.md, docs/binary-format.md):
# lossless round trips of every line kind through both forms, plain and
# gzip; annotations (k, ^SITE, m, g, h, e) change no simulated result; what
# `memsim info` reports for sites, marks, recorded collections and
# snapshots, and the marks and arena occupancy at marks a replay reports,
# derived by hand.
. "$ROOT/tests/lib.sh"
TOOLS="$ROOT/build/${BUILD:-release}/tools"

# Every version-2 line with hex numbers, comments, odd spacing and a
# CRLF line end; its normalised text is written out by hand below.
printf '%s\n' '#memsim-trace 2 {"source":"hand","level":"object"}' '# stack nodes' \
	'k 1 0 main@app.c:3' 'k  2	1 parse%20it@app.c:40' 'k 3 2 libc.so.6+0x2a1f0' \
	'a 0x10 64 dict ^2' 'a 17 0x20 ^3' 'a 18 8' 'm start' 'r 16 128 ^1' 'r 18 9' \
	'@ 0x64' 'g 0' '- 0 17' $'g\r' 'h' 'e 0 16 18' '# still the snapshot' '' \
	'e 16  17 17	' 'c' 'f 16' 'm end' 'f 18' >"$T/all.trace"
printf '%s\n' '#memsim-trace 2 {"source":"hand","level":"object"}' \
	'k 1 0 main@app.c:3' 'k 2 1 parse%20it@app.c:40' 'k 3 2 libc.so.6+0x2a1f0' \
	'a 16 64 dict ^2' 'a 17 32 ^3' 'a 18 8' 'm start' 'r 16 128 ^1' 'r 18 9' \
	'@ 100' 'g 0' '- 0 17' 'g' 'h' 'e 0 16 18' \
	'e 16 17 17' 'c' 'f 16' 'm end' 'f 18' >"$T/all.expected"
for z in "" .gz; do
	"$MEMSIM" convert -q "$T/all.trace" "$T/all.msb$z" &&
		"$MEMSIM" convert -q "$T/all.msb$z" "$T/all.txt$z"
	t_is "every kind$z: text -> binary -> text" "$?" 0
	t_ok "every kind$z: normalised text as derived" \
		cmp -s <({ [ -n "$z" ] && gzip -dc "$T/all.txt$z" || cat "$T/all.txt$z"; }) "$T/all.expected"
	"$MEMSIM" convert -q "$T/all.txt$z" "$T/all2.msb$z"
	t_ok "every kind$z: binary -> text -> binary is byte-identical" \
		cmp -s <(gzip -dcf "$T/all.msb$z") <(gzip -dcf "$T/all2.msb$z")
done
t_is "the binary form says version 2" "$(od -An -tx1 -j8 -N1 "$T/all.msb" | tr -d ' ')" 02
t_is "info text = info binary" "$("$MEMSIM" info -q "$T/all.msb" | tail -n +2)" \
	"$("$MEMSIM" info -q "$T/all.trace" | tail -n +2)"
# A version-1 trace still converts to version-1 bytes: the header's
# version byte is 1 and the text header says 1.
printf 'a 1 8\nf 1\n' >"$T/v1.trace"
"$MEMSIM" convert -q "$T/v1.trace" "$T/v1.msb"
t_is "version 1 stays version 1 (binary)" "$(od -An -tx1 -j8 -N1 "$T/v1.msb" | tr -d ' ')" 01
t_is "version 1 stays version 1 (text)" "$("$MEMSIM" convert -q "$T/v1.msb" - | head -1)" "#memsim-trace 1"

# `memsim info` on the trace above, by hand. Sites (innermost frame
# first): node 1 main, node 2 parse it <- main, node 3 libc <- parse <- main.
#   a 16 64 ^2     node 2: live 64 (peak 64)
#   a 17 32 ^3     node 3: live 32 (peak 32)
#   a 18 8         no site
#   r 16 128 ^1    the 64 bytes leave node 2 (live 0, peak 64); node 1
#                  gets 128 (peak 128); bytes at node 1: 128
#   r 18 9         no site
#   - 0 17 inside `g 0` ... `g`: 17 dies there (32 bytes); node 3 live 0
#   f 16           node 1 live 0
# Top sites by peak: node 1 (128), node 2 (64), node 3 (32).
# Marks: `m start` after the 3 `a` (event 3), `m end` after a a a r r @
# - c f (9 version-1 events), at t = 100. Recorded collections:
# generation 0 once, 1 object and 32 bytes freed, no time passed (both
# `g` lines at t = 100). One snapshot: 2 `e` lines, 4 references (the
# two of `e 16 17 17` count twice). Node 1 has no `a` (0 objects) but an
# `r`, so it is listed.
t_run info --format json "$T/all.trace"
t_is "info: exit 0" "$T_STATUS" 0
t_is "info: version" "$(jqv .version)" 2
t_is "info: event counts" "$(jqv .events.site) $(jqv .events.mark) $(jqv .events.gc_begin) $(jqv .events.gc_end) $(jqv .events.snapshot) $(jqv .events.snapshot_refs) $(jqv .events.snapshot_edge)" \
	"3 2 1 1 1 2 4"
t_is "info: sites in order of peak" "$(jqv .sites[0].site) $(jqv .sites[1].site) $(jqv .sites[2].site)" "1 2 3"
t_is "info: site peaks" "$(jqv .sites[0].peak_live_bytes) $(jqv .sites[1].peak_live_bytes) $(jqv .sites[2].peak_live_bytes)" "128 64 32"
t_is "info: site bytes and objects" "$(jqv .sites[0].bytes)/$(jqv .sites[0].objects) $(jqv .sites[1].bytes)/$(jqv .sites[1].objects)" "128/0 64/1"
t_is "info: a site's path" "$(jqv .sites[2].path)" '["libc.so.6+0x2a1f0", "parse%20it@app.c:40", "main@app.c:3"]'
t_is "info: sites total" "$(jqv .sites_total)" 3
t_is "info: marks" "$(jqv .marks)" '[{"label": "start", "event": 3, "time_ns": 0}, {"label": "end", "event": 9, "time_ns": 100}]'
t_is "info: recorded collections" "$(jqv .recorded_collections)" \
	'[{"generation": 0, "collections": 1, "freed_objects": 1, "freed_bytes": 32, "pause_total_ns": 0, "pause_max_ns": 0}]'
t_is "info: snapshots" "$(jqv .snapshots)" '{"count": 1, "refs": 2, "edges": 4, "last_refs": 2, "last_edges": 4}'
# Peaks are numbered by version-1 events: 64 + 32 + 8 = 104 after the
# third `a`; r 16 128 makes 128 + 32 + 8 = 168 (event 4), r 18 9 169
# (event 5).
t_is "info: peak live bytes" "$(jqv .peak_live_bytes) at $(jqv .peak_live_bytes_event)" "169 at 5"
t_run info --sites 1 --format json "$T/all.trace"
t_is "info --sites 1" "$(jqv .sites_total) $(python3 -c 'import json,sys; print(len(json.load(sys.stdin)["sites"]))' <"$T/.out")" "3 1"
t_run info "$T/all.trace"
t_like "info text: top site" "$T_OUT" "   1              128            0            128  main@app.c:3"
t_like "info text: a path, escapes decoded" "$T_OUT" "<- parse it@app.c:40"
t_like "info text: a mark" "$T_OUT" "  end                                           9            100"
t_like "info text: snapshots" "$T_OUT" "heap snapshots         1 (the last lists 2 objects and 4 references)"

# `memsim replay` on marks: the record lists them (label, events before
# them), and every lane snapshots its arena occupancy at each. By hand,
# cpython-3.11 (1 MiB arenas of 16 KiB pools since 3.10, Objects/obmalloc.c
# ARENA_BITS 20 and POOL_BITS 14; one pool lost to alignment:
# 63 usable): at "first" two 16-byte blocks share one pool; at "second"
# they are freed and the 600-byte block is above pymalloc's 512-byte
# limit, so no pool is in use. malloc has no arenas: no snapshot.
printf '%s\n' '#memsim-trace 2' 'a 1 16' 'a 2 16' 'm first' 'f 1' 'f 2' \
	'a 3 600' 'm second' >"$T/marks.trace"
"$MEMSIM" replay -q -p cpython-3.11 -p malloc --format json "$T/marks.trace" >"$T/marks.json"
t_is "replay: marks in the record" "$(python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))["traces"][0]
print([(m["label"], m["event"]) for m in t["marks"]])
for p in t["policies"]:
    print(p["name"], [(o["at"], o["event"], o["pools_in_use"], o["pools_usable"])
                      for o in p["occupancy"] if o["at"].startswith("mark:")])' "$T/marks.json")" \
	"[('first', 2), ('second', 5)]
cpython-3.11 [('mark:first', 2, [1], [63]), ('mark:second', 5, [0], [63])]
malloc []"
t_like "replay text: the marks line" "$("$MEMSIM" replay -q -p cpython-3.11 "$T/marks.trace")" \
	"marks: 2 (first at event 2, second at event 5)"
# More than 8 marks: snapshots at the first 8 (a plot of more bars
# is unreadable, and each costs two counts per arena), and the report says so.
{ echo '#memsim-trace 2'; for i in $(seq 1 20); do echo "a $i 16"; echo "m m$i"; done; } >"$T/many.trace"
"$MEMSIM" replay -q -p cpython-3.11 --format json "$T/many.trace" >"$T/many.json"
t_is "replay: 20 marks, 8 snapshots, a warning" "$(python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))["traces"][0]
occ = [o["at"] for o in t["policies"][0]["occupancy"] if o["at"].startswith("mark:")]
print(len(t["marks"]), len(occ), occ[-1], *[w for w in t["warnings"] if "marks" in w])' "$T/many.json")" \
	"20 8 mark:m8 arena occupancy is shown at the first 8 of the trace's 20 marks"

# `memsim retain` on a version-2 trace: marks name points, ^SITE groups
# objects, and events are numbered by version-1 events (the k, m, h and
# e lines are no step), as `memsim info` numbers its peaks.
#   a 1 100 dict ^9, a 2 50 list ^5, + 1 2, - 0 2   events 1-4
#   m burst                                        after event 4
#   a 3 1000 ^5                                    event 5: the peak, 1150 B
#   f 3                                            event 6
printf '%s\n' '#memsim-trace 2' 'k 5 0 main@a.py:1' 'k 9 5 cache@a.py:7' 'a 1 100 dict ^9' \
	'a 2 50 list ^5' '+ 1 2' '- 0 2' 'm burst' 'a 3 1000 ^5' 'h' 'e 0 1' 'f 3' >"$T/rt.trace"
t_run retain --format json --at burst "$T/rt.trace"
t_is "retain --at MARK: after event 4" "$(jqv .at.event) $(jqv .at.what)" "4 mark"
t_is "retain: the dict at node 9 retains both (150 B)" \
	"$(jqv .retainers[0].id) $(jqv .retainers[0].site) $(jqv .retainers[0].retained_bytes)" "1 9 150"
t_run retain --format json --at peak "$T/rt.trace"
t_is "retain --at peak: event 5 of 6 version-1 events" "$(jqv .at.event) $(jqv .at.trace_events)" "5 6"
t_is "retain by site: node 5 owns 50 + 1000 B, node 9 100 B" \
	"$(jqv .by_site[0].site)=$(jqv .by_site[0].bytes) $(jqv .by_site[1].site)=$(jqv .by_site[1].bytes)" \
	"5=1050 9=100"
t_run retain --at nomark "$T/rt.trace"
t_is "retain --at an absent mark: 64, how many marks there are" "$T_STATUS $T_ERR" \
	"64 memsim: $T/rt.trace: --at 'nomark': the trace has no mark 'nomark' (it has 1 other mark)
memsim: see 'memsim retain --help'"

# Annotations change nothing: a generated trace with every version-2
# line added (a node per allocation site, ^SITE on every a and r, marks,
# recorded collections around frees, snapshots) replays to the same
# report as the plain trace, under policies with and without a
# collector, and `memsim info` agrees on everything but the new parts.
annotate() {
	python3 - "$1" <<'PY'
import sys
out = ['#memsim-trace 2 {"source":"annotated"}']
defined = set()
n = 0
for line in open(sys.argv[1]):
    f = line.split()
    if not f or f[0].startswith('#'):
        continue
    n += 1
    if f[0] in ('a', 'r'):
        site = int(f[1]) % 7 + 1
        for s in range(1, site + 1):
            if s not in defined:
                out.append('k %d %d f%d@gen.c:%d' % (s, s - 1, s, s * 10))
                defined.add(s)
        line = ' '.join(f) + ' ^%d' % site
    elif f[0] == 'f' and n % 3 == 0:
        out += ['g %d' % (n % 3), ' '.join(f), 'g']
        continue
    if n % 500 == 0:
        out += ['m phase_%d' % n, 'h', 'e 0 %d %d' % (n, n + 1), 'e %d 1' % n]
    out.append(' '.join(f) if f[0] not in ('a', 'r') else line)
print('\n'.join(out))
PY
}
# report JSON without the trace's name, metadata and event count
report_json() {
	"$MEMSIM" replay -q -p cpython-3.11 -p malloc -p cpython-3.13:gc.policy=none \
		--format json "$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
for t in d["traces"]:
    for k in ("trace", "metadata", "events", "marks", "recorded_collections",
              "recorded_generations"):
        t.pop(k, None)
    t["warnings"] = [w for w in t["warnings"] if "marks" not in w]
    for p in t["policies"]:
        p["occupancy"] = [o for o in p["occupancy"] if not o["at"].startswith("mark:")]
print(json.dumps(d, sort_keys=True))'
}
info_v1_part() {
	"$MEMSIM" info -q --format json "$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
for k in ("trace", "metadata", "events", "version", "sites", "sites_total", "marks",
          "recorded_collections", "snapshots"):
    d.pop(k, None)
print(json.dumps(d, sort_keys=True))'
}
NC=3000 NS=300
t_slow && NC=500 NS=60
"$TOOLS/gen-scenario" cycles -n "$NC" >"$T/cycles.trace"
"$TOOLS/gen-scenario" server -n "$NS" -k 7 >"$T/server.trace"
for name in cycles server; do
	annotate "$T/$name.trace" >"$T/$name.v2.trace"
	t_ok "$name: annotated" test "$(grep -c '^[kmghe] ' "$T/$name.v2.trace")" -gt 10
	t_is "$name: annotations change no replay result" \
		"$(report_json "$T/$name.v2.trace")" "$(report_json "$T/$name.trace")"
	"$MEMSIM" convert -q "$T/$name.v2.trace" "$T/$name.v2.msb"
	t_is "$name: nor do they in binary" \
		"$(report_json "$T/$name.v2.msb")" "$(report_json "$T/$name.trace")"
	t_is "$name: info agrees" "$(info_v1_part "$T/$name.v2.trace")" "$(info_v1_part "$T/$name.trace")"
	# the recorded collections in the replay's record, counted by awk:
	# the opening g lines per generation and the f lines inside them
	t_is "$name: replay records each g block and its frees" "$(
		"$MEMSIM" replay -q -p malloc --format json "$T/$name.v2.msb" | python3 -c '
import json, sys
t = json.load(sys.stdin)["traces"][0]
print(" ".join("%d:%d:%d" % (g["generation"], g["collections"], g["collected"])
               for g in t["recorded_generations"]))')" "$(awk '
		$1 == "g" && NF == 2 { open = 1; gen = $2; n[gen]++; next }
		$1 == "g" { open = 0; next }
		$1 == "f" && open { freed[gen]++ }
		END { for (g in n) printf "%s%d:%d:%d", (k++ ? " " : ""), g, n[g], freed[g] }' \
		"$T/$name.v2.trace")"
done

# Recorded collections with times, checked by hand:
#   @1000 a a @2000 | g 0 (event 4) f f @2500 g   -> gen 0, 2 freed, 500 ns
#   a @3000 | g 1 (event 9) @3100 g               -> gen 1, 0 freed, 100 ns
#   @4000 | g 0 (event 11) f @4900 g              -> gen 0, 1 freed, 900 ns
# per generation (nearest rank of {500, 900}: p50 500, p95 = p99 = max 900)
printf '%s\n' '#memsim-trace 2' '@ 1000' 'a 1 32 Node' 'a 2 32 Node' '@ 2000' 'g 0' 'f 1' \
	'f 2' '@ 2500' 'g' 'a 3 64 Node' '@ 3000' 'g 1' '@ 3100' 'g' '@ 4000' 'g 0' 'f 3' \
	'@ 4900' 'g' >"$T/g.trace"
"$MEMSIM" replay -q -p cpython-3.11 --format json "$T/g.trace" >"$T/g.json"
t_is "replay: recorded collections in the record" "$(python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))["traces"][0]
for c in t["recorded_collections"]:
    print(c["event"], c["time_ns"], c["generation"], c["freed"], c["pause_ns"])
for g in t["recorded_generations"]:
    print(g["generation"], g["collections"], g["collected"], g["pause_total_ns"],
          g["pause_p50_ns"], g["pause_p95_ns"], g["pause_p99_ns"], g["pause_max_ns"])' "$T/g.json")" \
	"4 2000 0 2 500
9 3000 1 0 100
11 4000 0 1 900
0 2 3 1400 500 900 900 900
1 1 0 100 100 100 100 100"
"$MEMSIM" replay -q -p cpython-3.11 "$T/g.trace" >"$T/g.txt"
t_like "replay text: the recorded line" "$(cat "$T/g.txt")" \
	"recorded: 3 collections by the traced runtime, 3 objects freed"
t_like "replay text: recorded collector, generation 0" "$(cat "$T/g.txt")" \
	"  0                      2           3      500 ns      900 ns      900 ns      900 ns"
t_like "replay text: recorded collector, generation 1" "$(cat "$T/g.txt")" \
	"  1                      1           0      100 ns      100 ns      100 ns      100 ns"
t_done
