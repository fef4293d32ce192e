/*
 * units.h - whole numbers as people write them: 700, 0x1000, 64K, 1M.
 *
 * One parser for every size and count memsim reads from a person: policy
 * knobs (`-p` derivations and policy files), sweep ranges, and the
 * command-line options that take a size or a count (--max-memory,
 * --sample-step, --jobs, ...). docs/policies.md ("Numbers") is the
 * user's description; the rules are:
 *   1. digits in decimal, or in hexadecimal after "0x" / "0X";
 *   2. then at most one suffix K, M, G or T (either case), a power of
 *      1024 (K = 1024): sizes are binary, and counts follow the same rule
 *      so that one spelling never means two numbers;
 *   3. nothing else: no sign, no spaces, no fraction, no exponent; a
 *      value that does not fit in 64 bits is an error, never wrapped.
 */
#ifndef MEMSIM_UNITS_H
#define MEMSIM_UNITS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parses s[0..len) by the rules above. Returns 0 with *out set, or -1
 * with *why (a static phrase: "not a whole number", "too large for 64
 * bits") when the text breaks them; *out is then untouched.
 */
int units_parse_u64(const char *s, size_t len, uint64_t *out, const char **why);

/* units_parse_u64 of a NUL-terminated string. */
int units_parse_str(const char *s, uint64_t *out, const char **why);

#endif
