/*
 * tracebin.h - the binary trace form: encoder and decoder.
 *
 * The binary form (docs/binary-format.md) carries exactly the events of
 * the text form (docs/trace-format.md) and its header metadata, in about a
 * quarter of the bytes, and decodes several times faster: one record per
 * event, an opcode byte followed by LEB128 varints, IDs coded as zigzag
 * deltas against the previous ID of the same role, time as the increase
 * since the last `@`, type names defined inline at their first use. The
 * file starts with TRACEBIN_MAGIC and a version byte and ends with an end
 * record holding the event count, so a cut file is always detected.
 *
 * Every valid file is canonical: a decoder rejects any encoding the
 * encoder would not produce (overlong varints, a long form where a short
 * one exists), so binary -> text -> binary gives identical bytes.
 *
 * Readers: trace_open() (trace.h) detects the magic after gzip detection
 * and reads binary traces through the same API as text ones; the decoder
 * below is what it calls. Writers: recorders and `memsim convert` use the
 * encoder.
 */
#ifndef MEMSIM_TRACEBIN_H
#define MEMSIM_TRACEBIN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "sink.h"
#include "trace.h"
#include "typetab.h"

#define TRACEBIN_MAGIC "\x89MSB\r\n\x1a\n"
#define TRACEBIN_MAGIC_LEN 8    /* bytes */
#define TRACEBIN_VERSION 1
#define TRACEBIN_METADATA_MAX ((size_t)16 << 20)   /* bytes, as a text line */

/* Record opcodes (docs/binary-format.md, "Records"). */
enum tracebin_op {
	TRACEBIN_OP_END = 0x00,          /* varint event count; then EOF */
	TRACEBIN_OP_ALLOC = 0x01,        /* dID SIZE (untyped) */
	TRACEBIN_OP_ALLOC_TYPE = 0x02,   /* dID SIZE TYPE (TYPE > 240) */
	TRACEBIN_OP_ALLOC_NEW = 0x03,    /* dID SIZE LEN NAME (a new type) */
	TRACEBIN_OP_FREE = 0x04,         /* dID */
	TRACEBIN_OP_RESIZE = 0x05,       /* dID SIZE */
	TRACEBIN_OP_REF_ADD = 0x06,      /* dSRC dDST (SRC != 0) */
	TRACEBIN_OP_REF_DROP = 0x07,     /* dSRC dDST (SRC != 0) */
	TRACEBIN_OP_ROOT_ADD = 0x08,     /* dDST (SRC = 0, the root set) */
	TRACEBIN_OP_ROOT_DROP = 0x09,    /* dDST (SRC = 0) */
	TRACEBIN_OP_COLLECT = 0x0a,      /* (no GEN) */
	TRACEBIN_OP_COLLECT_GEN = 0x0b,  /* GEN (never 2^64 - 1) */
	TRACEBIN_OP_SAFEPOINT = 0x0c,
	TRACEBIN_OP_TIME = 0x0d,         /* T - previous T */
	TRACEBIN_OP_ALLOC_SHORT = 0x10,  /* 0x10 + (TYPE - 1): dID SIZE,
	                                  * TYPE 1 .. 240 */
};

#define TRACEBIN_SHORT_TYPES (0x100 - TRACEBIN_OP_ALLOC_SHORT)   /* 240 */

/* Roles whose previous ID predicts the next one (docs/binary-format.md,
 * "IDs"). */
enum tracebin_role {
	TRACEBIN_ROLE_ALLOC,    /* `a` ID */
	TRACEBIN_ROLE_OBJ,      /* `f` and `r` ID */
	TRACEBIN_ROLE_SRC,      /* `+`/`-` SRC other than the root */
	TRACEBIN_ROLE_DST,      /* `+`/`-` DST; also set by every `a` */
	TRACEBIN_ROLE_COUNT
};

/*
 * Whether p[0, n) starts a binary trace: 1 when it holds the whole magic,
 * -1 when it is a proper prefix of it (read more to decide), 0 when not.
 */
int tracebin_magic(const void *p, size_t n);

/* ---- encoder ---- */

struct tracebin_writer;

/*
 * Starts a binary trace on `out` (the writer owns it from now on and
 * closes it in tracebin_close) with `metadata` (NULL: none). Metadata must
 * be a JSON object text that starts with '{', ends with '}', holds no line
 * break or NUL and is at most TRACEBIN_METADATA_MAX bytes, so that it can
 * be a text header too; it is not otherwise parsed. Returns NULL with err
 * filled (70, "metadata ...") when it is not; `out` is then closed.
 */
