/*
 * mtrace.h - import glibc's mtrace(3) log as a memsim trace.
 *
 * glibc writes the log when a program calls mtrace() with MALLOC_TRACE set
 * (since 2.34 only with libc_malloc_debug.so preloaded). Line forms, from
 * malloc/mtrace-impl.c (2.34+) and malloc/mtrace.c (before 2.34) in
 * bminor/glibc, and the consumer malloc/mtrace.pl:
 *
 *   = Start | = End                       tracing switched on / off
 *   [@ CALLER ]+ ADDR SIZE                malloc, calloc, memalign,
 *                                         realloc(NULL, n); ADDR (nil)
 *                                         when it failed
 *   [@ CALLER ]- ADDR                     free, realloc(p, 0)
 *   [@ CALLER ]< OLD  then  [@ CALLER ]> NEW SIZE    realloc
 *   [@ CALLER ]! OLD SIZE                 failed realloc (OLD untouched)
 *
 * ADDR is %p (0x... or "(nil)"), SIZE is %#lx ("0x64", or "0" for zero).
 * CALLER is "FILE:(SYM+OFF)[0xADDR]", "FILE:[0xADDR]" or "[0xADDR]"
 * (absolute address before 2.34, offset into FILE since), and is absent
 * when glibc had no caller address. The converter ignores it.
 *
 * Output: `a ID SIZE`, `r ID SIZE`, `f ID`, with IDs 1, 2, ... in order of
 * allocation, kept across realloc moves. No timestamps (mtrace has none).
 */
#ifndef MEMSIM_MTRACE_H
#define MEMSIM_MTRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "tracewrite.h"

/* What the conversion did, defined once: field, description. */
#define MTRACE_COUNTS(X) \
	X(lines, "lines read") \
	X(allocs, "allocations") \
	X(reallocs, "reallocs") \
	X(frees, "frees") \
	X(failed, "failed allocations skipped") \
	X(unknown_frees, "frees of unallocated addresses skipped") \
	X(unknown_reallocs, "reallocs of unallocated addresses taken as allocations") \
	X(double_allocs, "addresses allocated twice (earlier block taken as freed)") \
	X(unpaired, "unpaired realloc lines") \
	X(malformed, "malformed lines skipped") \
	X(live_at_end, "blocks live at the end")

struct mtrace_counts {
#define MTRACE_COUNT_FIELD(name, desc) uint64_t name;
	MTRACE_COUNTS(MTRACE_COUNT_FIELD)
#undef MTRACE_COUNT_FIELD
};

/*
 * Reads the mtrace log `in` (named `in_name` in errors) to the end and
 * writes its events to `out` (opened by the caller, e.g. with the
 * metadata of mtrace_metadata(); closed by the caller). Fills *counts
 * (zeroed first). Returns 0, or an ms_exit code with `err` filled:
 *   65 with file, line and text for an inconsistent or malformed line:
 *      "free of address 0x1234 that is not allocated"
 *      "address 0x1234 allocated twice"
 *      "realloc of address 0x1234 that is not allocated"
 *      "realloc '<' line not followed by its '>' line"
 *      "realloc '>' line without the '<' line before it"
 *      "not a glibc mtrace line"
 *      "size does not fit in 48 bits"
 *   74 for a read error; a write error is the writer's record as it is
 *      (its file is the output's, e.g. "cannot write: No space left on
 *      device", code 74).
 * With `lenient`, the inconsistencies and malformed lines are skipped and
 * counted instead: a free of an unknown address is dropped; a realloc of
 * one becomes an allocation; allocating a live address first frees the
 * block recorded there; a '<' without '>' leaves the old block live; a
 * '>' without '<' is an allocation.
 */
int mtrace_convert(FILE *in, const char *in_name, struct trace_writer *out,
		   int lenient, struct mtrace_counts *counts, struct ms_error *err);

/* The metadata object for the converted trace:
 * {"source":"mtrace","input":"IN_NAME"}, with IN_NAME escaped for JSON. */
void mtrace_metadata(const char *in_name, char *buf, size_t size);

/* One line summarising the counts, non-zero ones only after the first
 * four, e.g. "14 lines read, 6 allocations, 2 reallocs, 5 frees, 1 failed
 * allocations skipped, 1 blocks live at the end". No newline. */
void mtrace_counts_format(const struct mtrace_counts *c, char *buf, size_t size);

#endif
