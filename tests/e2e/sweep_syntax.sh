#!/bin/bash
# Sweep sets in -p and policy files (sim/sweep.c, docs/sweeps.md): the
# cross product, ranges, the names, and every error. Expected names are
# written out by hand from the rules; replay results of a sweep are
# compared with replays of the same policies written one by one.
. "$ROOT/tests/lib.sh"
TR="$ROOT/traces/cycle.trace"

expand() { t_run policies --expand "$@"; }

# The cross product, first set slowest, named by the values the knobs took.
expand 'cpython-3.11:allocator.arena_size={64K,256K}:gc.threshold0={700,2000}'
t_is "product: exit 0" "$T_STATUS" 0
t_is "product: 2 x 2 names" "$T_OUT" "cpython-3.11[arena_size=65536,threshold0=700]
cpython-3.11[arena_size=65536,threshold0=2000]
cpython-3.11[arena_size=262144,threshold0=700]
cpython-3.11[arena_size=262144,threshold0=2000]"

# Doubling: 1K, 2K, ... 4M is 1024 * 2^0..2^12, 13 values; the last 4194304.
expand 'cpython-3.11:freelists.mode=shared:freelists.max_bytes={1K..4M*2}'
t_is "doubling range: 13 values" "$(printf '%s\n' "$T_OUT" | wc -l)" 13
t_is "doubling range: first" "$(printf '%s\n' "$T_OUT" | head -1)" "cpython-3.11:freelists.mode=shared[max_bytes=1024]"
t_is "doubling range: last" "$(printf '%s\n' "$T_OUT" | tail -1)" "cpython-3.11:freelists.mode=shared[max_bytes=4194304]"
# Adding: 700, 1400, ..., 9800 (14 * 700 = 9800; 15 * 700 = 10500 > 10000).
expand 'cpython-3.11:gc.threshold0={700..10000+700}'
t_is "step range: 14 values" "$(printf '%s\n' "$T_OUT" | wc -l)" 14
t_is "step range: last 9800" "$(printf '%s\n' "$T_OUT" | tail -1)" "cpython-3.11[threshold0=9800]"
# Without a step the step is 1; hex and suffixes in ranges; the end itself
# is included when reached.
expand 'cpython-3.11:gc.threshold1={0x8..10}'
t_is "step 1, hex start" "$T_OUT" "cpython-3.11[threshold1=8]
cpython-3.11[threshold1=9]
cpython-3.11[threshold1=10]"
# Ranges and single values mix; choices and switches are swept by name;
# a fixed override stays in the name as written.
expand 'cpython-3.11:gc.threshold2=20:freelists.mode={shared,none}:gc.deferred={true,false}'
t_is "words and switches" "$T_OUT" "cpython-3.11:gc.threshold2=20[mode=shared,deferred=true]
cpython-3.11:gc.threshold2=20[mode=shared,deferred=false]
cpython-3.11:gc.threshold2=20[mode=none,deferred=true]
cpython-3.11:gc.threshold2=20[mode=none,deferred=false]"
# Two knobs of one name (allocator.policy and system.policy) keep their
# section in the name.
expand 'cpython-3.11:allocator.policy={pymalloc}:system.policy={glibc}'
t_is "alike knobs get their section" "$T_OUT" \
	"cpython-3.11[allocator.policy=pymalloc,system.policy=glibc]"
# A value holding ',' is quoted in the name.
expand 'cpython-3.11:gc.untracked_types={"int,float",float}:gc.tracked_types={"list"}'
t_is "quoted values" "$(printf '%s\n' "$T_OUT" | head -1)" \
	'cpython-3.11[untracked_types="int,float",tracked_types=list]'

# Sets in a policy file: "{...}" strings, expanded before -p's sets.
cat >"$T/sweep.json" <<'JSON'
{"base": "cpython-3.11", "allocator": {"arena_size": "{256K,1M}"},
 "gc": {"threshold0": "{700,0x7d0}"}}
JSON
expand "$T/sweep.json:gc.threshold1={5,10}"
t_is "file sets: 2 x 2 x 2" "$(printf '%s\n' "$T_OUT" | wc -l)" 8
t_is "file sets: first" "$(printf '%s\n' "$T_OUT" | head -1)" "$T/sweep.json[arena_size=262144,threshold0=700,threshold1=5]"
t_is "file sets: last (0x7d0 = 2000)" "$(printf '%s\n' "$T_OUT" | tail -1)" "$T/sweep.json[arena_size=1048576,threshold0=2000,threshold1=10]"
t_run policies --show "$T/sweep.json"
t_is "--show of a file with sets: 78" "$T_STATUS" 78
t_like "--show of a file with sets: why" "$T_ERR" "allocator.arena_size: '{256K,1M}' is a sweep set, which only replay and sweep expand"

