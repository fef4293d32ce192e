/*
 * fuzz_mtrace.c - libFuzzer harness for the glibc mtrace importer.
 *
 * Each input is an mtrace log; its first byte's low bit chooses strict or
 * --lenient conversion. The importer must either stop with a clear error
 * (code 65 and a message, located at a line) or write a trace; and every
 * trace it writes must be one that memsim accepts as it is: the reader and
 * the heap (fuzz_passes.h) find no error in it, since the importer's job
 * is to turn glibc's tolerant log into the strict format.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_io.h"
#include "fuzz_passes.h"
#include "mtrace.h"
#include "tracewrite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fuzz_file log_file, out_file;

/* The converted trace must read to the end without any error. */
static void check_output(const char *path)
{
	struct ms_error err;
	struct event ev;
	struct trace_reader *r;
	struct heap *h;
	int rc;

	ms_error_clear(&err);
	r = trace_open(path, &err);
	FUZZ_CHECK(r != NULL);
	h = heap_create(NULL);
	while ((rc = trace_next(r, &ev, &err)) > 0)
		if (ev.kind <= EVENT_REF_DROP)
			FUZZ_CHECK(heap_apply(h, &ev, &err) == 0);
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(heap_check(h, &err) == 0);
	heap_destroy(h);
	trace_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int lenient = size > 0 && (data[0] & 1);
	struct mtrace_counts counts;
	struct trace_writer *w;
	struct ms_error err;
	const char *in_path, *out_path;
	FILE *in;
	int rc, rc_close;

	in_path = fuzz_file_set(&log_file, data, size);
	out_path = fuzz_file_set(&out_file, NULL, 0);
	in = fopen(in_path, "r");
	FUZZ_CHECK(in != NULL);
	ms_error_clear(&err);
	w = tracewrite_create(out_path, &tracewrite_text, 0, 1, "{\"source\":\"mtrace\"}", &err);
	FUZZ_CHECK(w != NULL);
	rc = mtrace_convert(in, "fuzz.log", w, lenient, &counts, &err);
	rc_close = tracewrite_close(w, rc ? NULL : &err);
	fclose(in);
	if (rc != 0) {
		check_error(&err);
		FUZZ_CHECK(rc == MS_EXIT_DATAERR);
		return 0;
	}
	FUZZ_CHECK(rc_close == 0);
	check_output(out_path);
	return 0;
}
