/*
 * tracebin.h - the binary trace form: its decoder, and its encoder as
 * the form `tracewrite_binary` (tracewrite.h).
 *
 * The binary form (docs/binary-format.md) carries exactly the events of
 * the text form (docs/trace-format.md) and its header metadata, in about
 * a quarter of the bytes, and decodes several times faster: one record
 * per line, an opcode byte followed by LEB128 varints, IDs coded as
 * zigzag deltas against the previous ID of the same role, time as the
 * increase since the last `@`, type names defined inline at their first
 * use, stack nodes and marks in extended records (opcode 0x0e), the stack
 * node of an allocation in a prefix (0x0f). The file starts with
 * TRACEBIN_MAGIC and a version byte (the trace format's version, 1 or 2)
 * and ends with an end record holding the record count, so a cut file is
 * always detected.
 *
 * Every valid file is canonical: a decoder rejects any encoding the
 * encoder would not produce (overlong varints, a long form where a short
 * one exists), so binary -> text -> binary gives identical bytes.
 *
 * Readers: trace_open() (trace.h) detects the magic after gzip detection
 * and reads binary traces through the same API as text ones; the decoder
 * below is what it calls. Writers: tracewrite.h with tracewrite_binary.
 */
#ifndef MEMSIM_TRACEBIN_H
#define MEMSIM_TRACEBIN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "event.h"
#include "tracerules.h"
#include "typetab.h"

#define TRACEBIN_MAGIC "\x89MSB\r\n\x1a\n"
#define TRACEBIN_MAGIC_LEN 8    /* bytes */
#define TRACEBIN_METADATA_MAX ((size_t)16 << 20)   /* bytes, as a text line */
#define TRACEBIN_FRAME_MAX (((size_t)16 << 20) - 64) /* bytes: a `k` line
                                                    * must fit the text
                                                    * form's line limit */
#define TRACEBIN_CHUNK 64       /* DSTs per chunk of an `e` record */

/* Record opcodes (docs/binary-format.md, "Records"). */
enum tracebin_op {
	TRACEBIN_OP_END = 0x00,          /* varint record count; then EOF */
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
	TRACEBIN_OP_EXT = 0x0e,          /* version 2: a second opcode byte */
	TRACEBIN_OP_SITE_PREFIX = 0x0f,  /* version 2: NODE, then an a/r record */
	TRACEBIN_OP_ALLOC_SHORT = 0x10,  /* 0x10 + (TYPE - 1): dID SIZE,
	                                  * TYPE 1 .. 240 */
};

/* Second bytes of TRACEBIN_OP_EXT records (version 2). */
enum tracebin_ext {
	TRACEBIN_EXT_SITE = 0x01,        /* dSITE PCODE LEN FRAME */
	TRACEBIN_EXT_MARK = 0x02,        /* LEN LABEL */
	TRACEBIN_EXT_GC_BEGIN = 0x03,    /* GEN */
	TRACEBIN_EXT_GC_END = 0x04,
	TRACEBIN_EXT_SNAPSHOT = 0x05,
	TRACEBIN_EXT_REFS = 0x06,        /* dSRC, then chunks of dDSTs */
};

#define TRACEBIN_SHORT_TYPES (0x100 - TRACEBIN_OP_ALLOC_SHORT)   /* 240 */

/* Roles whose previous ID predicts the next one (docs/binary-format.md,
 * "IDs"). */
enum tracebin_role {
	TRACEBIN_ROLE_ALLOC,    /* `a` ID */
	TRACEBIN_ROLE_OBJ,      /* `f` and `r` ID */
	TRACEBIN_ROLE_SRC,      /* `+`/`-` SRC other than the root */
	TRACEBIN_ROLE_DST,      /* `+`/`-` DST; also set by every `a` */
	TRACEBIN_ROLE_SNAP,     /* `e` SRC */
	TRACEBIN_ROLE_SITE,     /* `k` SITE */
	TRACEBIN_ROLE_COUNT
};

/*
 * Whether p[0, n) starts a binary trace: 1 when it holds the whole magic,
 * -1 when it is a proper prefix of it (read more to decide), 0 when not.
 */
int tracebin_magic(const void *p, size_t n);

/* ---- decoder (used by trace.c) ---- */

/* Supplies input bytes: returns the number read into dst[0, n) (n > 0),
 * 0 at the end of the input, -1 with err filled on a read or gzip error. */
typedef ssize_t tracebin_read_fn(void *ctx, void *dst, size_t n,
				 struct ms_error *err);

struct tracebin_reader;

/*
 * Starts decoding. head[0, head_len) are the bytes already read (they
 * begin with the magic); more come from read(ctx, ...). Reads and checks
 * the header (version, flags, metadata) and sets rules->version to the
 * file's. Type names are interned into `types` in order of definition, so
 * their indices are the file's type numbers; stack nodes and labels go
 * into the tables of `rules` (the caller's, which must be fresh). `name`
 * is the file's name for messages. Returns NULL with err filled on a bad
 * header (65, or the read function's error).
 */
struct tracebin_reader *tracebin_reader_open(const char *name, struct typetab *types,
					     struct trace_rules *rules,
					     const void *head, size_t head_len,
					     tracebin_read_fn *read, void *ctx,
					     struct ms_error *err);

/* As trace_next: 1 event, 0 end, -1 error (65 for bad data, located as
 * "FILE: event N: MESSAGE", N counting records, i.e. lines of the
 * normalised text; read errors as the read function gave them). Not
 * sticky by itself: trace.c remembers failures. */
int tracebin_next(struct tracebin_reader *d, struct event *ev,
		  struct ms_error *err);

/* Locates an error at the event last returned: file, record number
 * (in_binary set) and the event in normalised text as the error's text. */
void tracebin_locate(const struct tracebin_reader *d, struct ms_error *err);

const char *tracebin_metadata(const struct tracebin_reader *d);

void tracebin_reader_close(struct tracebin_reader *d);

#endif
