#!/bin/bash
# Seed scenario 5: arena pinning (docs/scenarios.md). `gen-scenario
# pinning -n N -f F`: N 32-byte objects, all freed except every 100th,
# then a follow-up phase of F new 32-byte objects. N = 300,000 (100,000
# under the sanitizer build; same formulas; the comments give N = 10^6).
. "$ROOT/tests/lib.sh"
scenario_setup 300000 100000
# 2.x: the 32-byte class (alignment 8 in 2.4/2.5, 16 in 2.7) holds
# (4096 - 48) / 32 = 126 blocks a pool; a malloc'd arena (a 266240-byte
# glibc mapping, all resident) holds 63 pools. The first malloc also
# made glibc's brk heap for its tcache struct (a 656-byte chunk at the
# heap's start, docs/policies.md): one more resident page.
pools=$(( (N + 125) / 126 ))           # 7937 for 10^6
arenas=$(( (pools + 62) / 63 ))        # 126
peak=$(( arenas * 266240 + 4096 ))     # 33550336
# Pool p holds objects 126(p-1)+1 .. 126p: 126 > 100, so every pool holds
# a multiple of 100 (the last one holds N itself): every pool, hence every
# arena, is pinned. Free blocks in the pinned pools after the free phase:
# holes = pools * 126 - N / 100 (990062). Free pools: the arenas' unused
# tail, arenas * 63 - pools (1).
holes=$(( pools * 126 - N / 100 ))
spare=$(( arenas * 63 - pools ))

run() { # F: replays pinning with a follow-up of F under 2.4, 2.5, 2.7
	"$GEN" pinning -n "$N" -f "$1" >"$T/pin.trace"
	scenario_replay "$T/pin.trace" cpython-2.4 cpython-2.5 cpython-2.7
	t_is "F=$1: replay succeeds" "$T_STATUS" 0
}
# 1. Follow-up of N/2: it fits in the holes. In every version pymalloc
#    fills a partly used pool of the class (usedpools) before it asks any
#    arena for a pool, so no pool and no arena is added: the
#    selection rule (2.4 current-arena, 2.5+ fullest-first) never runs.
F=$(( N / 2 ))
run "$F"
for i in 0 1 2; do
	name=$(pol $i name)
	t_is "$name: arenas at the peak" "$(pol $i pymalloc arenas_highwater)" "$arenas"
	t_is "$name: no arena released (all pinned)" "$(pol $i pymalloc arenas_reclaimed)" 0
	t_is "$name: no arena added by the follow-up" "$(pol $i pymalloc arenas_allocated_total)" "$arenas"
	t_is "$name: final RSS = peak" "$(pol $i final_rss_bytes)" "$peak"
	t_is "$name: final live = (N/100 + F) * 32" "$(pol $i final_live_bytes)" $(( (N / 100 + F) * 32 ))
	t_is "$name: spare pools untouched" "$(pol $i pymalloc unused_pools)" "$spare"
done
# 2. Follow-up of holes + spare * 126 + 1: the holes and the spare pools
#    are full, and the next object needs a new arena (and no sooner:
#    holes + spare * 126 objects still fit).
run $(( holes + spare * 126 ))
t_is "holes + spare pools fill exactly: no new arena (2.5)" "$(pol 1 pymalloc arenas_allocated_total)" "$arenas"
t_is "holes + spare pools fill exactly: 0 unused pools (2.5)" "$(pol 1 pymalloc unused_pools)" 0
run $(( holes + spare * 126 + 1 ))
for i in 0 1 2; do
	name=$(pol $i name)
	t_is "$name: one more object, one more arena" "$(pol $i pymalloc arenas_allocated_total)" $(( arenas + 1 ))
	t_is "$name: its 62 other pools unused" "$(pol $i pymalloc unused_pools)" 62
	t_is "$name: RSS one arena more" "$(pol $i final_rss_bytes)" $(( peak + 266240 ))
done
# 3. Control, nothing pinned (-k 0), follow-up N/2: 2.4 keeps all arenas
#    (its pools go to the global free-pool list and serve the follow-up);
#    2.5 and 2.7 free every arena as it empties, then take
#    ceil(ceil(F / 126) / 63) = 63 new ones (3969 pools) for the follow-up,
#    from the brk heap this time (freeing a 266240-byte mapping raised
#    glibc's mmap threshold to 266240): 63 chunks of 262160 bytes after
#    the 656-byte tcache chunk, resident up to the top chunk's header:
#    ceil((656 + 63 * 262160 + 16) / 4096) pages.
"$GEN" pinning -n "$N" -k 0 -f "$F" >"$T/pin.trace"
scenario_replay "$T/pin.trace" cpython-2.4 cpython-2.5 cpython-2.7
follow_arenas=$(( ( (F + 125) / 126 + 62) / 63 ))
t_is "unpinned 2.4: nothing released" "$(pol 0 pymalloc arenas_reclaimed)" 0
t_is "unpinned 2.4: final RSS = peak" "$(pol 0 final_rss_bytes)" "$peak"
for i in 1 2; do
	name=$(pol $i name)
	t_is "$name unpinned: every arena released" "$(pol $i pymalloc arenas_reclaimed)" "$arenas"
	t_is "$name unpinned: follow-up arenas" "$(pol $i pymalloc arenas_allocated_current)" "$follow_arenas"
	t_is "$name unpinned: final RSS" "$(pol $i final_rss_bytes)" \
		$(( (656 + follow_arenas * 262160 + 16 + 4095) / 4096 * 4096 ))
done
t_done
