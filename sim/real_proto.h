/*
 * real_proto.h - the stream from memsim's real: policies (sim/alloc_real.c)
 * to their child, tools/replay-real --stream.
 *
 * The parent writes fixed-size records in its own byte order (the child
 * is the same machine); the child answers only REAL_SAMPLE and REAL_END,
 * each with one text line of `key value` pairs (replay-real's `point` and
 * `end` lines), so the calls in between never wait for a round trip.
 */
#ifndef MEMSIM_REAL_PROTO_H
#define MEMSIM_REAL_PROTO_H

#include <stdint.h>

enum real_op {
	REAL_ALLOC = 1,         /* malloc(size) as block `id` */
	REAL_FREE = 2,          /* free(block id) */
	REAL_REALLOC = 3,       /* realloc(block id, size ? size : 1) */
	REAL_SAMPLE = 4,        /* measure now and answer a `point` line */
	REAL_END = 5,           /* answer the `end` line and exit 0 */
};

/* One record: op in the top 8 bits of op_event, the trace event (1-based)
 * the call belongs to in the low 56. */
struct real_rec {
	uint64_t op_event;
	uint64_t id;
	uint64_t size;          /* bytes */
};

/* The libraries, as `real:NAME` and replay-real --lib NAME call them:
 * the shared object Debian installs and its package. */
enum real_lib { REAL_GLIBC, REAL_JEMALLOC, REAL_TCMALLOC, REAL_MIMALLOC, REAL_LIBS_ };

static const struct real_lib_info {
	const char *name, *soname, *package, *probe;
} real_libs[REAL_LIBS_] = {
	{ "glibc", NULL, "libc6", "mallinfo2" },
	{ "jemalloc", "libjemalloc.so.2", "libjemalloc2", "mallctl" },
	{ "tcmalloc", "libtcmalloc_minimal.so.4", "libtcmalloc-minimal4",
	  "MallocExtension_GetNumericProperty" },
	{ "mimalloc", "libmimalloc.so.2", "libmimalloc2.0", "mi_process_info" },
};

/* Where Debian puts shared libraries (ld.so's default search path); the
 * environment variable REAL_LIBDIR_ENV, if set, is the only directory
 * searched (tests name a missing library so). */
static const char *const real_libdirs[] = {
	"/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu",
	"/usr/lib/aarch64-linux-gnu", "/lib/aarch64-linux-gnu",
	"/usr/local/lib", "/usr/lib", "/lib", NULL,
};
#define REAL_LIBDIR_ENV "REPLAY_REAL_LIBDIR"

#define REAL_OP_SHIFT 56
#define REAL_EVENT_MASK ((UINT64_C(1) << REAL_OP_SHIFT) - 1)

#endif
