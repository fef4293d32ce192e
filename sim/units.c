/*
 * units.c - whole numbers with 0x and K/M/G/T (see units.h for the rules).
 */
#include "units.h"

#include <string.h>

static int digit_value(char c, unsigned base)
{
	int v;

	if (c >= '0' && c <= '9')
		v = c - '0';
	else if (c >= 'a' && c <= 'f')
		v = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		v = c - 'A' + 10;
	else
		return -1;
	return (unsigned)v < base ? v : -1;
}

static unsigned suffix_shift(char c)
{
	switch (c) {
	case 'k': case 'K': return 10;
	case 'm': case 'M': return 20;
	case 'g': case 'G': return 30;
	case 't': case 'T': return 40;
	default: return 0;
	}
}

int units_parse_u64(const char *s, size_t len, uint64_t *out, const char **why)
{
	unsigned base = 10, shift = 0;
	size_t i = 0, first;
	uint64_t v = 0;

	*why = "not a whole number";
	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	/* K, M, G and T are not hexadecimal digits, so a suffix is never
	 * mistaken for one ("0x10K" is 16 KiB). */
	if (len > i && suffix_shift(s[len - 1])) {
		shift = suffix_shift(s[len - 1]);
		len--;
	}
	first = i;
	for (; i < len; i++) {
		int d = digit_value(s[i], base);

		if (d < 0)
			return -1;
		if (v > (UINT64_MAX - (uint64_t)d) / base) {
			*why = "too large for 64 bits";
			return -1;
		}
		v = v * base + (uint64_t)d;
	}
	if (i == first)
		return -1;
	if (shift && v > (UINT64_MAX >> shift)) {
		*why = "too large for 64 bits";
		return -1;
	}
	*out = v << shift;
	return 0;
}

int units_parse_str(const char *s, uint64_t *out, const char **why)
{
	return units_parse_u64(s, strlen(s), out, why);
}
