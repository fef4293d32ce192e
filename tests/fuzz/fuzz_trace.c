/*
 * fuzz_trace.c - libFuzzer harness for the text trace reader and the heap.
 *
 * Each input is a trace file. It is read twice:
 *  1. event by event with trace_next() until the end or the first error,
 *     checking the reader's contract: an error has a code of 65, 66 or 74
 *     and a message, and a second call repeats the same error;
 *  2. through a bare heap (as `memsim info` does), which reaches the
 *     heap's semantic checks; at the end heap_check() must pass, the
 *     garbage heap_find_garbage() reports must all die in heap_release(),
 *     and afterwards no garbage is left and heap_check() passes again.
 * An input that starts with the comment line "#gz\n" has the rest
 * gzip-compressed before reading, and "#gzcut\n" additionally loses the
 * last 5 bytes of the compressed stream, so the fuzzer explores the gzip
 * path with meaningful text instead of random compressed bytes.
 *
 * Anything libFuzzer or the sanitizers report is a finding; so is a
 * broken contract above (abort()).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "fuzz_io.h"
#include "fuzz_passes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* gzip-compresses src into a new buffer; *len gets its size. */
static uint8_t *gzip(const uint8_t *src, size_t n, size_t *len)
{
	z_stream z;
	uint8_t *out;
	size_t cap;

	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	cap = deflateBound(&z, (uLong)n) + 32;
	out = malloc(cap);
	z.next_in = (Bytef *)(uintptr_t)src;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		abort();
	*len = cap - z.avail_out;
	deflateEnd(&z);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path;
	uint8_t *packed = NULL;

	if (size >= 4 && memcmp(data, "#gz\n", 4) == 0) {
		packed = gzip(data + 4, size - 4, &size);
		data = packed;
	} else if (size >= 7 && memcmp(data, "#gzcut\n", 7) == 0) {
		packed = gzip(data + 7, size - 7, &size);
		size = size > 5 ? size - 5 : 0;
		data = packed;
	}
	path = fuzz_file_set(&file, data, size);
	pass_reader(path);
	pass_heap(path);
	free(packed);
	return 0;
}
