/*
 * outfile.h - writing output so that a failure leaves nothing that looks
 * complete: whole files renamed into place, and a staging directory for
 * a report directory (--out) swapped in only when every file is written.
 *
 * Rules (docs/reports.md):
 *  1. A regular file is written under a temporary name beside its target,
 *     flushed to disk (fsync) and renamed over it; any error removes the
 *     temporary and reports the path and the system's reason (74).
 *  2. A target that exists and is not a regular file or a directory (a
 *     terminal, a pipe, /dev/null, /dev/full) is written directly: it
 *     cannot be replaced, and replacing a device would be wrong. Every
 *     write and the close are checked, so /dev/full fails with ENOSPC.
 *  3. A report directory is staged as PARENT/.NAME.memsim-XXXXXX and
 *     renamed to PARENT/NAME at the end. NAME may be missing, empty, or an
 *     earlier memsim report (holding only what memsim writes there); an
 *     earlier report is replaced whole, so no old plot survives beside new
 *     ones. A directory with other files is refused before any work.
 *  4. SIGINT, SIGTERM and SIGHUP during a write remove every temporary
 *     and staged file, then end the process by the same signal.
 * The parent of a target is checked before a replay starts
 * (outfile_check, outdir_begin), so a typo costs no replay.
 */
#ifndef MEMSIM_OUTFILE_H
#define MEMSIM_OUTFILE_H

#include "error.h"
#include "strbuf.h"

/* Writes `text` to `path` (rules 1, 2), or to standard output when path
 * is NULL or "-". Returns 0 or MS_EXIT_IOERR with err filled. */
int outfile_write(const char *path, const struct strbuf *text, struct ms_error *err);

/* Whether `path` can be written later: its directory exists and it is not
 * a directory itself. 0, or MS_EXIT_IOERR naming the path and why. */
int outfile_check(const char *path, struct ms_error *err);

/* A report directory being staged (rule 3). */
struct outdir {
	char *final;            /* DIR as given */
	char *stage;            /* PARENT/.NAME.memsim-XXXXXX */
	int replace;            /* DIR exists and is replaced at commit */
	struct strbuf notes;    /* lines for the user and the page (plots) */
};

/* Checks DIR (rule 3) and creates the staging directory. 0, or
 * MS_EXIT_IOERR with err filled (nothing created). */
int outdir_begin(struct outdir *d, const char *dir, struct ms_error *err);

/* Writes `text` as the file `rel` (relative to DIR) in the stage. */
int outdir_write(struct outdir *d, const char *rel, const struct strbuf *text,
		 struct ms_error *err);

/* Creates the subdirectory `rel` in the stage (an existing one is fine). */
int outdir_mkdir(struct outdir *d, const char *rel, struct ms_error *err);

/* Copies the file at `src` into the stage as `rel`, checking every
 * write. */
int outdir_copy(struct outdir *d, const char *rel, const char *src,
		struct ms_error *err);

/* The staged path of `rel` (caller frees). */
char *outdir_path(const struct outdir *d, const char *rel);

/* Swaps the stage in as DIR; 0 or MS_EXIT_IOERR (the stage is removed
 * then, and DIR left as it was). Frees d either way. */
int outdir_commit(struct outdir *d, struct ms_error *err);

/* Removes the stage and everything in it; frees d. */
void outdir_abort(struct outdir *d);

/* Removes a file or a directory tree this process created (unlink,
 * rmdir; no recursion on the C stack). */
void outfile_remove_tree(const char *path);

#endif
