/*
 * fuzz_heaptrack.c - libFuzzer harness for the heaptrack reader
 * (sim/heaptrack.c), on plain, gzip or zstd bytes alike (source.c tells
 * them apart).
 *
 * The reader must either stop with a clear error (65, 66 or 74 with a
 * message; the same error again on the next call) or return a stream that
 * memsim accepts as it is: allocation IDs 1, 2, 3, ... in order; every
 * free names a live ID (the heap, fuzz_passes.h, applies them all with no
 * error); call-stack nodes numbered 1, 2, ... with an earlier parent and
 * a non-empty frame of escaped bytes only; an allocation points to a node
 * already made; time never goes backwards.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_io.h"
#include "fuzz_passes.h"
#include "heaptrack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fuzz_file in_file;

static void check_frame(const char *frame)
{
	FUZZ_CHECK(frame[0] != '\0');
	for (const char *p = frame; *p; p++)
		FUZZ_CHECK(*p > 0x20 && *p < 0x7f && *p != '^');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct heaptrack_event hev;
	struct heaptrack_reader *r;
	struct ms_error err, again;
	struct event ev = { 0 };
	struct heap *h;
	uint64_t last_id = 0, last_time = 0;
	uint32_t sites = 0;
	char *meta;
	int rc;

	ms_error_clear(&err);
	r = heaptrack_open(fuzz_file_set(&in_file, data, size), &err);
	if (!r) {
		check_error(&err);
		return 0;
	}
	meta = heaptrack_metadata(r, "fuzz");
	FUZZ_CHECK(strchr(meta, '\n') == NULL);
	free(meta);
	h = heap_create(NULL);
	while ((rc = heaptrack_next(r, &hev, &err)) > 0) {
		switch (hev.kind) {
		case HEAPTRACK_SITE:
			FUZZ_CHECK(hev.site == sites + 1 && hev.parent < hev.site);
			check_frame(hev.frame);
			sites = hev.site;
			break;
		case HEAPTRACK_ALLOC:
			FUZZ_CHECK(hev.id == last_id + 1 && hev.site <= sites);
			last_id = hev.id;
			ev.kind = EVENT_ALLOC;
			ev.type = TYPETAB_UNTYPED;
			ev.id = hev.id;
			ev.u.size = hev.size;
			FUZZ_CHECK(hev.size <= EVENT_SIZE_MAX);
			FUZZ_CHECK(heap_apply(h, &ev, &err) == 0);
			break;
		case HEAPTRACK_FREE:
			ev.kind = EVENT_FREE;
			ev.id = hev.id;
			FUZZ_CHECK(heap_apply(h, &ev, &err) == 0);
			break;
		case HEAPTRACK_TIME:
			FUZZ_CHECK(hev.time > last_time || (last_time == 0 && hev.time == 0));
			last_time = hev.time;
			break;
		}
	}
	if (rc < 0) {
		check_error(&err);
		ms_error_clear(&again);
		FUZZ_CHECK(heaptrack_next(r, &hev, &again) == -1);
		FUZZ_CHECK(again.code == err.code && strcmp(again.msg, err.msg) == 0);
	} else {
		FUZZ_CHECK(heaptrack_next(r, &hev, &err) == 0);
	}
	FUZZ_CHECK(heap_check(h, &err) == 0);
	heap_destroy(h);
	heaptrack_close(r);
	return 0;
}
