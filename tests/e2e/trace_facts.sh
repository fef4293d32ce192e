#!/bin/bash
# A trace's facts reach the replay (sim/facts.c; docs/reports.md,
# "Warnings"; issue #13 item 5): a header's "arena_alignment" is used by
# every policy whose allocator has that knob unless the user chose it
# (-p KEY=VALUE or a policy file), and the report says so; a trace
# recorded under one CPython replayed only under presets of other
# versions is warned about.
. "$ROOT/tests/lib.sh"

# Ten 64-byte objects: one pymalloc arena. CPython 3.13's arenas are
# 1 MiB and its pools 16 KiB (Objects/obmalloc.c 3.13: ARENA_BITS 20,
# POOL_BITS 14); an arena placed anywhere by mmap loses its first,
# partial pool (16384 bytes), one aligned to its size loses nothing.
{ echo '#memsim-trace 1 {"source":"pyrec","arena_alignment":"aligned"}'
  for i in 1 2 3 4 5 6 7 8 9 10; do echo "a $i 64"; done; } >"$T/al.trace"
tail -n +2 "$T/al.trace" >"$T/plain.trace"
lost() { jqv .traces[0].policies[$1].pymalloc.bytes_lost_to_arena_alignment; }
FACT='the trace says "arena_alignment":"aligned", so allocator.arena_alignment=aligned was applied (the policy had unaligned; give allocator.arena_alignment=VALUE to choose)'
UNTYPED='the trace has no typed objects: free-list policies had nothing to act on, and collectors see no untyped object'

t_run replay --format json -p cpython-3.13 -p cpython-3.13:gc.threshold0=5 "$T/al.trace"
t_is "aligned trace: exit 0" "$T_STATUS" 0
t_is "the preset takes the trace's alignment" "$(lost 0) $(lost 1)" "0 0"
t_is "each policy says so (JSON)" \
	"$(jqv .traces[0].warnings[0])|$(jqv .traces[0].warnings[1])|$(jqv .traces[0].warnings[2])" \
	"cpython-3.13: $FACT|cpython-3.13:gc.threshold0=5: $FACT|$UNTYPED"
# The text wraps a warning at 79 columns, continued four spaces in.
unwrap() { printf '%s\n' "$1" | sed -e ':a' -e 'N' -e '$!ba' -e 's/\n    / /g'; }
t_run replay -p cpython-3.13 "$T/al.trace"
t_like "and in text" "$(unwrap "$T_OUT")" "warnings:
  cpython-3.13: $FACT"
t_run replay --format json -p cpython-3.13 "$T/plain.trace"
t_is "without the fact: unaligned, as the preset says" "$(lost 0)" 16384
t_is "without the fact: no such warning" "$(jqv .traces[0].warnings)" "[\"$UNTYPED\"]"

# The user's choice wins, given on the command line or in a file.
t_run replay --format json -p cpython-3.13:allocator.arena_alignment=unaligned "$T/al.trace"
t_is "-p KEY=VALUE chooses" "$(lost 0) $(jqv .traces[0].warnings)" "16384 [\"$UNTYPED\"]"
printf '{"base":"cpython-3.13","allocator":{"arena_alignment":"unaligned"}}\n' >"$T/u.json"
printf '{"base":"cpython-3.13","gc":{"threshold0":5}}\n' >"$T/g.json"
t_run replay --format json -p "$T/u.json" -p "$T/g.json" "$T/al.trace"
t_is "a policy file chooses; one that sets another knob does not" \
	"$(lost 0) $(lost 1) $(jqv .traces[0].warnings[0])|$(jqv .traces[0].warnings[1])" \
	"16384 0 $T/g.json: $FACT|$UNTYPED"
# A policy without pymalloc has no such knob; a value the knob does not
# take is ignored (metadata is informational).
t_run replay --format json -p malloc "$T/al.trace"
t_is "no pymalloc: nothing applied" "$(jqv .traces[0].warnings)" "[\"$UNTYPED\"]"
sed 's/"aligned"/"sideways"/' "$T/al.trace" >"$T/odd.trace"
t_run replay --format json -p cpython-3.13 "$T/odd.trace"
t_is "an unknown value: ignored" "$(lost 0) $(jqv .traces[0].warnings)" "16384 [\"$UNTYPED\"]"

# The recorded runtime against the presets asked for.
printf '#memsim-trace 2 {"runtime":"cpython-3.13.0"}\na 1 64 list\n' >"$T/r13.trace"
t_run replay --format json -p cpython-3.11 -p cpython-3.12:gc.threshold0=5 "$T/r13.trace"
t_is "3.13 trace, only 3.11 and 3.12 presets: warned" "$(jqv .traces[0].warnings[0])" \
	"the trace was recorded under cpython-3.13.0, but no policy models CPython 3.13 (cpython-3.11 is another version): add -p cpython-3.13 to compare with the recorded runtime"
t_run replay --format json -p cpython-3.11 -p cpython-3.13-mimalloc "$T/r13.trace"
t_is "with a 3.13 preset beside them: a comparison, no warning" "$(jqv .traces[0].warnings)" "[]"
t_run replay --format json -p malloc "$T/r13.trace"
t_is "no cpython preset at all: no warning" "$(jqv .traces[0].warnings)" "[]"
# tools/pyrec's version-1 headers name the version as "python".
printf '#memsim-trace 1 {"source":"pyrec","python":"3.12.1"}\na 1 64 list\n' >"$T/p12.trace"
t_run replay -p cpython-3.11 "$T/p12.trace"
t_like "\"python\":\"3.12.1\" read as cpython-3.12.1" "$(unwrap "$T_OUT")" \
	"  the trace was recorded under cpython-3.12.1, but no policy models CPython 3.12 (cpython-3.11 is another version)"
t_done
