/*
 * bench-decode.c - decode-only throughput of memsim's trace reader: opens
 * each TRACE with trace_open() and calls trace_next() until the end, doing
 * nothing with the events but counting them. Prints, per trace,
 * "EVENTS SECONDS" (wall clock, monotonic). Used by tools/bench.sh and for
 * docs/performance.md, "Binary traces".
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "trace.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs("usage: bench-decode TRACE...\n"
		      "Reads each TRACE to its end and prints \"EVENTS SECONDS\" (wall\n"
		      "clock): the trace reader's decode speed (tools/bench.sh).\n",
		      argc < 2 ? stderr : stdout);
		return argc < 2 ? 64 : 0;
	}
	for (int i = 1; i < argc; i++) {
		struct ms_error err;
		struct event ev;
		struct trace_reader *r;
		unsigned long long n = 0, sum = 0;
		double t0 = now();
		int rc;
		char line[1024];

		ms_error_clear(&err);
		r = trace_open(argv[i], &err);
		if (!r) {
			ms_error_format(&err, line, sizeof line);
			fprintf(stderr, "bench-decode: %s\n", line);
			return err.code;
		}
		while ((rc = trace_next(r, &ev, &err)) > 0) {
			n++;
			sum += ev.id;	/* keep the loads */
		}
		if (rc < 0) {
			ms_error_format(&err, line, sizeof line);
			fprintf(stderr, "bench-decode: %s\n", line);
			return err.code;
		}
		printf("%llu %.6f\n", n, now() - t0);
		trace_close(r);
		if (sum == 1)
			fputs("", stderr);
	}
	return 0;
}