struct tracebin_writer *tracebin_start(struct sink *out, const char *metadata,
				       struct ms_error *err);

/* tracebin_start on a new file `path` ("-": standard output), gzip when
 * `flags` has SINK_GZIP. NULL with err filled (74 or 70) on failure. */
struct tracebin_writer *tracebin_create(const char *path, unsigned flags,
					const char *metadata, struct ms_error *err);

/*
 * Events. Each returns 0 or the writer's sticky error code: 74 for a write
 * error, 70 (MS_EXIT_SOFTWARE, the producer broke the format's rules) for
 * ID 0 allocated, freed, resized or referenced, a size above 2^48 - 1, a
 * bad TYPE name, or time going backwards. Liveness is the producer's job.
 *   tracebin_alloc      `a ID SIZE [TYPE]`  (type NULL or "": untyped)
 *   tracebin_collect    `c [GEN]`           (EVENT_GEN_DEFAULT: no GEN)
 *   tracebin_time       `@ T` (equal times are kept: lossless)
 */
int tracebin_alloc(struct tracebin_writer *w, uint64_t id, uint64_t size,
		   const char *type);
int tracebin_free(struct tracebin_writer *w, uint64_t id);
int tracebin_resize(struct tracebin_writer *w, uint64_t id, uint64_t size);
int tracebin_ref_add(struct tracebin_writer *w, uint64_t src, uint64_t dst);
int tracebin_ref_drop(struct tracebin_writer *w, uint64_t src, uint64_t dst);
int tracebin_collect(struct tracebin_writer *w, uint64_t gen);
int tracebin_safepoint(struct tracebin_writer *w);
int tracebin_time(struct tracebin_writer *w, uint64_t ns);

/* Writes an event as a reader returned it; ev->type indexes `types`
 * (the reader's table). For converters. */
int tracebin_put(struct tracebin_writer *w, const struct event *ev,
		 const struct typetab *types);

/* Events written so far. */
uint64_t tracebin_events(const struct tracebin_writer *w);

/* The sticky error, or NULL if none so far. */
const struct ms_error *tracebin_error(const struct tracebin_writer *w);

/*
 * Writes the end record, flushes and closes the sink, frees the writer.
 * Returns 0 or the first error of the writer's life with err filled (err
 * may be NULL). A trace whose writer was not closed lacks its end record
 * and every reader rejects it as truncated.
 */
int tracebin_close(struct tracebin_writer *w, struct ms_error *err);

/* ---- decoder (used by trace.c) ---- */

/* Supplies input bytes: returns the number read into dst[0, n) (n > 0),
 * 0 at the end of the input, -1 with err filled on a read or gzip error. */
typedef ssize_t tracebin_read_fn(void *ctx, void *dst, size_t n,
				 struct ms_error *err);

struct tracebin_reader;

/*
 * Starts decoding. head[0, head_len) are the bytes already read (they
 * begin with the magic); more come from read(ctx, ...). Reads and checks
 * the header (version, flags, metadata). Type names are interned into
 * `types` in order of definition, so their indices are the file's type
 * numbers. `name` is the file's name for messages. Returns NULL with err
 * filled on a bad header (65, or the read function's error).
 */
struct tracebin_reader *tracebin_reader_open(const char *name, struct typetab *types,
					     const void *head, size_t head_len,
					     tracebin_read_fn *read, void *ctx,
					     struct ms_error *err);

/* As trace_next: 1 event, 0 end, -1 error (65 for bad data, located as
 * "FILE: event N: MESSAGE"; read errors as the read function gave them).
 * Not sticky by itself: trace.c remembers failures. */
int tracebin_next(struct tracebin_reader *d, struct event *ev,
		  struct ms_error *err);

/* Locates an error at the event last returned: file, event number
 * (in_binary set) and the event in normalised text as the error's text. */
void tracebin_locate(const struct tracebin_reader *d, struct ms_error *err);

const char *tracebin_metadata(const struct tracebin_reader *d);
int tracebin_has_time(const struct tracebin_reader *d);
uint64_t tracebin_event_count(const struct tracebin_reader *d);

void tracebin_reader_close(struct tracebin_reader *d);

#endif
