/*
 * decimal.h - unsigned integers as decimal digits, without libc.
 *
 * One formatter for every place that writes trace numbers by hand: the
 * text trace writer (tracetext.c) and the malloc recorder (tools/memrec.c),
 * which runs inside malloc and so may call neither malloc nor stdio. It is
 * header-only and `static inline` so memrec.c can use it without linking
 * the simulator library.
 */
#ifndef MEMSIM_DECIMAL_H
#define MEMSIM_DECIMAL_H

#include <stdint.h>

#define DECIMAL_U64_MAX 20      /* characters: 2^64 - 1 has 20 digits */

/* Writes v in decimal at p, no leading zeros, no NUL; p must have room
 * for DECIMAL_U64_MAX characters. Returns the end of the digits. */
static inline char *decimal_put_u64(char *p, uint64_t v)
{
	char tmp[DECIMAL_U64_MAX];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

#endif
