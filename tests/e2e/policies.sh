#!/bin/bash
# Presets, policy files and PRESET:KEY=VALUE derivations, and their errors.
# Expected knob values are CPython's own constants (docs/policies.md cites
# each): 3.11 uses 1 MiB arenas of 16 KiB pools, 2.4 256 KiB arenas of
# 4 KiB pools; thresholds 700/10/10, 2000 for generation 0 in 3.13.
. "$ROOT/tests/lib.sh"

t_run policies
t_is "policies: exit 0" "$T_STATUS" 0
t_is "policies: thirteen presets" "$(printf '%s\n' "$T_OUT" | wc -l | tr -d ' ')" 13
t_like "policies: 2.4 listed" "$T_OUT" "cpython-2.4"
t_like "policies: malloc listed" "$T_OUT" "malloc "

t_run policies --show cpython-3.11
t_is "3.11: arena 1 MiB" "$(jqv .allocator.arena_size)" 1048576
t_is "3.11: pool 16 KiB" "$(jqv .allocator.pool_size)" 16384
t_is "3.11: threshold 512" "$(jqv .allocator.small_request_threshold)" 512
t_is "3.11: gc thresholds" "$(jqv .gc.threshold0)/$(jqv .gc.threshold1)/$(jqv .gc.threshold2)" 700/10/10
t_is "3.11: collection runs in the allocation" "$(jqv .gc.deferred)" false
t_run policies --show cpython-3.12
t_is "3.12: collection deferred to a safe point" "$(jqv .gc.deferred)" true
t_run policies --show cpython-3.13
t_is "3.13: threshold0 2000" "$(jqv .gc.threshold0)" 2000
t_run policies --show cpython-2.4
t_is "2.4: arena 256 KiB" "$(jqv .allocator.arena_size)" 262144
t_is "2.4: never released" "$(jqv .allocator.arena_release)" never
t_is "2.4: arenas from malloc" "$(jqv .allocator.arena_source)" malloc
t_is "2.4: Python 2 int blocks" "$(jqv .freelists.python2_blocks)" true
t_run policies --show malloc
t_is "malloc: glibc serves everything" "$(jqv .allocator.policy)" glibc

# A derivation keeps its full name and changes only what it names.
t_run policies --show cpython-3.11:allocator.arena_size=262144,freelists.mode=shared
t_is "derived: name as given" "$(jqv .name)" "cpython-3.11:allocator.arena_size=262144,freelists.mode=shared"
t_is "derived: arena changed" "$(jqv .allocator.arena_size)" 262144
t_is "derived: pool kept" "$(jqv .allocator.pool_size)" 16384
t_is "derived: free lists switched" "$(jqv .freelists.mode)" shared
t_run replay --format json -p cpython-3.11:allocator.arena_size=262144 "$ROOT/traces/cycle.trace"
t_is "derived: report names it as given" "$(jqv .traces[0].policies[0].name)" "cpython-3.11:allocator.arena_size=262144"

# A file may start from a preset and change only what differs; --show of
# a file prints the full policy.
cat >"$T/small-arenas.json" <<'JSON'
{"base": "cpython-3.11", "summary": "3.11 with 256 KiB arenas",
 "allocator": {"arena_size": 262144}, "gc": {"threshold0": 100}}
JSON
t_run policies --show "$T/small-arenas.json"
t_is "file: exit 0" "$T_STATUS" 0
t_is "file: arena" "$(jqv .allocator.arena_size)" 262144
t_is "file: threshold0" "$(jqv .gc.threshold0)" 100
t_is "file: the rest from the base" "$(jqv .allocator.pool_size)" 16384
t_is "file: summary" "$(jqv .summary)" "3.11 with 256 KiB arenas"
cp "$T/small-arenas.json" "$T/derived.json"
printf '{"base": "%s", "gc": {"threshold1": 5}}\n' "$T/small-arenas.json" >"$T/chain.json"
t_run policies --show "$T/chain.json"
t_is "file chain: both changes" "$(jqv .allocator.arena_size) $(jqv .gc.threshold1)" "262144 5"

# Errors: exit 78 with the key, the value and what is wrong.
perr() { # DESC SPEC EXPECTED-MESSAGE-PART [STATUS]
	t_run policies --show "$2"
	t_is "$1: exit ${4:-78}" "$T_STATUS" "${4:-78}"
	t_like "$1: message" "$T_ERR" "$3"
	t_is "$1: stdout empty" "$T_OUT" ""
}
perr "unknown preset" cpython-9.9 "unknown policy 'cpython-9.9'"
perr "unknown knob" cpython-3.11:allocator.arena_sise=1 "allocator.arena_sise: unknown key for allocator 'pymalloc'"
perr "wrong type" cpython-3.11:allocator.arena_size=big "allocator.arena_size: expected a whole number, not a string"
perr "not whole" cpython-3.11:allocator.arena_size=1.5 "allocator.arena_size: expected a whole number, not 1.5"
perr "bad enum" cpython-3.11:allocator.arena_release=sometimes "allocator.arena_release: unknown value 'sometimes' (one of: never, empty, keep-one)"
perr "bad implementation" cpython-3.11:freelists.mode=magic "freelists.mode: unknown implementation 'magic'"
perr "unknown section" cpython-3.11:alloc.arena_size=1 "unknown key 'alloc'"
perr "override syntax" cpython-3.11:arena_size=1 "bad override 'arena_size=1' (expected SECTION.KEY=VALUE)"
# 20000 is not a multiple of the 16 KiB pool: an invariant, checked after
# every knob is set.
perr "arena not a multiple of the pool" cpython-3.11:allocator.arena_size=20000 "allocator (pymalloc): pymalloc:"
printf '{"allocator": {"arena_size": }\n' >"$T/broken.json"
perr "invalid JSON" "$T/broken.json" "policy is not valid JSON"
t_like "invalid JSON: line named" "$T_ERR" "broken.json:1:"
printf '{"base": "%s"}\n' "$T/b.json" >"$T/a.json"
printf '{"base": "%s"}\n' "$T/a.json" >"$T/b.json"
perr "base cycle" "$T/a.json" "base chain deeper than 16"
perr "missing file" "$T/none.json" "cannot open policy" 66
t_run replay -p cpython-9.9 "$ROOT/traces/cycle.trace"
t_is "replay with a bad policy: exit 78" "$T_STATUS" 78
t_run replay "$ROOT/traces/cycle.trace"
t_is "replay without a policy: exit 64" "$T_STATUS" 64
t_done
