#!/bin/bash
# Presets, policy files and PRESET:KEY=VALUE derivations, and their errors.
# Expected knob values are CPython's own constants (docs/policies.md cites
# each): 3.11 uses 1 MiB arenas of 16 KiB pools, 2.4 256 KiB arenas of
# 4 KiB pools; thresholds 700/10/10, 2000 for generation 0 in 3.13.
. "$ROOT/tests/lib.sh"

t_run policies
t_is "policies: exit 0" "$T_STATUS" 0
t_is "policies: twenty presets (sixteen models, four real:)" "$(printf '%s\n' "$T_OUT" | wc -l | tr -d ' ')" 20
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
perr "wrong type" cpython-3.11:allocator.arena_size=big "allocator.arena_size: expected a whole number (e.g. 4096, 64K, 0x1000), not 'big'"
perr "not whole" cpython-3.11:allocator.arena_size=1.5 "allocator.arena_size: expected a whole number (e.g. 4096, 64K, 0x1000), not '1.5'"
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
# Numbers as people write them (sim/units.h): K/M/G/T are powers of 1024,
# 0x is hexadecimal, in -p values and in policy files alike.
# threshold0=10K is 10 * 1024 = 10240 objects (it used to read as 10:
# cJSON stopped at the K and the rest was dropped).
t_run policies --show cpython-3.11:gc.threshold0=10K
t_is "10K: 10240 objects" "$(jqv .gc.threshold0)" 10240
# 256K = 262144 = 16 pools of 16 KiB (it was read as 256 and refused as
# not a multiple of the pool).
t_run policies --show cpython-3.11:allocator.arena_size=256K
t_is "256K arena: exit 0" "$T_STATUS" 0
t_is "256K arena: 262144 bytes" "$(jqv .allocator.arena_size)" 262144
t_run policies --show cpython-3.11:allocator.arena_size=0x40000:allocator.pool_size=4k
t_is "0x40000 = 262144, ':' separates too" "$(jqv .allocator.arena_size)" 262144
t_is "4k: 4096" "$(jqv .allocator.pool_size)" 4096
t_run policies --show cpython-3.11:allocator.arena_size=1M
t_is "1M = 1048576" "$(jqv .allocator.arena_size)" 1048576
t_run policies --show cpython-3.11:freelists.mode=shared,freelists.max_bytes=1G
t_is "1G = 1073741824" "$(jqv .freelists.max_bytes)" 1073741824
printf '{"base": "cpython-3.11", "allocator": {"arena_size": "512K"}, "gc": {"threshold0": "0x2bc", "cost_ref_ns": "2.5", "deferred": "true"}}\n' >"$T/strings.json"
t_run policies --show "$T/strings.json"
t_is "file: \"512K\" = 524288" "$(jqv .allocator.arena_size)" 524288
t_is "file: \"0x2bc\" = 700" "$(jqv .gc.threshold0)" 700
t_is "file: \"2.5\" as a number" "$(jqv .gc.cost_ref_ns)" 2.5
t_is "file: \"true\" as a switch" "$(jqv .gc.deferred)" true
# A quoted value may hold ',' and ':' (two type names here).
t_run policies --show 'cpython-3.11:gc.untracked_types="int,float"'
t_is "quoted value keeps its comma" "$(jqv .gc.untracked_types)" "int,float"
# Silent misreads are errors now: trailing text, a sign, a fraction, a
# number beyond 64 bits, text after a JSON policy document.
perr "trailing text" cpython-3.11:gc.threshold0=10Kb "gc.threshold0: expected a whole number (e.g. 4096, 64K, 0x1000), not '10Kb'"
perr "hex without digits" cpython-3.11:gc.threshold0=0x "not '0x'"
perr "negative" cpython-3.11:gc.threshold0=-1 "not '-1'"
perr "exponent" cpython-3.11:gc.threshold0=1e3 "not '1e3'"
perr "beyond 64 bits" cpython-3.11:gc.threshold0=16777216T "not '16777216T': too large for 64 bits"
perr "range after the suffix" cpython-3.11:gc.threshold0=4G "gc.threshold0: 4294967296 is out of range [0, 4294967295]"
perr "a switch is not 1" cpython-3.11:gc.deferred=1 "gc.deferred: expected true or false, not '1'"
perr "a number with junk" cpython-3.11:gc.cost_ref_ns=2.5ns "gc.cost_ref_ns: expected a number (e.g. 17.95), not '2.5ns'"
perr "a hex double" cpython-3.11:gc.cost_ref_ns=0x10 "gc.cost_ref_ns: expected a number"
perr "junk after a quoted value" 'cpython-3.11:gc.untracked_types="int"x' "gc.untracked_types: unexpected 'x' after the value"
perr "an unclosed quote" 'cpython-3.11:gc.untracked_types="int' "gc.untracked_types: the quoted value does not end"
printf '{"base": "cpython-3.11"} {"gc": {"threshold0": 1}}\n' >"$T/two.json"
perr "two documents in one file" "$T/two.json" "policy is not valid JSON"
# A key twice in one object would let the last win unseen.
printf '{"base": "cpython-3.11", "gc": {"threshold0": 1, "threshold0": 2}}\n' >"$T/dup1.json"
perr "a knob twice in a section" "$T/dup1.json" "gc.threshold0: the key appears twice"
printf '{"base": "cpython-3.11", "gc": {"threshold0": 1}, "gc": {"threshold1": 2}}\n' >"$T/dup2.json"
perr "a section twice" "$T/dup2.json" "gc: the key appears twice"
perr "a sweep set outside replay/sweep" 'cpython-3.11:gc.threshold0={1,2}' "gc.threshold0: '{1,2}' is a sweep set"
t_run replay -p cpython-9.9 "$ROOT/traces/cycle.trace"
t_is "replay with a bad policy: exit 78" "$T_STATUS" 78
t_run replay "$ROOT/traces/cycle.trace"
t_is "replay without a policy: exit 64" "$T_STATUS" 64
t_done
