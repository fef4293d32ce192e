/*
 * plan.h - a sweep cut into jobs that fit a memory budget (`memsim sweep`).
 *
 * A plan is what `memsim sweep --plan DIR` writes and every job reads:
 * the policies (each in its complete JSON form, so a job needs neither
 * the policy files nor the planner's presets' history), the traces with
 * the facts `memsim info` found in them, and the jobs: one trace and a
 * group of policies each, sized so that the job's estimated peak RSS
 * stays within the budget. docs/sweeps.md describes the files.
 *
 * The estimate (docs/sweeps.md, "How big a job is"): a replay's memory
 * is its policies' heaps, which scale with the live set, not with the
 * trace's length (docs/performance.md). Per policy:
 *   PLAN_BYTES_PER_OBJECT x peak live objects   (pymalloc object allocator:
 *                         the 64-byte object, its ID-map entry, the
 *                         allocator's records, the map's old and new
 *                         tables while it grows), or
 *   PLAN_BYTES_PER_OBJECT_GLIBC                 when glibc serves every
 *                         object (a 40-byte chunk record each, and the
 *                         free chunks' tree);
 *   + PLAN_BYTES_PER_REF x peak live references  (edge vectors, grown
 *                         by doubling);
 *   + PLAN_BYTES_PER_POLICY                     (free lists, pause records,
 *                         tables);
 * and PLAN_BYTES_PER_JOB once (the program, the reader's buffers, the
 * type table). The coefficients are upper bounds of what replays of the
 * generated traces measured (tests/e2e/sweep_plan.sh checks that a job's
 * measured peak RSS lies between half the estimate and the estimate).
 */
#ifndef MEMSIM_PLAN_H
#define MEMSIM_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "info.h"
#include "policy.h"
#include "strbuf.h"
#include "sweep.h"

#define PLAN_FORMAT 1                           /* "memsim_plan" */
#define PLAN_BYTES_PER_OBJECT 160u              /* bytes */
#define PLAN_BYTES_PER_OBJECT_GLIBC 224u        /* bytes */
#define PLAN_BYTES_PER_REF 8u                   /* bytes */
#define PLAN_BYTES_PER_POLICY (256u << 10)      /* bytes */
#define PLAN_BYTES_PER_JOB (4u << 20)           /* bytes */

/* What a plan knows of a trace: `memsim info`'s peaks. */
struct plan_trace {
	char *path;                     /* absolute */
	uint64_t events;
	uint64_t peak_live_objects;
	uint64_t peak_live_refs;
	uint64_t peak_live_bytes;
};

struct plan_job {
	size_t trace;                   /* index into traces */
	size_t first, n;                /* policies [first, first + n) */
	uint64_t estimate;              /* bytes of peak RSS */
};

struct plan {
	char id[17];                    /* 16 hex digits of the content's hash */
	char *version;                  /* memsim's that made it */
	char *memsim;                   /* the program the jobs run (absolute) */
	uint64_t budget;                /* bytes per job */
	uint64_t slots;                 /* jobs meant to run at once */
	char **specs;                   /* -p as given */
	size_t nspecs;
	struct policy **pol;            /* owned */
	struct sweep_setting **set;     /* per policy: its swept knobs */
	size_t *nset;
	size_t npol;
	struct plan_trace *traces;
	size_t ntraces;
	struct plan_job *jobs;
	size_t njobs;
};

/* Bytes of one policy replaying trace t (the estimate above). */
uint64_t plan_policy_bytes(const struct policy *p, const struct plan_trace *t);

/*
 * Cuts plan->pol over plan->traces into plan->jobs: per trace, the
 * fewest jobs whose estimates fit plan->budget, but at least
 * min(policies, ceil(slots / traces)) so that `slots` engines have work;
 * each trace's policies are split in order into groups of near-equal
 * size. Returns 0, or MS_EXIT_USAGE when one policy alone exceeds the
 * budget (err names the trace, policy and sizes).
 */
int plan_jobs(struct plan *plan, struct ms_error *err);

/* The plan's JSON form (plan.json), with plan->id computed from it. */
void plan_to_json(struct plan *plan, struct strbuf *out);

/*
 * Reads a plan.json text (`origin` names it in errors). Returns 0 with
 * *plan filled (free with plan_free), or MS_EXIT_CONFIG when it is not a
 * plan, not of this format, or made by another memsim version.
 */
int plan_from_json(const char *text, const char *origin, const char *version,
		   struct plan *plan, struct ms_error *err);

void plan_free(struct plan *plan);

/* Appends s as one POSIX shell word: single-quoted, ' as '\''. */
void plan_shell_quote(struct strbuf *sb, const char *s);

/* The shell command that runs job `job` (1-based) of the plan in dir. */
void plan_job_command(struct strbuf *sb, const struct plan *plan, const char *dir,
		      const char *job);

#endif
