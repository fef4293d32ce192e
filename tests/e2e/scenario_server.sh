#!/bin/bash
# Seed scenario 4: "applications always hold the peak" (docs/scenarios.md).
# `gen-scenario server -n R -k K`: 7000 long-lived 32-byte objects, then R
# requests of 100 short-lived 32-byte objects; every 100th request is a
# spike of 50,000 objects, all freed (creation order) except every K-th.
# R = 1000 (10 spikes); 300 (3 spikes) under the sanitizer build.
. "$ROOT/tests/lib.sh"
scenario_setup 1000 300
R=$N
spikes=$(( R / 100 ))
# 3.8: 32-byte class, 126 blocks a 4 KiB pool; an arena is a 256 KiB
# page-aligned mapping of 64 pools (no alignment loss); RSS is one page
# per pool ever initialised in a held arena (docs/metrics.md).
# Baseline: 7000 = 55 full pools + 70 in pool 56. A request fills pool 56
# (56) and takes pool 57 (44); freeing empties pool 57, which stays in
# arena 1. A spike: pool 56 (56), pool 57 (126), pools 58..64 (7 * 126 =
# 882) = 1064 in arena 1; the other 48936 need ceil(48936 / 126) = 389
# pools in new arenas: 7 of them (6 * 64 + 5). Peak: 8 arenas,
# 64 + 389 = 453 pages.
new_pools=$(( (50000 - 56 - 126 - 7 * 126 + 125) / 126 ))
new_arenas=$(( (new_pools + 63) / 64 ))
peak38=$(( (64 + new_pools) * 4096 ))
# 2.4: 8-byte alignment, the same 126 blocks a pool, 63 pools a malloc'd
# arena (266240-byte mapping, resident at once), never released. Spike:
# 56 + 126 + 6 * 126 = 938 in arena 1, ceil(49062 / 126) = 390 pools, 7
# new arenas (6 * 63 + 12). Later spikes reuse the freed pools (the
# global free-pool list): 8 arenas for good. Plus one page: the first
# malloc made glibc's brk heap for its 656-byte tcache struct.
peak24=$(( (1 + ( (50000 - 938 + 125) / 126 + 62) / 63) * 266240 + 4096 ))

# --- clean spikes (-k 0) --------------------------------------------------
"$GEN" server -n "$R" -k 0 >"$T/server.trace"
scenario_replay "$T/server.trace" cpython-3.8 cpython-2.4
t_is "clean: replay succeeds" "$T_STATUS" 0
t_is "3.8 clean: 8 arenas at the peak" "$(pol 0 pymalloc arenas_highwater)" $(( 1 + new_arenas ))
t_is "3.8 clean: peak RSS = 453 pages" "$(pol 0 peak_rss_bytes)" "$peak38"
# Freed in creation order, arenas 2..8 empty and are unmapped after every
# spike; arena 1 keeps its 64 pages: the peak is not held.
t_is "3.8 clean: final RSS = arena 1's 64 pages" "$(pol 0 final_rss_bytes)" $(( 64 * 4096 ))
t_is "3.8 clean: 7 arenas mapped and unmapped per spike" "$(pol 0 pymalloc arenas_allocated_total)" $(( 1 + 7 * spikes ))
t_is "3.8 clean: arenas reclaimed" "$(pol 0 pymalloc arenas_reclaimed)" $(( 7 * spikes ))
t_is "2.4 clean: peak RSS = 8 arenas" "$(pol 1 peak_rss_bytes)" "$peak24"
t_is "2.4 clean: final RSS = peak (never released)" "$(pol 1 final_rss_bytes)" "$peak24"
t_is "2.4 clean: 8 arenas in all" "$(pol 1 pymalloc arenas_allocated_total)" 8

# --- spikes that leave every 1000th object alive (-k 1000) --------------
# Spike 1's 50 survivors sit at positions 1000, 2000, ..., 50000: one in
# arena 1 (pool 64), and at least one in each new arena (an arena spans
# 64 * 126 = 8064 > 1000 positions; 50000 is in arena 8): no arena can be
# freed. Later spikes fill the survivors' pools first, then free pools,
# fullest arena first, so arena 8's never-used pools come last: a spike
# touches a new pool only when its peak, 7000 + 50000 + 50 (s - 1) live
# objects, needs more than the pools touched so far. After the last
# spike: ceil((57000 + 50 * (spikes - 1)) / 126) pages (456 for 10
# spikes), and the final RSS is that peak.
pinned_pages=$(( (57000 + 50 * (spikes - 1) + 125) / 126 ))
"$GEN" server -n "$R" -k 1000 >"$T/server.trace"
scenario_replay "$T/server.trace" cpython-3.8 cpython-2.4
t_is "pinned: replay succeeds" "$T_STATUS" 0
t_is "3.8 pinned: 8 arenas, never freed" "$(pol 0 pymalloc arenas_allocated_total)" 8
t_is "3.8 pinned: none reclaimed" "$(pol 0 pymalloc arenas_reclaimed)" 0
t_is "3.8 pinned: peak RSS" "$(pol 0 peak_rss_bytes)" $(( pinned_pages * 4096 ))
t_is "3.8 pinned: final RSS = peak" "$(pol 0 final_rss_bytes)" $(( pinned_pages * 4096 ))
t_is "3.8 pinned: final live = (7000 + 50 per spike) * 32" "$(pol 0 final_live_bytes)" $(( (7000 + 50 * spikes) * 32 ))
t_is "2.4 pinned: final RSS = peak" "$(pol 1 final_rss_bytes)" "$peak24"
t_done
