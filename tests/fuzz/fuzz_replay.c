/*
 * fuzz_replay.c - libFuzzer harness for a whole replay under two policies.
 *
 * Each input is a trace; engine_replay() runs it under the presets
 * FUZZ_POLICY_A and FUZZ_POLICY_B (the allocator stack of CPython 3.11 and
 * plain malloc, i.e. pymalloc over glibc and glibc alone) and, when it
 * succeeds, every document format of the registry renders its record.
 * The fuzz build defines MEMSIM_DEBUG, so the engine runs every layer's
 * validator (runtime_check) during the replay and after its last event
 * (docs/architecture.md, "Validators"); a broken invariant is status 70,
 * which aborts here.
 * Contract: failure is 65 with a located message; nothing else.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "error.h"
#include "fuzz_io.h"
#include "policy.h"
#include "report.h"
#include "strbuf.h"

#ifndef FUZZ_POLICY_A
#define FUZZ_POLICY_A "cpython-3.11"
#endif
#ifndef FUZZ_POLICY_B
#define FUZZ_POLICY_B "malloc"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fuzz_file file;
static struct policy *policies[2];

static void setup(void)
{
	static const char *const names[2] = { FUZZ_POLICY_A, FUZZ_POLICY_B };
	struct ms_error err;

	for (int i = 0; i < 2; i++) {
		ms_error_clear(&err);
		if (policy_resolve(names[i], &policies[i], &err) != 0) {
			fprintf(stderr, "fuzz_replay: cannot resolve %s: %s\n",
				names[i], err.msg);
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct report_opts opts = { .baseline = NULL };
	struct record rec = { 0 };
	struct record_trace run;
	struct ms_error err;
	struct strbuf sb;
	const char *path;

	if (!policies[0])
		setup();
	path = fuzz_file_set(&file, data, size);
	ms_error_clear(&err);
	if (engine_replay(path, policies, 2, NULL, &run, &err) != 0) {
		if (err.code != MS_EXIT_DATAERR || err.msg[0] == '\0') {
			fprintf(stderr, "fuzz_replay: unexpected error %d: %s\n",
				err.code, err.msg);
			abort();
		}
		return 0;
	}
	*record_add_trace(&rec) = run;
	sb_init(&sb);
	for (size_t i = 0; report_formats[i]; i++)
		if (report_formats[i]->write)
			report_formats[i]->write(&sb, &rec, &opts);
	sb_free(&sb);
	record_free(&rec);
	return 0;
}
