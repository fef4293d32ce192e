/*
 * unit.h - what a reported number is measured in, and what kind of value
 * it is (a leaf header: every layer that describes a number uses it).
 *
 * The unit decides how people see a value (bytes as KiB/MiB, ns as
 * us/ms/s, ratios as percentages) and names it in JSON and docs; the
 * kind says when the value was taken, so a report can say "at end" of a
 * final value and never subtract a peak's event index. docs/metrics.md
 * lists every metric with both.
 */
#ifndef MEMSIM_UNIT_H
#define MEMSIM_UNIT_H

#include <string.h>

/* X(id, name): name is the JSON and docs spelling. */
#define UNIT_LIST(X) \
	X(BYTES, "bytes") \
	X(COUNT, "count") \
	X(OBJECTS, "objects") \
	X(REFERENCES, "references") \
	X(EVENT, "event") \
	X(RATIO, "ratio") \
	X(NS, "ns")

enum unit {
#define UNIT_ENUM_(id, name) UNIT_##id,
	UNIT_LIST(UNIT_ENUM_)
#undef UNIT_ENUM_
	UNIT_N
};

/* X(id, name) */
#define KIND_LIST(X) \
	X(PEAK, "peak")         /* the largest value over the run */ \
	X(AT, "at")             /* the event (1-based) where a peak was reached */ \
	X(FINAL, "final")       /* the value at the end of the run */ \
	X(TOTAL, "total")       /* summed or counted over the run */ \
	X(DIST, "distribution") /* a statistic of a distribution (mean, p95) */ \
	X(SETTING, "setting")   /* a parameter in force at the end */

enum kind {
#define KIND_ENUM_(id, name) KIND_##id,
	KIND_LIST(KIND_ENUM_)
#undef KIND_ENUM_
	KIND_N
};

/* "bytes", "count", ...; NULL for an out-of-range value. */
static inline const char *unit_name(int u)
{
	static const char *const names[UNIT_N] = {
#define UNIT_NAME_(id, name) [UNIT_##id] = name,
		UNIT_LIST(UNIT_NAME_)
#undef UNIT_NAME_
	};

	return u >= 0 && u < UNIT_N ? names[u] : NULL;
}

static inline const char *kind_name(int k)
{
	static const char *const names[KIND_N] = {
#define KIND_NAME_(id, name) [KIND_##id] = name,
		KIND_LIST(KIND_NAME_)
#undef KIND_NAME_
	};

	return k >= 0 && k < KIND_N ? names[k] : NULL;
}

/* The unit or kind named `name`; -1 when none is. */
static inline int unit_find(const char *name)
{
	for (int u = 0; u < UNIT_N; u++)
		if (strcmp(unit_name(u), name) == 0)
			return u;
	return -1;
}

static inline int kind_find(const char *name)
{
	for (int k = 0; k < KIND_N; k++)
		if (strcmp(kind_name(k), name) == 0)
			return k;
	return -1;
}

#endif
