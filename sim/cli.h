/*
 * cli.h - subcommands and what they share.
 *
 * Each subcommand is one file (cmd_*.c) exporting one const struct
 * cli_command; main.c keeps the table, dispatches, prints errors and
 * chooses the exit status. A command returns 0 or an enum ms_exit value
 * with `err` filled; it writes its report only once the report is
 * complete (cli_emit), so a failed run prints nothing that could pass
 * for a result.
 */
#ifndef MEMSIM_CLI_H
#define MEMSIM_CLI_H

#include <stdio.h>

#include "error.h"
#include "strbuf.h"

#define MEMSIM_VERSION "0.1.0"     /* `memsim --version`; plans and results carry it */

struct cli_command {
	const char *name;
	const char *summary;                    /* one line for `memsim --help` */
	int (*run)(int argc, char **argv, struct ms_error *err);
};

extern const struct cli_command cmd_info;
extern const struct cli_command cmd_replay;
extern const struct cli_command cmd_policies;
extern const struct cli_command cmd_convert;
extern const struct cli_command cmd_sweep;
extern const struct cli_command cmd_retain;

/* Output formats shared by the commands that report. */
enum cli_format { CLI_FORMAT_TEXT, CLI_FORMAT_JSON, CLI_FORMAT_CSV };

/* Parses "text", "json" or "csv" (those allowed by `allowed`, a bit mask
 * of 1 << format); returns 0 or MS_EXIT_USAGE with err filled. */
int cli_parse_format(const char *s, unsigned allowed, enum cli_format *out,
		     struct ms_error *err);

/*
 * Writes a finished report: to stdout when path is NULL or "-", else to a
 * temporary file beside `path` that is renamed over it once complete.
 * Returns 0 or MS_EXIT_IOERR / MS_EXIT_CANTCREAT-like errors in err.
 */
int cli_emit(const char *path, const struct strbuf *text, struct ms_error *err);

struct outdir;

/* A filled --out directory: prints the notes its plots left (gnuplot
 * missing) and, unless quiet, "memsim: WHAT in DIR/index.html" on
 * stderr, then swaps it in (outdir_commit). 0 or MS_EXIT_IOERR. */
int cli_outdir_commit(struct outdir *d, int quiet, const char *what,
		      struct ms_error *err);

/* Parses a whole-number option value in units.h's syntax (4096, 64K,
 * 0x1000); 0 or MS_EXIT_USAGE naming `opt`. */
int cli_parse_u64(const char *opt, const char *s, unsigned long long *out,
		  struct ms_error *err);

/* Whether progress lines should be drawn: stderr is a terminal and the
 * user did not ask for quiet. */
int cli_want_progress(int quiet);

/* Unknown-option and missing-argument messages from getopt_long, as
 * errors: call with the option character getopt returned ('?' or ':'). */
int cli_bad_option(const char *cmd, int optopt_char, const char *arg,
		   struct ms_error *err);

#endif
