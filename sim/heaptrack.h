/*
 * heaptrack.h - read heaptrack's data files as a stream of memsim events.
 *
 * heaptrack (KDE/heaptrack) preloads a library that writes every malloc,
 * free and realloc with its backtrace (src/track/libheaptrack.cpp);
 * heaptrack_interpret resolves the addresses to functions, files and
 * lines and rewrites the stream (src/interpret/heaptrack_interpret.cpp);
 * the script pipes the result through zstd or gzip. This reader takes
 * those files, plain, gzip or zstd (source.h), file format versions 1 to
 * 3 (heaptrack 1.0 to 1.5; 1.4 writes 3). The grammar, as those two
 * files of heaptrack 1.4.0 write it and src/analyze/accumulatedtracedata
 * .cpp reads it (every number lowercase hex, one space between fields):
 *
 *   v HTVERSION FILEVERSION   first line: heaptrack's version (0x010400
 *                             for 1.4.0) and the file format's
 *   X COMMAND LINE            the debuggee's command line
 *   I PAGESIZE PAGES          system information
 *   A                         heaptrack attached to a running process
 *   S SUPPRESSION             an embedded leak suppression
 *   s LEN STRING              string #n (1, 2, ...); before version 3 the
 *                             rest of the line, without LEN
 *   i IP MODULE [FN [FILE LINE [FN FILE LINE]...]]
 *                             instruction pointer #n: its module, and the
 *                             frame it resolved to (string indices, 0 =
 *                             unknown) followed by the frames inlined at it
 *   t IPINDEX PARENT          trace node #n: ip IPINDEX called from node
 *                             PARENT (0 = outermost)
 *   a SIZE TRACE              allocation info #n (0, 1, ...): SIZE bytes
 *                             requested at trace node TRACE
 *   + INFO                    an allocation described by info INFO
 *   - INFO                    a free of an allocation described by INFO
 *   c MS                      milliseconds since the start
 *   R PAGES                   the process's RSS
 *   # ...                     a comment (the interpreter's statistics)
 *
 * What follows from it, and how this reader maps it:
 *  - A free names an allocation info, not an address: heaptrack's
 *    interpreter drops the addresses. Blocks of one info (same size, same
 *    backtrace) are interchangeable in every figure heaptrack computes;
 *    memsim needs an object ID, so a free takes the most recently
 *    allocated live block of that info (LIFO: a temporary, freed right
 *    after its allocation, is always that block).
 *  - heaptrack has no realloc event: libheaptrack.cpp's realloc hook
 *    writes a free of the old block (when there was one) and an
 *    allocation of the new one, so a realloc arrives as `f` then `a`.
 *    heaptrack_print counts it as one allocation too.
 *  - Objects get IDs 1, 2, 3, ... in order of allocation, never reused.
 *  - Trace node #n becomes memsim call-stack nodes (trace format version
 *    2's `k`): one for the ip's frame and, outside it, one for each frame
 *    inlined at the ip, outermost first, so the innermost frame is the
 *    node allocations point to. A node whose ip resolved to `operator
 *    new(unsigned long)` or `operator new[](unsigned long)` (or the 32-bit
 *    forms) is skipped, its allocations given to its caller, as
 *    heaptrack's analyzer does. Frames: `FUNCTION@FILE:LINE` where
 *    heaptrack resolved a file, `FUNCTION@MODULE+0xIP` where only a
 *    symbol, `MODULE+0xIP` where nothing; `??` stands for an unknown
 *    function or module. IP is the absolute address in the recorded
 *    process: the interpreted file does not keep load addresses.
 *    Escaping: heaptrack_frame_escape().
 *  - `c` becomes `@ MS*1000000` (nanoseconds), written when it moves on.
 *  - Leak suppressions (`S`, and heaptrack_print's built-in list) only
 *    hide leaks in heaptrack's report; the events are all kept, so a
 *    trace's "live at the end" equals heaptrack_print's "total memory
 *    leaked" plus its "suppressed leaks".
 *
 * Errors (65 unless said; file, line and text of the offending line):
 *   "not a heaptrack data file (the first line is not 'v VERSION FILEVERSION')"
 *   "unsupported heaptrack file format version N (heaptrack X.Y.Z);
 *    memsim reads versions 1 to 3"
 *   "uninterpreted heaptrack data (heaptrack --raw): run heaptrack_interpret on it"
 *   "malformed 'X' line: ...", "unknown heaptrack line 'Q'"
 *   "string N is not defined yet", "ip N is not defined yet", "trace node
 *    N is not defined yet", "allocation info N is not defined yet"
 *   "free of allocation info N with no live allocation"
 *   "time goes backwards (from A ms to B ms)"
 *   "truncated heaptrack data (ends inside a line)" for a last line
 *    without its newline; truncated or corrupt gzip and zstd streams and
 *    read errors come from source.h.
 *
 * Memory: the strings, ips, trace nodes and allocation infos of the file
 * (its backtrace tree and distinct (size, trace) pairs) and one slot per
 * live block; never the file's length. No recursion.
 */
