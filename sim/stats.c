/*
 * stats.c - metric definitions and fragmentation measures (see stats.h).
 */
#include "stats.h"

#include <stddef.h>

const struct stats_def stats_defs[STATS_COUNT_] = {
#define STATS_DEF(id, sec, group, key, label, unit, kind, idle, base) \
	[STATS_##id] = { STATS_SEC_##sec, group, key, label, UNIT_##unit, KIND_##kind, \
			 idle, STATS_##base },
	STATS_METRICS(STATS_DEF)
#undef STATS_DEF
};

const char *const stats_section_name[STATS_NSECTIONS] = {
#define STATS_SEC_NAME_(id, name, title) [STATS_SEC_##id] = name,
	STATS_SECTIONS(STATS_SEC_NAME_)
#undef STATS_SEC_NAME_
};

const char *const stats_section_title[STATS_NSECTIONS] = {
#define STATS_SEC_TITLE_(id, name, title) [STATS_SEC_##id] = title,
	STATS_SECTIONS(STATS_SEC_TITLE_)
#undef STATS_SEC_TITLE_
};

#define STATS_COLUMN_(id, key, label, unit, kind) { key, label, UNIT_##unit, KIND_##kind },
const struct stats_column stats_gen_columns[STATS_GEN_NCOLS] = {
	STATS_GEN_COLUMNS(STATS_COLUMN_)
};

const struct stats_column stats_type_columns[STATS_TYPE_NCOLS] = {
	STATS_TYPE_COLUMNS(STATS_COLUMN_)
};
#undef STATS_COLUMN_

void stats_frag_step(struct stats_frag *f, uint64_t live, uint64_t footprint,
		     double dt)
{
	f->sum_live += (double)live * dt;
	f->sum_footprint += (double)footprint * dt;
	f->sum_dt += dt;
	if (live > f->peak_live) {
		f->peak_live = live;
		f->footprint_at_peak_live = footprint;
	}
	if (footprint > f->peak_footprint) {
		f->peak_footprint = footprint;
		f->live_at_peak_footprint = live;
	}
}

static double excess(double used, double requested)
{
	return requested > 0 ? (used - requested) / requested : 0;
}

/* #1: memory used relative to memory requested, averaged over time. */
double stats_jw1(const struct stats_frag *f)
{
	return excess(f->sum_footprint, f->sum_live);
}

/* #2: memory used relative to requested, at the point of peak live. */
double stats_jw2(const struct stats_frag *f)
{
	return excess((double)f->footprint_at_peak_live, (double)f->peak_live);
}

/* #3: memory used relative to requested, at the point of peak footprint. */
double stats_jw3(const struct stats_frag *f)
{
	return excess((double)f->peak_footprint, (double)f->live_at_peak_footprint);
}

/* #4: peak memory used relative to peak requested (independent maxima). */
double stats_jw4(const struct stats_frag *f)
{
	return excess((double)f->peak_footprint, (double)f->peak_live);
}

double stats_mean_live(const struct stats_frag *f)
{
	return f->sum_dt > 0 ? f->sum_live / f->sum_dt : 0;
}