# A sweep replays exactly like its variants written one by one.
t_run replay -q --format csv -p 'cpython-3.11:allocator.arena_size={256K,1M}:gc.threshold0={100,700}' "$TR"
sweep_csv=$T_OUT
t_run replay -q --format csv -p cpython-3.11:allocator.arena_size=262144:gc.threshold0=100 \
	-p cpython-3.11:allocator.arena_size=262144:gc.threshold0=700 \
	-p cpython-3.11:allocator.arena_size=1048576:gc.threshold0=100 \
	-p cpython-3.11:allocator.arena_size=1048576:gc.threshold0=700 "$TR"
t_is "sweep = its variants, number for number" \
	"$(printf '%s\n' "$sweep_csv" | tail -n +2 | sed 's/^[^,]*,"[^"]*"//')" \
	"$(printf '%s\n' "$T_OUT" | tail -n +2 | sed 's/^[^,]*,[^,]*//')"
t_is "sweep columns named by settings" "$(printf '%s\n' "$sweep_csv" | sed -n 2p | cut -d'"' -f2)" \
	"cpython-3.11[arena_size=262144,threshold0=100]"
t_run replay -q --format json --baseline 'cpython-3.11[arena_size=262144]' \
	-p 'cpython-3.11:allocator.arena_size={256K,1M}' "$TR"
t_is "a variant is a --baseline" "$(jqv .baseline)" "cpython-3.11[arena_size=262144]"

# Errors: exit 78 for a set or range that makes no policy, 64 for too many
# or twice the same; each names the specification and what is wrong.
serr() { # DESC STATUS MESSAGE SPEC...
	local d=$1 st=$2 msg=$3 a=()
	shift 3
	for s in "$@"; do a+=(-p "$s"); done
	t_run replay -q "${a[@]}" "$TR"
	t_is "$d: exit $st" "$T_STATUS" "$st"
	t_like "$d: message" "$T_ERR" "$msg"
	t_is "$d: no report" "$T_OUT" ""
}
serr "empty set" 78 "cpython-3.11:gc.threshold0={}: gc.threshold0: the set '{}' is empty: it expands to no policy" 'cpython-3.11:gc.threshold0={}'
serr "empty range" 78 "gc.threshold0: the range '5..1' is empty (its start is past its end)" 'cpython-3.11:gc.threshold0={5..1}'
serr "step 0" 78 "gc.threshold0: the range '1..10+0' does not terminate (a step of 0 never moves)" 'cpython-3.11:gc.threshold0={1..10+0}'
serr "factor 1" 78 "the range '1..10*1' does not terminate (a factor below 2 never grows)" 'cpython-3.11:gc.threshold0={1..10*1}'
serr "doubling 0" 78 "the range '0..10*2' does not terminate (0 times anything stays 0)" 'cpython-3.11:gc.threshold0={0..10*2}'
serr "bad range end" 78 "the range's end '4X' is not a whole number" 'cpython-3.11:allocator.arena_size={1K..4X*2}'
serr "empty item" 78 "the set '{1,,2}' has an empty item" 'cpython-3.11:gc.threshold0={1,,2}'
serr "unclosed set" 78 "gc.threshold0: the set '{' has no closing '}'" 'cpython-3.11:gc.threshold0={1,2'
serr "a bad value names its variant" 78 "cpython-3.11[arena_size=20000]: allocator (pymalloc)" 'cpython-3.11:allocator.arena_size={256K,20000}'
# 100 x 101 = 10100 > 10000.
serr "over 10000 without --force" 64 "more than 10000 policies: add --force to allow up to 100000" \
	'cpython-3.11:gc.threshold0={1..100}:gc.threshold1={0..100}'
serr "a range past the limit stops early" 64 "more than 10000 policies" 'cpython-3.11:gc.threshold0={0..0xffffffff}'
serr "two specs past the limit" 64 "more than 10000 policies" \
	'cpython-3.11:gc.threshold0={1..5000}' 'cpython-3.12:gc.threshold0={1..5001}'
serr "one value twice in a set" 64 "names the policy 'cpython-3.11[arena_size=65536]' twice (a set holds one value twice" \
	'cpython-3.11:allocator.arena_size={64K,65536}'
serr "-p X -p X" 64 "policy 'cpython-3.11' is given twice (each -p is one column; a baseline must name one)" cpython-3.11 cpython-3.11
serr "a sweep and a -p naming one policy" 64 "policy 'cpython-3.11[threshold0=700]' is given twice (by -p 'cpython-3.11:gc.threshold0={100,700}' and -p 'cpython-3.11:gc.threshold0={700}'" 'cpython-3.11:gc.threshold0={100,700}' 'cpython-3.11:gc.threshold0={700}'
expand 'cpython-3.11:gc.threshold0={1..100}:gc.threshold1={0..100}' --force
t_is "--force: 10100 policies" "$(printf '%s\n' "$T_OUT" | wc -l)" 10100
t_done
