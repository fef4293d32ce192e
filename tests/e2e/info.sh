#!/bin/bash
# memsim info on hand-written traces; every expected number is derived
# by hand in the comments.
. "$ROOT/tests/lib.sh"

# The cycle example of the trace format: two 56-byte lists referencing
# each other, both root references dropped. 7 events: 2 a, 2 +, 2 -, 1 c.
# Both lists stay live (each holds the other), so peak = final = 112 bytes
# in 2 objects, reached at event 2 (the second `a`), and both are cyclic
# garbage at the end: 2 objects, 112 bytes.
t_run info --format json "$ROOT/traces/cycle.trace"
t_is "cycle: exit status" "$T_STATUS" 0
t_is "cycle: events total" "$(jqv .events.total)" 7
t_is "cycle: alloc events" "$(jqv .events.alloc)" 2
t_is "cycle: ref_add events" "$(jqv .events.ref_add)" 2
t_is "cycle: ref_drop events" "$(jqv .events.ref_drop)" 2
t_is "cycle: collect events" "$(jqv .events.collect)" 1
t_is "cycle: objects allocated" "$(jqv .objects_allocated)" 2
t_is "cycle: bytes requested" "$(jqv .bytes_requested_total)" 112
t_is "cycle: peak live bytes" "$(jqv .peak_live_bytes)" 112
t_is "cycle: peak live bytes event" "$(jqv .peak_live_bytes_event)" 2
t_is "cycle: peak live objects" "$(jqv .peak_live_objects)" 2
# Two edges, 1 -> 2 and 2 -> 1; the root drops do not count.
t_is "cycle: peak live references" "$(jqv .peak_live_refs)" 2
t_is "cycle: final live bytes" "$(jqv .final_live_bytes)" 112
t_is "cycle: final live objects" "$(jqv .final_live_objects)" 2
t_is "cycle: cyclic garbage objects" "$(jqv .cyclic_garbage_objects)" 2
t_is "cycle: cyclic garbage bytes" "$(jqv .cyclic_garbage_bytes)" 112
t_is "cycle: type list" "$(jqv .types[0].name) $(jqv .types[0].objects) $(jqv .types[0].bytes) $(jqv .types[0].peak_live_bytes)" "list 2 112 112"
# 56 lies in the power-of-two bucket [32, 63].
t_is "cycle: size histogram" "$(jqv .size_histogram)" '[{"min": 32, "max": 63, "count": 2}]'

# A cascade, a resize and time. Events (12): 4 a, 2 +, 3 -, 1 @, 1 r, 1 f.
#   a 1 100 dict; a 2 200 list; a 3 300 list   live 600 in 3 objects (event 3)
#   + 1 2; + 2 3; - 0 2; - 0 3                 2 and 3 now held only by edges
#   @ 1000
#   - 0 1      1 dies, and with it 2, then 3   live 0
#   a 4 50; r 4 5000                           live 5000 at event 11, t = 1000
#   f 4                                        live 0
# bytes requested = 100 + 200 + 300 + 50 + 5000 (a resize requests its new
# size) = 5650. Per type: dict 1 object 100 bytes; list 2 objects 500 bytes,
# peak 500; untyped 1 object, 50 + 5000 = 5050 bytes, peak 5000.
cat >"$T/cascade.trace" <<'TRACE'
a 1 100 dict
a 2 200 list
a 3 300 list
+ 1 2
+ 2 3
- 0 2
- 0 3
@ 1000
- 0 1
a 4 50
r 4 5000
f 4
TRACE
t_run info --format json "$T/cascade.trace"
t_is "cascade: exit status" "$T_STATUS" 0
t_is "cascade: events total" "$(jqv .events.total)" 12
t_is "cascade: bytes requested" "$(jqv .bytes_requested_total)" 5650
t_is "cascade: peak live bytes" "$(jqv .peak_live_bytes) at $(jqv .peak_live_bytes_event) t=$(jqv .peak_live_bytes_time_ns)" "5000 at 11 t=1000"
t_is "cascade: peak live objects" "$(jqv .peak_live_objects) at $(jqv .peak_live_objects_event) t=$(jqv .peak_live_objects_time_ns)" "3 at 3 t=0"
t_is "cascade: final live" "$(jqv .final_live_bytes) $(jqv .final_live_objects)" "0 0"
t_is "cascade: no garbage" "$(jqv .cyclic_garbage_objects) $(jqv .cyclic_garbage_bytes)" "0 0"
# Types are listed untyped first, then in order of first appearance.
t_is "cascade: types" "$(jqv .types)" '[{"name": "(untyped)", "objects": 1, "bytes": 5050, "peak_live_bytes": 5000}, {"name": "dict", "objects": 1, "bytes": 100, "peak_live_bytes": 100}, {"name": "list", "objects": 2, "bytes": 500, "peak_live_bytes": 500}]'
t_is "cascade: histogram" "$(jqv .size_histogram)" '[{"min": 32, "max": 63, "count": 1}, {"min": 64, "max": 127, "count": 1}, {"min": 128, "max": 255, "count": 1}, {"min": 256, "max": 511, "count": 1}]'

# The same trace read from standard input and gzip-compressed gives the
# same numbers.
gzip -c "$T/cascade.trace" >"$T/cascade.gz"
t_run info --format json "$T/cascade.gz"
t_is "gzip input detected by content" "$(jqv .peak_live_bytes)" 5000
"$MEMSIM" info --format json - <"$T/cascade.trace" >"$T/.out" 2>"$T/.err"
t_is "stdin input" "$(jqv .peak_live_bytes)" 5000
t_is "stdin is named <stdin>" "$(jqv .trace)" "<stdin>"

# Text output names the same peak.
t_run info "$T/cascade.trace"
t_like "text: peak line" "$T_OUT" "peak live bytes        5000 at event 11 (t=1000 ns)"

# Two traces in JSON: an object with a "traces" array, in argument order.
t_run info --format json "$ROOT/traces/cycle.trace" "$T/cascade.trace"
t_is "two traces" "$(jqv .traces[0].peak_live_bytes) $(jqv .traces[1].peak_live_bytes)" "112 5000"

# Usage errors exit 64; a missing file 66.
t_run info
t_is "no trace: exit 64" "$T_STATUS" 64
t_run info --bogus x
t_is "unknown option: exit 64" "$T_STATUS" 64
t_run info "$T/does-not-exist.trace"
t_is "missing file: exit 66" "$T_STATUS" 66
t_is "missing file: nothing on stdout" "$T_OUT" ""
t_run info "$T"
t_is "directory: exit 66" "$T_STATUS" 66

# References between objects at their peak: 3 edges (1->2, 1->3, 2->3);
# dropping 1's root kills it and its 2 edges with it (1 left), then one
# more edge makes 2: the peak stays 3.
printf 'a 1 8\na 2 8\na 3 8\n+ 1 2\n+ 1 3\n+ 2 3\n- 0 1\n+ 3 2\n' >"$T/refs.trace"
t_run info --format json "$T/refs.trace"
t_is "refs: peak live references" "$(jqv .peak_live_refs)" 3
t_done
