/*
 * fuzz_policy.c - libFuzzer harness for policy resolution (policy.c).
 *
 * Two input forms:
 *  - starting with '{' (or blanks then '{'): a JSON policy file, resolved
 *    by path like `-p my-policy.json`;
 *  - anything else: a policy specification `PRESET[:KEY=VALUE,...]`,
 *    resolved as typed after -p (cut at the first NUL). Specifications
 *    whose base contains '/' are skipped: they name files on this machine
 *    (/dev/zero would be a hang, not a finding).
 * Contract checked: failure is 78, 66 or 74 with a message; success
 * prints JSON (policy_to_json) that resolves again to the same policy,
 * apart from its name.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "fuzz_io.h"
#include "policy.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                     \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "fuzz_policy: broken contract: %s (%s:%d)\n", \
				#cond, __FILE__, __LINE__);                  \
			abort();                                             \
		}                                                            \
	} while (0)

static struct fuzz_file doc_file, again_file;

/* The JSON form without its first member ("name"), which differs. */
static const char *after_name(const char *json)
{
	const char *nl = strchr(json, '\n');

	nl = nl ? strchr(nl + 1, '\n') : NULL;
	return nl ? nl : json;
}

static void resolve(const char *spec)
{
	struct ms_error err;
	struct policy *p, *q;
	struct strbuf a, b;
	const char *path;

	ms_error_clear(&err);
	if (policy_resolve(spec, &p, &err) != 0) {
		FUZZ_CHECK(err.code == MS_EXIT_CONFIG || err.code == MS_EXIT_NOINPUT ||
			   err.code == MS_EXIT_IOERR);
		FUZZ_CHECK(err.msg[0] != '\0');
		return;
	}
	sb_init(&a);
	policy_to_json(p, &a);
	path = fuzz_file_set(&again_file, (const uint8_t *)sb_str(&a), a.len);
	ms_error_clear(&err);
	if (policy_resolve(path, &q, &err) != 0) {
		char line[512];

		ms_error_format(&err, line, sizeof line);
		fprintf(stderr, "fuzz_policy: printed policy does not resolve: %s\n%s",
			line, sb_str(&a));
		abort();
	}
	sb_init(&b);
	policy_to_json(q, &b);
	if (strcmp(after_name(sb_str(&a)), after_name(sb_str(&b))) != 0) {
		fprintf(stderr, "fuzz_policy: round trip differs:\n%s\n%s", sb_str(&a),
			sb_str(&b));
		abort();
	}
	sb_free(&a);
	sb_free(&b);
	policy_free(p);
	policy_free(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t i = 0;

	while (i < size && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n'))
		i++;
	if (i < size && data[i] == '{') {
		resolve(fuzz_file_set(&doc_file, data, size));
	} else {
		char *spec = malloc(size + 1);
		size_t n = 0;

		while (n < size && data[n])
			n++;
		memcpy(spec, data, n);
		spec[n] = '\0';
		if (!memchr(spec, '/', strcspn(spec, ":")))
			resolve(spec);
		free(spec);
	}
	return 0;
}
