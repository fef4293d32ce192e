/*
 * fuzz_binary.c - libFuzzer harness for the binary trace reader.
 *
 * Each input is a binary trace (docs/binary-format.md). An input that
 * does not start with the magic gets a minimal valid header in front
 * (magic, version 2, flags 0, no metadata: version 2 reads every record
 * of version 1 as well as its own), so the fuzzer spends its time
 * on event records rather than on rediscovering the eight magic bytes;
 * inputs that do start with it exercise the header checks. The checks
 * are those of every trace harness (fuzz_passes.h): the reader's error
 * contract and the heap's invariants after whatever was decoded.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_io.h"
#include "fuzz_passes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fuzz_file file;

static const uint8_t header[] = {
	0x89, 0x4d, 0x53, 0x42, 0x0d, 0x0a, 0x1a, 0x0a,  /* magic */
	0x02, 0x00, 0x00,                                /* v2, flags, no metadata */
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *framed = NULL;
	const char *path;

	if (size < 8 || memcmp(data, header, 8) != 0) {
		framed = malloc(sizeof header + size + 1);
		if (!framed)
			abort();
		memcpy(framed, header, sizeof header);
		memcpy(framed + sizeof header, data, size);
		data = framed;
		size += sizeof header;
	}
	path = fuzz_file_set(&file, data, size);
	pass_reader(path);
	pass_heap(path);
	free(framed);
	return 0;
}
