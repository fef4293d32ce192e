#!/bin/bash
# Seed scenario 2: "private per-type pools" (docs/scenarios.md). Replays
# the bundled traces/int-then-float.trace.gz (100,000 24-byte ints created
# and freed, then 100,000 24-byte floats) and traces/list-churn.trace.gz
# (200 rounds of 100 lists), and checks numbers derived by hand from
# docs/freelists.md, docs/policies.md and docs/metrics.md.
. "$ROOT/tests/lib.sh"
N=100000

# --- int-then-float under cpython-2.7: per-type vs shared ---------------
# Per-type (Python 2 int/float blocks): a block holds (1000 - 8) / 24 = 41
# objects, so N objects need ceil(N / 41) = 2440 blocks (2439 * 41 =
# 99999): 2440 misses and N - 2440 = 97560 hits for the ints, the same
# again for the floats, which cannot use the ints' free objects. Every
# float miss happens while the int list holds >= 992 bytes, so the floats'
# blocked bytes are 2440 * 992.
blocks=$(( (N + 40) / 41 ))
# Each block is malloc(992): a glibc chunk of max(32, round_up(992 + 8,
# 16)) = 1008 bytes, below the mmap threshold, carved from the brk heap
# one after the other. All 2 * 2440 stay allocated (blocks are only freed
# by a full collection, and this trace has none): peak allocated =
# 4880 * 1008. They follow the 656-byte chunk of glibc's tcache struct,
# which the first malloc allocates at the heap's start (docs/policies.md,
# glibc rule 1). The brk heap's resident pages reach the top chunk's
# header (top + 16): ceil((656 + 4880 * 1008 + 16) / 4096) = 1202 pages.
pt_alloc=$(( 2 * blocks * 1008 ))
pt_rss=$(( (656 + pt_alloc + 16 + 4095) / 4096 * 4096 ))
# Shared cache (max_bytes 262144; 24-byte objects share one class): while
# the ints die the first floor(262144 / 24) = 10922 park and the other
# 89078 go back to pymalloc; the floats pop those 10922 and take 89078
# blocks from pymalloc. The peak is the int phase, N live 24-byte
# objects in pymalloc: 2.7's 32-byte class (16-byte alignment) holds
# (4096 - 48) / 32 = 126 blocks a pool, ceil(N / 126) = 794 pools, 63 pools
# an arena (a malloc'd arena is not pool-aligned and loses one),
# ceil(794 / 63) = 13 arenas, each a 266240-byte glibc mapping, resident
# at once, plus the brk heap's first page, where the first malloc put
# glibc's tcache struct. 2.5 (8-byte alignment) uses the 24-byte class: 168 blocks a
# pool, ceil(N / 168) = 596 pools, ceil(596 / 63) = 10 arenas.
parked=$(( 262144 / 24 ))
sh27_rss=$(( ( ( (N + 125) / 126 + 62) / 63) * 266240 + 4096 ))
sh25_rss=$(( ( ( (N + 167) / 168 + 62) / 63) * 266240 + 4096 ))

scenario_replay "$ROOT/traces/int-then-float.trace.gz" \
	cpython-2.7 cpython-2.7:freelists.mode=shared \
	cpython-2.5 cpython-2.5:freelists.mode=shared
t_is "int-then-float: replay succeeds" "$T_STATUS" 0
for i in 0 2; do
	name=$(pol $i name)
	t_is "$name: int misses = ceil(N/41)" "$(ftype $i int misses)" "$blocks"
	t_is "$name: int hits = N - 2440" "$(ftype $i int hits)" $((N - blocks))
	t_is "$name: float misses = ceil(N/41)" "$(ftype $i float misses)" "$blocks"
	t_is "$name: float hits = N - 2440" "$(ftype $i float hits)" $((N - blocks))
	t_is "$name: float blocked bytes = 2440 * 992" "$(ftype $i float blocked_bytes)" $((blocks * 992))
	t_is "$name: int blocks still held" "$(ftype $i int blocks)" "$blocks"
	t_is "$name: peak allocated = 4880 * 1008" "$(pol $i peak_allocated_bytes)" "$pt_alloc"
	t_is "$name: peak RSS = 1202 pages" "$(pol $i peak_rss_bytes)" "$pt_rss"
	t_is "$name: final RSS = peak (blocks never freed)" "$(pol $i final_rss_bytes)" "$pt_rss"
done
for i in 1 3; do
	name=$(pol $i name)
	t_is "$name: float hits = floor(262144/24)" "$(ftype $i float hits)" "$parked"
	t_is "$name: float misses = N - 10922" "$(ftype $i float misses)" $((N - parked))
	t_is "$name: blocked bytes 0" "$(pol $i freelists blocked_bytes)" 0
	t_is "$name: held bytes peak = 10922 * 24" "$(pol $i freelists held_bytes_peak)" $((parked * 24))
done
t_is "cpython-2.7 shared: peak RSS = 13 arenas" "$(pol 1 peak_rss_bytes)" "$sh27_rss"
t_is "cpython-2.5 shared: peak RSS = 10 arenas" "$(pol 3 peak_rss_bytes)" "$sh25_rss"
# The seed's "about twice": per-type / shared peak RSS, in percent.
# 2.5: 4919296 / 2662400 = 1.85; 2.7: 4919296 / 3461120 = 1.42 (the
# 16-byte alignment puts a 24-byte object in a 32-byte block, a third
# more than Python 2's blocks spend on it).
t_is "2.5: per-type peak / shared peak = 184% (truncated)" $(( $(pol 2 peak_rss_bytes) * 100 / $(pol 3 peak_rss_bytes) )) 184
t_is "2.7: per-type peak / shared peak = 142% (truncated)" $(( $(pol 0 peak_rss_bytes) * 100 / $(pol 1 peak_rss_bytes) )) 142

# --- list churn under the 80-entry limit --------------------------------
# Round 1 creates 100 lists from the allocator (100 misses); dropping
# them parks 80 headers (PyList_MAXFREELIST) and frees 20. Each later
# round pops the 80 (hits) and takes 20 new (misses), and parks 80 again.
# 200 rounds: hits = 199 * 80 = 15920, misses = 100 + 199 * 20 = 4080.
# The collector never runs: gen-0 count rises only on the 20 allocator
# lists a round and falls on the 20 freed, so it stays <= 100 < 700.
scenario_replay "$ROOT/traces/list-churn.trace.gz" cpython-2.7 cpython-3.11
t_is "list-churn: replay succeeds" "$T_STATUS" 0
for i in 0 1; do
	name=$(pol $i name)
	t_is "$name: list hits = 199 * 80" "$(ftype $i list hits)" 15920
	t_is "$name: list misses = 100 + 199 * 20" "$(ftype $i list misses)" 4080
	t_is "$name: no collections" "$(gens $i collections)" "[0, 0, 0]"
	t_is "$name: 80 headers parked at the end" "$(ftype $i list held_bytes)" $((80 * 56))
done
t_done
