/*
 * error.h - errors as values, and the exit statuses they map to.
 *
 * Library code never prints and never exits: it fills a `struct ms_error`
 * and returns a non-zero status. Only main.c turns the record into a
 * message on stderr and an exit status. The statuses follow BSD sysexits(3)
 * so that scripts can tell bad data from a bad command line.
 *
 * The one exception is running out of memory for memsim's *own* data
 * structures (xalloc.h): that is fatal at once, with the size requested.
 * A *simulated* out-of-memory is a result, never an error.
 */
#ifndef MEMSIM_ERROR_H
#define MEMSIM_ERROR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Exit statuses (sysexits.h values, named here so the C library's header
 * is not needed and --help can print the same table). */
enum ms_exit {
	MS_EXIT_OK = 0,
	MS_EXIT_FAIL = 1,       /* a check asked for failed (e.g. --max-memory) */
	MS_EXIT_USAGE = 64,     /* bad command line */
	MS_EXIT_DATAERR = 65,   /* malformed or inconsistent trace / policy */
	MS_EXIT_NOINPUT = 66,   /* input file missing or unreadable */
	MS_EXIT_SOFTWARE = 70,  /* internal error: a bug in memsim */
	MS_EXIT_OSERR = 71,     /* memsim's own memory or a system call failed */
	MS_EXIT_IOERR = 74,     /* read or write error on a file */
	MS_EXIT_CONFIG = 78,    /* bad policy file or policy option */
};

#define MS_ERROR_TEXT_MAX 96    /* bytes of offending text kept */
#define MS_ERROR_MSG_MAX 256
#define MS_ERROR_FILE_MAX 256

/*
 * One error. `file` and `line` locate it (line 0: no line; for binary
 * traces `line` is the event number and `in_binary` is set). `text` is the
 * offending input, already made printable and truncated by ms_error_text().
 */
struct ms_error {
	int code;                          /* an enum ms_exit value, 0 if none */
	uint64_t line;
	int in_binary;
	char file[MS_ERROR_FILE_MAX];
	char text[MS_ERROR_TEXT_MAX];
	char msg[MS_ERROR_MSG_MAX];
};

/* Clears every field. */
void ms_error_clear(struct ms_error *e);

/* Sets code and a printf-style message; keeps file, line and text.
 * Returns `code` so callers can write `return ms_error_set(e, ...)`. */
int ms_error_set(struct ms_error *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ms_error_set with a va_list, for callers that format their own
 * messages (the trace readers and writers). */
int ms_error_vset(struct ms_error *e, int code, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* Sets the location: file name, line number. */
void ms_error_at(struct ms_error *e, const char *file, uint64_t line);

/* Copies `len` bytes of offending input into e->text, escaping bytes that
 * are not printable ASCII as \xNN and cutting with "..." when too long. */
void ms_error_text(struct ms_error *e, const char *text, size_t len);

/*
 * Copies at most `max` bytes of s[0, n) into dst (`size` bytes, NUL
 * terminated) for quoting in a message: bytes that are not printable
 * ASCII, and '\', as \xNN; "..." where the field was cut.
 */
void ms_error_quote(char *dst, size_t size, const char *s, size_t n, size_t max);

/*
 * Formats the error as one line without a newline:
 *   FILE:LINE: MESSAGE: "TEXT"
 * Parts that are absent are left out ("FILE: MESSAGE", "MESSAGE").
 * Binary traces say "FILE: event N: MESSAGE".
 */
void ms_error_format(const struct ms_error *e, char *buf, size_t size);

#endif
