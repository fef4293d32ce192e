#!/bin/bash
# The mimalloc model through the command line: the preset, the
# free-threaded build's heaps chosen by how the collector sees a type,
# purging driven by `@` times, and knob errors. Expected values are
# mimalloc 2.1.2's arithmetic, worked out beside each check
# (docs/policies.md, "Allocator: mimalloc"); tests/e2e/cpython_mimalloc.sh
# compares with a real CPython 3.13.
. "$ROOT/tests/lib.sh"

mi() { # JQ-PATH under the first policy's .mimalloc
	jqv ".traces[0].policies[0].mimalloc.$1"
}

t_run policies --show cpython-3.13-mimalloc
t_is "preset: mimalloc allocator" "$(jqv .allocator.policy)" mimalloc
t_is "preset: one heap" "$(jqv .allocator.heaps)" one
t_is "preset: purge delay 10 ms" "$(jqv .allocator.purge_delay)" 10
t_is "preset: arenas of 1 GiB" "$(jqv .allocator.arena_reserve)" 1073741824
t_is "preset: the 3.13 collector" "$(jqv .gc.threshold0)" 2000

# Four 32-byte requests of four kinds: a list (a listed container), a
# float (not tracked), a Foo (tracked, not listed: a Python class) and an
# untyped block (PyMem). One heap: one 32-byte page; the free-threaded
# heaps: four pages of (65536 - 96) / 32 = 2045 blocks.
cat >"$T/kinds.trace" <<'TR'
#memsim-trace 1
a 1 32 list
a 2 32 float
a 3 32 Foo
a 4 32
TR
t_run replay --format json -p cpython-3.13-mimalloc "$T/kinds.trace"
t_is "one heap: one page" "$(mi pages)" 1
t_is "one heap: reserved 2045 x 32" "$(mi bytes_reserved)" 65440
t_run replay --format json -p cpython-3.13-mimalloc:allocator.heaps=free-threaded "$T/kinds.trace"
t_is "free-threaded heaps: four pages" "$(mi pages)" 4
t_is "free-threaded heaps: reserved 4 x 2045 x 32" "$(mi bytes_reserved)" 261760
t_is "free-threaded heaps: four blocks" "$(mi allocated_blocks)" 4

# Purging: two 200 KiB blocks take 256 KiB pages (slices 1-4 and 5-8 of
# the first segment); freeing the first schedules its 4 slices for 10 ms
# later; a medium page taken at 20 ms purges them: the footprint (the
# committed segment) drops by 4 x 64 KiB. Without `@`, 6 events at 15 ns
# are far from 10 ms: nothing is purged.
cat >"$T/purge.trace" <<'TR'
#memsim-trace 1
@ 0
a 1 204800
a 2 204800
f 1
@ 20000000
a 3 20000
TR
t_run replay --format json -p cpython-3.13-mimalloc "$T/purge.trace"
t_is "purge at 20 ms: 4 slices" "$(mi slices_purged)" 4
t_is "purge at 20 ms: footprint 32 MiB - 256 KiB" \
	"$(jqv .traces[0].policies[0].final_footprint_bytes)" 33292288
grep -v '^@' "$T/purge.trace" >"$T/untimed.trace"
t_run replay --format json -p cpython-3.13-mimalloc "$T/untimed.trace"
t_is "no @ times: nothing purged" "$(mi slices_purged)" 0
t_is "no @ times: footprint 32 MiB" "$(jqv .traces[0].policies[0].final_footprint_bytes)" 33554432
# purge_delay 0 purges at the free itself
t_run replay --format json -p cpython-3.13-mimalloc:allocator.purge_delay=0 "$T/untimed.trace"
t_is "purge_delay 0: purged at once" "$(mi slices_purged)" 4

t_run replay -p cpython-3.13-mimalloc:allocator.arena_reserve=50000000 "$T/kinds.trace"
t_is "arena_reserve not a multiple of 32 MiB: exit 78" "$T_STATUS" 78
t_like "arena_reserve: says why" "$T_ERR" "arena_reserve must be a multiple of 32 MiB"
t_run replay -p cpython-3.13-mimalloc:allocator.heaps=two "$T/kinds.trace"
t_is "heaps=two: exit 78" "$T_STATUS" 78
t_like "heaps=two: lists the choices" "$T_ERR" "one of: one, free-threaded"
t_done