#ifndef MEMSIM_HEAPTRACK_H
#define MEMSIM_HEAPTRACK_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define HEAPTRACK_FILE_VERSION_MIN 1
#define HEAPTRACK_FILE_VERSION_MAX 3

enum heaptrack_kind {
	HEAPTRACK_ALLOC,   /* id, size, site */
	HEAPTRACK_FREE,    /* id */
	HEAPTRACK_TIME,    /* time (ns), later than the last one returned */
	HEAPTRACK_SITE,    /* site, parent, frame: a new call-stack node */
};

struct heaptrack_event {
	enum heaptrack_kind kind;
	uint64_t id;
	uint64_t size;      /* bytes */
	uint64_t time;      /* ns since the start */
	uint32_t site;      /* ALLOC: its node, 0 = none; SITE: the new node */
	uint32_t parent;    /* SITE: 0 = outermost */
	const char *frame;  /* SITE: escaped FRAME, valid until the next call */
};

/* What the file said about itself, known once heaptrack_open returns. */
struct heaptrack_info {
	unsigned version;       /* heaptrack's, e.g. 0x010400 */
	unsigned file_version;
	int attached;           /* an 'A' line: started on a running process */
	const char *command;    /* the 'X' line's text, or NULL */
};

/* What the conversion met, defined once: field, description. */
#define HEAPTRACK_COUNTS(X) \
	X(lines, "lines read") \
	X(allocs, "allocations") \
	X(frees, "frees") \
	X(sites, "call-stack nodes") \
	X(infos, "allocation infos") \
	X(rss_samples, "RSS samples skipped") \
	X(suppressions, "embedded suppressions skipped") \
	X(live_at_end, "blocks live at the end")

struct heaptrack_counts {
#define HEAPTRACK_COUNT_FIELD(name, desc) uint64_t name;
	HEAPTRACK_COUNTS(HEAPTRACK_COUNT_FIELD)
#undef HEAPTRACK_COUNT_FIELD
};

struct heaptrack_reader;

/*
 * Opens `path` ("-": standard input) and reads the file's opening lines
 * (`v`, `X`, `I`, `A`, `S`) up to the first other one. NULL with err
 * filled on failure: 66 when it cannot be opened, 65 when it is not a
 * heaptrack file of a supported version, 74 for a read error.
 */
struct heaptrack_reader *heaptrack_open(const char *path, struct ms_error *err);

/* The file's description (owned by the reader). */
const struct heaptrack_info *heaptrack_info(const struct heaptrack_reader *r);

/*
 * The next event: 1 with *ev filled, 0 at the end of the file, -1 with
 * err filled (see the list above). A SITE event comes before the first
 * ALLOC that uses its node, and after its parent's. After an error or
 * the end, further calls return the same.
 */
int heaptrack_next(struct heaptrack_reader *r, struct heaptrack_event *ev,
		   struct ms_error *err);

/* Counts so far (live_at_end: blocks live now). */
void heaptrack_counts(const struct heaptrack_reader *r, struct heaptrack_counts *c);

/* The name used in errors, and progress figures (compressed bytes). */
const char *heaptrack_name(const struct heaptrack_reader *r);
uint64_t heaptrack_bytes_read(const struct heaptrack_reader *r);
uint64_t heaptrack_file_size(const struct heaptrack_reader *r);

void heaptrack_close(struct heaptrack_reader *r);

/*
 * Appends `s` (n bytes) to `out` escaped for a FRAME token (trace format
 * version 2): bytes outside printable ASCII, the space, '%' and '^'
 * become %XX (two uppercase hex digits). `out` must have room for 3 * n
 * bytes. Returns the bytes written (no NUL).
 */
size_t heaptrack_frame_escape(char *out, const char *s, size_t n);

/* The metadata object for a converted trace, one line, malloc'd:
 * {"source":"heaptrack","input":IN,"heaptrack":"1.4.0","file_version":3,
 * "level":"allocator"[,"attached":true][,"command":CMD]}, strings escaped
 * for JSON. */
char *heaptrack_metadata(const struct heaptrack_reader *r, const char *in_name);

/* One line summarising the counts, e.g. "5120 lines read, 241
 * allocations, 208 frees, ...". No newline. */
void heaptrack_counts_format(const struct heaptrack_counts *c, char *buf, size_t size);

#endif
