/*
 * presets.c - built-in policies named after the runtimes they model.
 *
 * Each preset is the JSON form of a policy (docs/policies.md) and names
 * the preset it differs from as its "base", so the table below reads as
 * the history of CPython's memory policies, one change at a time. The
 * sources of every value are cited in docs/policies.md, knob by knob;
 * the comments here name the change each step makes. The gc sections'
 * cost_* knobs are tools/calibrate-gc's fits for each version on the
 * machine docs/gc.md names.
 */
#include "presets.h"

#include <string.h>

struct preset {
	const char *name;
	const char *summary;
	const char *json;
};

static const struct preset presets[] = {
	{ "cpython-2.4",
	  "CPython 2.3/2.4: pymalloc arenas from malloc, never released",
	  /* Objects/obmalloc.c 2.4: 256 KiB arenas, 4 KiB pools, 8-byte
	   * classes up to 256 bytes; new pools from the current arena and a
	   * global free-pool list; arenas are never freed. */
	  "{\"summary\": \"CPython 2.3/2.4: pymalloc arenas from malloc, never released\","
	  " \"allocator\": {\"policy\": \"pymalloc\", \"small_request_threshold\": 256,"
	  " \"alignment\": 8, \"pool_size\": 4096, \"arena_size\": 262144,"
	  " \"pool_header\": 48, \"arena_source\": \"malloc\", \"arena_release\": \"never\","
	  " \"arena_selection\": \"current-arena\", \"arena_alignment\": \"address\"},"
	  " \"system\": {\"policy\": \"glibc\"},"
	  /* Modules/gcmodule.c 2.4: three generations at 700/10/10, no
	   * 25% rule, no untracking, free lists not cleared. */
	  " \"gc\": {\"policy\": \"generational\", \"threshold0\": 700,"
	  " \"threshold1\": 10, \"threshold2\": 10, \"full_collection_rule\": false,"
	  " \"deferred\": false, \"untrack_tuples\": false, \"untrack_dicts\": \"never\","
	  " \"clear_freelists\": false,"
	  /* pause costs: tools/calibrate-gc on 2.7.18 (docs/gc.md). */
	  " \"cost_object_ns\": 17.95, \"cost_ref_ns\": 3.34, \"cost_fixed_ns\": 500},"
	  /* Objects/intobject.c, floatobject.c 2.4: private 1000-byte blocks
	   * never freed; list, dict (80) and tuple (2000 per length < 20)
	   * free lists; docs/freelists.md cites each. */
	  " \"freelists\": {\"mode\": \"per-type\", \"python2_blocks\": true, \"list_limit\": 80, \"dict_limit\": 80, \"dict_keys_limit\": 0, \"tuple_limit\": 2000, \"tuple_max_length\": 19, \"tuple_reuse_max_length\": 19, \"tuple_base\": 56, \"frame_limit\": 200, \"slice_limit\": 0, \"context_limit\": 0, \"async_gen_limit\": 0, \"gc_clears\": false, \"gc_clears_containers\": false}}" },
	{ "cpython-2.5",
	  "CPython 2.5/2.6: empty arenas are freed; fullest arenas serve first",
	  /* Evan Jones' patch (Python 2.5, SF #1123430): usable_arenas sorted
	   * by free pools, wholly free arenas returned to the system. */
	  "{\"base\": \"cpython-2.4\","
	  " \"summary\": \"CPython 2.5/2.6: empty arenas are freed; fullest arenas serve first\","
	  " \"allocator\": {\"arena_release\": \"empty\", \"arena_selection\": \"fullest-first\"}}" },
	{ "cpython-2.7",
	  "CPython 2.7.17+: the 2.5 allocator with 16-byte alignment",
	  /* GH-13319 (2.7.17) backported the 16-byte ALIGNMENT; measured on
	   * 2.7.18. Use alignment 8 for 2.7.0 .. 2.7.16. */
	  "{\"base\": \"cpython-2.5\","
	  " \"summary\": \"CPython 2.7.17+: the 2.5 allocator with 16-byte alignment\","
	  " \"allocator\": {\"alignment\": 16},"
	  /* 2.6 clears the free lists at full collections; 2.7 adds the 25%
	   * rule for full collections and untracks tuples and dicts holding
	   * only untracked items (issue #4688). */
	  " \"gc\": {\"full_collection_rule\": true, \"untrack_tuples\": true,"
	  " \"untrack_dicts\": \"every\", \"clear_freelists\": true},"
	  /* 2.6: a full collection frees int/float blocks left empty. */
	  " \"freelists\": {\"gc_clears\": true}}" },
	{ "cpython-3.6",
	  "CPython 3.6: arenas from mmap; 16-byte classes up to 512 bytes",
	  /* 3.4 (bpo-20494): arenas come from mmap, page-aligned, so with
	   * 4 KiB pools no pool is lost. bpo-27987's 16-byte ALIGNMENT and
	   * the 512-byte SMALL_REQUEST_THRESHOLD are in the last 3.6/3.7
	   * releases (measured on 3.6.15 and 3.7.16 with _debugmallocstats). */
	  "{\"base\": \"cpython-2.7\","
	  " \"summary\": \"CPython 3.6: arenas from mmap; 16-byte classes up to 512 bytes\","
	  " \"allocator\": {\"arena_source\": \"mmap\", \"small_request_threshold\": 512},"
	  /* 3.x untracks dicts at full collections only (docs/gc.md). */
	  " \"gc\": {\"untrack_dicts\": \"full\", \"cost_object_ns\": 8.72,"
	  " \"cost_ref_ns\": 2.58, \"cost_fixed_ns\": 1388},"
	  /* Python 3: no int blocks; float free list of 100, dict keys of
	   * 80, the one-slot slice cache, async-generator lists of 80; a full
	   * collection clears the container lists too. */
	  " \"freelists\": {\"python2_blocks\": false, \"float_limit\": 100,"
	  " \"dict_keys_limit\": 80, \"dict_keys_size\": 168, \"slice_limit\": 1,"
	  " \"async_gen_limit\": 80, \"gc_clears\": true,"
	  " \"gc_clears_containers\": true}}" },
	{ "cpython-3.7",
	  "CPython 3.7: the 3.6 allocator",
	  "{\"base\": \"cpython-3.6\", \"summary\": \"CPython 3.7: the 3.6 allocator\","
	  " \"gc\": {\"cost_object_ns\": 9.68, \"cost_ref_ns\": 2.44, \"cost_fixed_ns\": 678},"
	  /* 3.7 (PEP 567): contexts, with a free list of 255. */
	  " \"freelists\": {\"context_limit\": 255}}" },
	{ "cpython-3.8",
	  "CPython 3.8: the 3.6 allocator",
	  /* 3.8 made 16-byte alignment and the 512-byte threshold official
	   * (bpo-27987); the 3.6/3.7 releases here already had them. */
	  "{\"base\": \"cpython-3.7\", \"summary\": \"CPython 3.8: the 3.6 allocator\","
	  /* 3.8: PyGC_Head shrank to 16 bytes (bpo-33597), so a tuple's
	   * recorded size starts at 40 bytes. */
	  " \"freelists\": {\"tuple_base\": 40},"
	  " \"gc\": {\"cost_object_ns\": 14.03, \"cost_ref_ns\": 2.16, \"cost_fixed_ns\": 739}}" },
	{ "cpython-3.9",
	  "CPython 3.9: keeps the last wholly free arena",
	  /* bpo-37257: a free arena is kept while it is the only usable one. */
	  "{\"base\": \"cpython-3.8\", \"summary\": \"CPython 3.9: keeps the last wholly free arena\","
	  " \"allocator\": {\"arena_release\": \"keep-one\"},"
	  " \"gc\": {\"cost_object_ns\": 14.21, \"cost_ref_ns\": 2.13, \"cost_fixed_ns\": 787}}" },
	{ "cpython-3.10",
	  "CPython 3.10: 1 MiB arenas of 16 KiB pools (radix tree)",
	  /* bpo-37448: with the radix tree, ARENA_BITS 20 and POOL_BITS 14;
	   * mmap'd arenas are page- but not pool-aligned: one pool lost. */
	  "{\"base\": \"cpython-3.9\","
	  " \"summary\": \"CPython 3.10: 1 MiB arenas of 16 KiB pools (radix tree)\","
	  " \"allocator\": {\"pool_size\": 16384, \"arena_size\": 1048576,"
	  " \"arena_alignment\": \"unaligned\"},"
	  " \"gc\": {\"cost_object_ns\": 13.65, \"cost_ref_ns\": 2.31, \"cost_fixed_ns\": 752}}" },
	{ "cpython-3.11",
	  "CPython 3.11: the 3.10 allocator",
	  "{\"base\": \"cpython-3.10\", \"summary\": \"CPython 3.11: the 3.10 allocator\","
	  /* 3.11: tuples up to length 20 cached, no frame free list (frames
	   * live in the data stack), smaller dict keys objects. */
	  " \"freelists\": {\"tuple_max_length\": 20, \"frame_limit\": 0,"
	  " \"dict_keys_size\": 120},"
	  " \"gc\": {\"cost_object_ns\": 13.47, \"cost_ref_ns\": 2.25, \"cost_fixed_ns\": 755}}" },
	{ "cpython-3.12",
	  "CPython 3.12: collections run at the next eval-breaker check",
	  /* 3.12 (gh-97922): an allocation only schedules the collection;
	   * it runs at the next safe point (`s`). */
	  "{\"base\": \"cpython-3.11\","
	  " \"summary\": \"CPython 3.12: collections run at the next eval-breaker check\","
	  " \"gc\": {\"deferred\": true, \"cost_object_ns\": 12.79, \"cost_ref_ns\": 2.28,"
	  " \"cost_fixed_ns\": 681}}" },
	{ "cpython-3.13",
	  "CPython 3.13: generation 0 threshold 2000",
	  /* Python/gc.c 3.13: threshold 2000/10/10. */
	  "{\"base\": \"cpython-3.12\","
	  " \"summary\": \"CPython 3.13: generation 0 threshold 2000\","
	  " \"gc\": {\"threshold0\": 2000, \"cost_object_ns\": 12.98,"
	  " \"cost_ref_ns\": 2.25, \"cost_fixed_ns\": 690},"
	  /* 3.13 (Objects/object.c _PyObject_ClearFreeLists): floats are
	   * emptied first, contexts before async-generator lists. */
	  " \"freelists\": {\"clear_order\": \"float-first\","
	  /* 3.13.0 serves tuples of length 20 too (measured; 3.11 and 3.12
	   * keep them without reusing them). */
	  " \"tuple_reuse_max_length\": 20}}" },
	{ "cpython-3.13-mimalloc",
	  "CPython 3.13 with PYTHONMALLOC=mimalloc: the bundled mimalloc 2.1.2",
	  /* Objects/obmalloc.c 3.13: PYTHONMALLOC=mimalloc sends the MEM and
	   * OBJ domains to mi_malloc (one heap); mimalloc 2.1.2's defaults,
	   * which CPython does not change. Free lists and collector as 3.13. */
	  "{\"base\": \"cpython-3.13\","
	  " \"summary\": \"CPython 3.13 with PYTHONMALLOC=mimalloc: the bundled mimalloc 2.1.2\","
	  " \"allocator\": {\"policy\": \"mimalloc\"}}" },
	{ "cpython-3.13t",
	  "CPython 3.13t (free-threaded): mimalloc heaps, per-thread free lists, non-generational collector",
	  /* Objects/obmalloc.c 3.13, Include/internal/pycore_mimalloc.h: the
	   * free-threaded build allocates through mimalloc only, one heap per
	   * kind of request. Include/internal/pycore_freelist.h 3.13: the
	   * same free lists, per thread (_Py_object_freelists_GET); one
	   * thread here. Python/gc_free_threading.c 3.13: every collection
	   * examines the whole heap, skipped unless the count grew past
	   * long_lived_total / 4, and clears the free lists. */
	  "{\"base\": \"cpython-3.13-mimalloc\","
	  " \"summary\": \"CPython 3.13t (free-threaded): mimalloc heaps, per-thread free lists, non-generational collector\","
	  " \"allocator\": {\"heaps\": \"free-threaded\"},"
	  " \"gc\": {\"policy\": \"freethreaded\"}}" },
	{ "cpython-3.14.0",
	  "CPython 3.14.0: the incremental collector (young + an increment of two old spaces)",
	  /* Python/gc.c 3.14.0: young threshold 2000, scale 10, work_to_do
	   * -5000; 3.14.1 .. 3.14.4 changed how much an increment does
	   * (GH-140262, docs/gc.md). */
	  "{\"base\": \"cpython-3.13\","
	  " \"summary\": \"CPython 3.14.0: the incremental collector (young + an increment of two old spaces)\","
	  " \"gc\": {\"policy\": \"incremental\"}}" },
	{ "cpython-3.14",
	  "CPython 3.14.5+: the 3.13 generational collector again (gh-142516)",
	  /* 3.14.5 reverted the incremental collector to 3.13's generational
	   * one (gh-142516, gh-148726): 2000/10/10, counted at allocation. */
	  "{\"base\": \"cpython-3.13\","
	  " \"summary\": \"CPython 3.14.5+: the 3.13 generational collector again (gh-142516)\"}" },
	{ "malloc",
	  "CPython 3.11 with PYTHONMALLOC=malloc: every request to the system allocator",
	  "{\"base\": \"cpython-3.11\","
	  " \"summary\": \"CPython 3.11 with PYTHONMALLOC=malloc: every request to the system allocator\","
	  " \"allocator\": {\"policy\": \"glibc\"}}" },
	/* The real allocators (sim/alloc_real.c): `malloc`'s free lists and
	 * collector, so the calls are those the glibc model gets, replayed
	 * in a child process on the library and measured there. */
	{ "real:glibc",
	  "measured: the malloc preset's calls on this machine's real glibc",
	  "{\"base\": \"malloc\","
	  " \"summary\": \"measured: the malloc preset's calls on this machine's real glibc\","
	  " \"allocator\": {\"policy\": \"real\", \"lib\": \"glibc\"}}" },
	{ "real:jemalloc",
	  "measured: the malloc preset's calls on Debian's jemalloc (libjemalloc2)",
	  "{\"base\": \"malloc\","
	  " \"summary\": \"measured: the malloc preset's calls on Debian's jemalloc (libjemalloc2)\","
	  " \"allocator\": {\"policy\": \"real\", \"lib\": \"jemalloc\"}}" },
	{ "real:tcmalloc",
	  "measured: the malloc preset's calls on Debian's tcmalloc (libtcmalloc-minimal4)",
	  "{\"base\": \"malloc\","
	  " \"summary\": \"measured: the malloc preset's calls on Debian's tcmalloc (libtcmalloc-minimal4)\","
	  " \"allocator\": {\"policy\": \"real\", \"lib\": \"tcmalloc\"}}" },
	{ "real:mimalloc",
	  "measured: the malloc preset's calls on Debian's mimalloc (libmimalloc2.0)",
	  "{\"base\": \"malloc\","
	  " \"summary\": \"measured: the malloc preset's calls on Debian's mimalloc (libmimalloc2.0)\","
	  " \"allocator\": {\"policy\": \"real\", \"lib\": \"mimalloc\"}}" },
};
#define NPRESETS (sizeof presets / sizeof presets[0])

const char *presets_find(const char *name)
{
	for (size_t i = 0; i < NPRESETS; i++)
		if (strcmp(presets[i].name, name) == 0)
			return presets[i].json;
	return NULL;
}

size_t presets_count(void)
{
	return NPRESETS;
}

const char *presets_name(size_t i)
{
	return i < NPRESETS ? presets[i].name : NULL;
}

const char *presets_summary(size_t i)
{
	return i < NPRESETS ? presets[i].summary : NULL;
}
