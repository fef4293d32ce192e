/*
 * fuzz_passes.h - the checks every trace-reading harness applies.
 *
 * pass_reader() reads a trace event by event, checking the reader's
 * contract (an error has code 65, 66 or 74 and a message, and repeats on
 * the next call); pass_heap() feeds it to a bare heap, which reaches the
 * semantic checks, and then requires heap_check() to pass and every
 * garbage object heap_find_garbage() reports to die in heap_release().
 * Used by fuzz_trace.c (text and gzip) and fuzz_binary.c (binary form).
 */
#ifndef MEMSIM_FUZZ_PASSES_H
#define MEMSIM_FUZZ_PASSES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "heap.h"
#include "trace.h"

#define FUZZ_CHECK(cond)                                                     \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "fuzz: broken contract: %s (%s:%d)\n", \
				#cond, __FILE__, __LINE__);                  \
			abort();                                             \
		}                                                            \
	} while (0)

static struct fuzz_file file;

static void check_error(const struct ms_error *err)
{
	FUZZ_CHECK(err->code == MS_EXIT_DATAERR || err->code == MS_EXIT_NOINPUT ||
		   err->code == MS_EXIT_IOERR);
	FUZZ_CHECK(err->msg[0] != '\0');
	FUZZ_CHECK(memchr(err->msg, '\0', sizeof err->msg) != NULL);
}

static void pass_reader(const char *path)
{
	struct ms_error err, again;
	struct event ev;
	struct trace_reader *r;
	int rc;

	ms_error_clear(&err);
	r = trace_open(path, &err);
	if (!r) {
		check_error(&err);
		return;
	}
	while ((rc = trace_next(r, &ev, &err)) > 0)
		FUZZ_CHECK((unsigned)ev.kind < EVENT_KIND_COUNT);
	if (rc < 0) {
		char line[512];

		check_error(&err);
		ms_error_format(&err, line, sizeof line);
		ms_error_clear(&again);
		FUZZ_CHECK(trace_next(r, &ev, &again) == -1);
		FUZZ_CHECK(again.code == err.code && strcmp(again.msg, err.msg) == 0);
	} else {
		FUZZ_CHECK(trace_next(r, &ev, &err) == 0);
	}
	trace_close(r);
}

static void pass_heap(const char *path)
{
	struct ms_error err;
	struct event ev;
	struct trace_reader *r;
	struct heap *h;
	uint32_t *garbage;
	uint64_t bytes, n;
	int rc;

	ms_error_clear(&err);
	r = trace_open(path, &err);
	if (!r)
		return;
	h = heap_create(NULL);
	while ((rc = trace_next(r, &ev, &err)) > 0) {
		if (ev.kind > EVENT_REF_DROP)
			continue;
		if (heap_apply(h, &ev, &err) != 0) {
			FUZZ_CHECK(err.code == MS_EXIT_DATAERR && err.msg[0]);
			trace_locate(r, &err);
			break;
		}
	}
	FUZZ_CHECK(heap_check(h, &err) == 0);
	n = heap_find_garbage(h, &garbage, &bytes);
	FUZZ_CHECK(n <= heap_live_objects(h) && bytes <= heap_live_bytes(h));
	if (n) {
		uint64_t live = heap_live_objects(h);

		/* Every object in the set is unreachable, so clearing them all
		 * frees them all (and nothing reachable). */
		FUZZ_CHECK(heap_release(h, garbage, (size_t)n) == n);
		FUZZ_CHECK(heap_live_objects(h) == live - n);
	}
	free(garbage);
	FUZZ_CHECK(heap_check(h, &err) == 0);
	FUZZ_CHECK(heap_find_garbage(h, &garbage, &bytes) == 0 && bytes == 0);
	free(garbage);
	heap_destroy(h);
	trace_close(r);
}

#endif
