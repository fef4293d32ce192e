/*
 * cmd_sweep.c - `memsim sweep --plan DIR -p SPEC... TRACE...` writes a job
 * plan for GNU parallel or Slurm; `memsim sweep --job N DIR` runs job N
 * of it (what the plan's command lines call). docs/sweeps.md.
 *
 * Planning: expand the policies (sweep.h), read each trace once with
 * `memsim info`'s pass for its peaks, cut the work into jobs that fit the
 * memory budget (plan.h), then write into DIR, each file atomically:
 *   plan.json   everything a job needs (policies in full, traces, jobs)
 *   jobs.txt    one shell command a line, for `parallel < jobs.txt`
 *   slurm.sh    an array job script, `sbatch slurm.sh`
 *   plan.txt    the jobs for people to read
 *   results/    where the jobs write
 * A job writes results/job-N.started when it starts, then either
 * results/job-N.json (its replay, atomically) or results/job-N.failed
 * (its exit status and message), so `memsim merge` can tell finished,
 * failed, unfinished and never-started jobs apart.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include "cli.h"
#include "engine.h"
#include "info.h"
#include "plan.h"
#include "report.h"
#include "sweep.h"
#include "units.h"
#include "xalloc.h"

static void sweep_help(FILE *out)
{
	fprintf(out,
		"usage: memsim sweep --plan DIR [OPTIONS] -p POLICY [-p POLICY...] TRACE...\n"
		"       memsim sweep --job N DIR\n"
		"\n"
		"Plans a sweep too big for one replay as jobs for GNU parallel or Slurm:\n"
		"each job replays one TRACE under a group of the policies, sized so that\n"
		"its memory stays within --max-memory (estimated from each trace's peak\n"
		"live objects and references, as 'memsim info' finds them), and writes\n"
		"one JSON result into DIR/results. POLICY is as for replay, sweep sets\n"
		"included ('{64K,256K}', '{1K..4M*2}', '{700..10000+700}').\n"
		"\n"
		"DIR gets plan.json, plan.txt, jobs.txt (one shell command a line, run\n"
		"from any directory) and slurm.sh (an array job, 1-N). Then:\n"
		"  parallel --joblog DIR/joblog < DIR/jobs.txt       (this machine)\n"
		"  parallel --sshloginfile HOSTS --joblog DIR/joblog < DIR/jobs.txt\n"
		"  cd DIR && sbatch slurm.sh                          (a Slurm cluster)\n"
		"and 'memsim merge DIR' for the report. Traces and DIR must be at the\n"
		"same paths wherever the jobs run.\n"
		"\n"
		"Options:\n"
		"      --plan DIR          write the plan into DIR (new, empty, or holding\n"
		"                          this same plan)\n"
		"  -p, --policy POLICY     a policy or sweep (repeatable)\n"
		"      --max-memory SIZE   memory per job (K/M/G suffixes; default: this\n"
		"                          machine's memory divided by --slots)\n"
		"      --slots N           jobs that run at once (default: this machine's\n"
		"                          CPUs); with few traces, each trace's policies are\n"
		"                          split into enough jobs to keep N busy\n"
		"      --memsim PATH       the memsim the jobs run (default: this one)\n"
		"      --force             allow more than 10000 policies (at most 100000)\n"
		"      --job N DIR         run job N of the plan in DIR (jobs.txt does)\n"
		"  -q, --quiet             no progress line\n"
		"  -h, --help              this help\n"
		"\n"
		"Examples:\n"
		"  memsim sweep --plan sw -p 'cpython-3.11:allocator.arena_size={64K,256K,1M,4M}:gc.threshold0={700,2000,10000}' \\\n"
		"      traces/*.trace.gz\n"
		"  parallel --joblog sw/joblog < sw/jobs.txt && memsim merge sw\n"
		"  memsim sweep --plan /shared/sw --max-memory 16G --slots 200 -p ... /shared/traces/*.msb\n");
}

struct sweep_args {
	const char *plan_dir;
	const char *job_dir;
	const char *job;
	const char **specs;
	size_t nspecs;
	uint64_t budget;        /* 0: default */
	uint64_t slots;         /* 0: default */
	const char *memsim;
	int force, quiet;
	char **traces;
	size_t ntraces;
};

enum { OPT_PLAN = 256, OPT_JOB, OPT_MAXMEM, OPT_SLOTS, OPT_MEMSIM, OPT_FORCE };

static int parse_size_opt(const char *opt, const char *s, uint64_t *out,
			  struct ms_error *err)
{
	const char *why;

	if (units_parse_str(s, out, &why) != 0 || *out == 0)
		return ms_error_set(err, MS_EXIT_USAGE,
				    "sweep: %s wants a size like 512M or 4G, not '%s'", opt, s);
	return 0;
}

static int parse_args(int argc, char **argv, struct sweep_args *a, struct ms_error *err)
{
	static const struct option longopts[] = {
		{ "plan", required_argument, NULL, OPT_PLAN },
		{ "job", required_argument, NULL, OPT_JOB },
		{ "policy", required_argument, NULL, 'p' },
		{ "max-memory", required_argument, NULL, OPT_MAXMEM },
		{ "slots", required_argument, NULL, OPT_SLOTS },
		{ "memsim", required_argument, NULL, OPT_MEMSIM },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long long v;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:qh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_PLAN:
			if (!*optarg)
				return ms_error_set(err, MS_EXIT_USAGE,
						    "sweep: --plan wants a directory name");
			a->plan_dir = optarg;
			break;
		case OPT_JOB:
			a->job = optarg;
			break;
		case 'p':
			a->specs = xreallocarray(a->specs, a->nspecs + 1, sizeof *a->specs);
			a->specs[a->nspecs++] = optarg;
			break;
		case OPT_MAXMEM:
			if (parse_size_opt("--max-memory", optarg, &a->budget, err))
				return err->code;
			break;
		case OPT_SLOTS:
			if (cli_parse_u64("--slots", optarg, &v, err))
				return err->code;
			if (v == 0 || v > 1000000)
				return ms_error_set(err, MS_EXIT_USAGE,
						    "sweep: --slots must be 1 to 1000000, not %llu", v);
			a->slots = v;
			break;
		case OPT_MEMSIM:
			a->memsim = optarg;
			break;
		case OPT_FORCE:
			a->force = 1;
			break;
		case 'q':
			a->quiet = 1;
			break;
		case 'h':
			sweep_help(stdout);
			return -1;
		default:
			return cli_bad_option("sweep", c, argv[optind - 1], err);
		}
	}
	if (a->job) {
		if (a->plan_dir || a->nspecs || argc - optind != 1)
			return ms_error_set(err, MS_EXIT_USAGE,
					    "sweep: --job N takes the plan directory and nothing "
					    "else: memsim sweep --job N DIR");
		a->job_dir = argv[optind];
		return 0;
	}
	if (!a->plan_dir)
		return ms_error_set(err, MS_EXIT_USAGE,
				    "sweep: say where the plan goes: --plan DIR");
	if (a->nspecs == 0)
		return ms_error_set(err, MS_EXIT_USAGE,
				    "sweep: no policy given: add -p POLICY");
	if (optind >= argc)
		return ms_error_set(err, MS_EXIT_USAGE, "sweep: no trace given");
	a->traces = argv + optind;
	a->ntraces = (size_t)(argc - optind);
	return 0;
}

/* --- files ------------------------------------------------------------ */

static char *path_join(const char *dir, const char *name)
{
	char *p = xmalloc(strlen(dir) + strlen(name) + 2);

	sprintf(p, "%s/%s", dir, name);
	return p;
}

/* Reads a whole file into a NUL-terminated string, or NULL (errno set). */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct strbuf sb;
	char buf[65536];
	size_t n;

	if (!f)
		return NULL;
	sb_init(&sb);
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		sb_putn(&sb, buf, n);
	if (ferror(f)) {
		int e = errno;

		fclose(f);
		sb_free(&sb);
		errno = e;
		return NULL;
	}
	fclose(f);
	sb_putn(&sb, "", 0);
	return sb.buf;
}

/* Writes dir/name atomically and makes it readable as umask allows
 * (cli_emit's temporary files are private). */
static int write_file(const char *dir, const char *name, const struct strbuf *sb,
		      mode_t mode, struct ms_error *err)
{
	char *path = path_join(dir, name);
	mode_t mask = umask(0);
	int rc;

	umask(mask);
	rc = cli_emit(path, sb, err);
	if (rc == 0)
		chmod(path, mode & ~mask);
	free(path);
	return rc;
}

/* An absolute path of an existing file, or NULL with err (66). */
static char *absolute(const char *path, const char *what, struct ms_error *err)
{
	char *abs = realpath(path, NULL);

	if (!abs) {
		ms_error_at(err, path, 0);
		ms_error_set(err, errno == ENOENT ? MS_EXIT_NOINPUT : MS_EXIT_IOERR,
			     "cannot find %s: %s", what, strerror(errno));
	}
	return abs;
}

/* The plan's one-line-per-job files cannot hold a newline in a path. */
static int check_line_safe(const char *path, const char *what, struct ms_error *err)
{
	if (strpbrk(path, "\n\r"))
		return ms_error_set(err, MS_EXIT_USAGE,
				    "sweep: the %s path holds a line break, which no "
				    "one-command-a-line jobs.txt can carry: rename it", what);
	return 0;
}

/*
 * DIR must be new, empty, or hold the very plan `id` (planning again
 * rewrites the same files and keeps the results). Creates DIR and
 * DIR/results. Returns 0 or an exit status with err filled.
 */
static int prepare_dir(const char *dir, const char *id, struct ms_error *err)
{
	char *plan_path = path_join(dir, "plan.json"), *text, *results;
	DIR *d;
	struct dirent *e;
	int rc = 0, entries = 0;

	if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
		ms_error_at(err, dir, 0);
		rc = ms_error_set(err, MS_EXIT_IOERR, "cannot create the plan directory: %s",
				  strerror(errno));
		goto out;
	}
	text = slurp(plan_path);
	if (text) {
		cJSON *doc = cJSON_Parse(text);
		const cJSON *old = cJSON_GetObjectItemCaseSensitive(doc, "plan_id");

		if (!cJSON_IsString(old) || strcmp(old->valuestring, id) != 0)
			rc = ms_error_set(err, MS_EXIT_USAGE,
					  "sweep: %s holds another plan (%s): plan into a new "
					  "directory, or remove that one first", dir,
					  cJSON_IsString(old) ? old->valuestring : "unreadable");
		cJSON_Delete(doc);
		free(text);
		goto out;
	}
	d = opendir(dir);
	while (d && (e = readdir(d)) != NULL)
		entries += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	if (d)
		closedir(d);
	if (!d || entries)
		ms_error_at(err, dir, 0);
	if (!d)
		rc = ms_error_set(err, MS_EXIT_IOERR, "cannot read the plan directory: %s",
				  strerror(errno));
	else if (entries)
		rc = ms_error_set(err, MS_EXIT_USAGE,
				  "sweep: the directory is not empty and holds no plan: "
				  "plan into a new or empty directory");
out:
	results = path_join(dir, "results");
	if (rc == 0 && mkdir(results, 0777) != 0 && errno != EEXIST) {
		ms_error_at(err, results, 0);
		rc = ms_error_set(err, MS_EXIT_IOERR, "cannot create: %s", strerror(errno));
	}
	free(results);
	free(plan_path);
	return rc;
}

/* --- planning ---------------------------------------------------------- */

/* `memsim info`'s pass over one trace, for its peaks. */
static int read_peaks(const char *path, struct plan_trace *t, struct ms_error *err)
{
	struct trace_reader *r = trace_open(path, err);
	struct info_result res;
	int rc;

	if (!r)
		return err->code;
	rc = info_run(r, NULL, &res, err);
	if (rc == 0) {
		t->events = res.events_total;
		t->peak_live_objects = res.peak_live_objects.value;
		t->peak_live_refs = res.peak_live_refs;
		t->peak_live_bytes = res.peak_live_bytes.value;
	}
	info_free(&res);
	trace_close(r);
	return rc;
}

static uint64_t default_budget(uint64_t slots)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
	uint64_t total = pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size
					       : UINT64_C(4) << 30;

	return total / slots;
}

static uint64_t default_slots(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (uint64_t)n : 1;
}

/* The plan's policies: the variants of every -p, moved out of the list. */
static int plan_policies(const struct sweep_args *a, struct plan *plan,
			 struct ms_error *err)
{
	struct sweep_list list;

	if (sweep_expand(a->specs, a->nspecs, a->force ? SWEEP_LIMIT_FORCED : SWEEP_LIMIT,
			 &list, err))
		return err->code;
	plan->npol = list.n;
	plan->pol = xcalloc(list.n, sizeof *plan->pol);
	plan->set = xcalloc(list.n, sizeof *plan->set);
	plan->nset = xcalloc(list.n, sizeof *plan->nset);
	for (size_t i = 0; i < list.n; i++) {
		plan->pol[i] = list.v[i].policy;
		plan->set[i] = list.v[i].set;
		plan->nset[i] = list.v[i].nset;
		list.v[i].policy = NULL;
		list.v[i].set = NULL;
		list.v[i].nset = 0;
	}
	sweep_list_free(&list);
	plan->specs = xcalloc(a->nspecs, sizeof *plan->specs);
	for (size_t i = 0; i < a->nspecs; i++)
		plan->specs[plan->nspecs++] = xstrdup(a->specs[i]);
	return 0;
}

static int plan_traces(const struct sweep_args *a, struct plan *plan,
		       struct ms_error *err)
{
	plan->traces = xcalloc(a->ntraces, sizeof *plan->traces);
	for (size_t i = 0; i < a->ntraces; i++) {
		struct plan_trace *t = &plan->traces[i];

		if (strcmp(a->traces[i], "-") == 0)
			return ms_error_set(err, MS_EXIT_USAGE,
					    "sweep: a plan's jobs read their traces again: "
					    "standard input cannot be planned");
		t->path = absolute(a->traces[i], "the trace", err);
		if (!t->path)
			return err->code;
		plan->ntraces++;
		for (size_t j = 0; j + 1 < plan->ntraces; j++)
			if (strcmp(plan->traces[j].path, t->path) == 0)
				return ms_error_set(err, MS_EXIT_USAGE,
						    "sweep: the trace %s is given twice", t->path);
		if (read_peaks(t->path, t, err))
			return err->code;
	}
	return 0;
}

static void jobs_txt(struct strbuf *sb, const struct plan *plan, const char *dir)
{
	char n[24];

	for (size_t i = 0; i < plan->njobs; i++) {
		snprintf(n, sizeof n, "%zu", i + 1);
		plan_job_command(sb, plan, dir, n);
		sb_putc(sb, '\n');
	}
}

static void slurm_sh(struct strbuf *sb, const struct plan *plan, const char *dir)
{
	sb_printf(sb,
		  "#!/bin/sh\n"
		  "# memsim sweep plan %s: %zu jobs, one trace and a group of policies\n"
		  "# each (plan.txt lists them). Submit from the plan directory, where\n"
		  "# Slurm then writes each task's slurm-JOBID_TASK.out:\n"
		  "#   cd ", plan->id, plan->njobs);
	plan_shell_quote(sb, dir);
	sb_printf(sb,
		  " && sbatch slurm.sh\n"
		  "# Each task writes results/job-TASK.json; then: memsim merge DIR.\n"
		  "#SBATCH --job-name=memsim-sweep\n"
		  "#SBATCH --array=1-%zu\n"
		  "#SBATCH --ntasks=1\n"
		  "#SBATCH --cpus-per-task=1\n"
		  "#SBATCH --mem=%" PRIu64 "M\n"
		  "exec ", plan->njobs, (plan->budget + (1u << 20) - 1) >> 20);
	plan_job_command(sb, plan, dir, "\"$SLURM_ARRAY_TASK_ID\"");
	sb_putc(sb, '\n');
}

static void plan_txt(struct strbuf *sb, const struct plan *plan)
{
	sb_printf(sb, "memsim sweep plan %s: %zu policies x %zu traces in %zu jobs, "
		  "at most %" PRIu64 " MiB each, for %" PRIu64 " at once\n",
		  plan->id, plan->npol, plan->ntraces, plan->njobs, plan->budget >> 20,
		  plan->slots);
	for (size_t i = 0; i < plan->njobs; i++) {
		const struct plan_job *j = &plan->jobs[i];

		sb_printf(sb, "\njob %zu: %s, %zu policies, about %" PRIu64 " MiB\n", i + 1,
			  plan->traces[j->trace].path, j->n, (j->estimate + (1u << 20) - 1) >> 20);
		for (size_t k = j->first; k < j->first + j->n; k++)
			sb_printf(sb, "  %s\n", plan->pol[k]->name);
	}
}

/* What to run next, with the directory quoted as the shell needs it. */
static void summarise(struct strbuf *sb, const struct plan *plan, const char *dir)
{
	char *joblog = path_join(dir, "joblog"), *jobs = path_join(dir, "jobs.txt");

	sb_printf(sb, "memsim: planned %zu jobs (%zu policies x %zu traces) in %s,"
		  " at most %" PRIu64 " MiB each\n  GNU parallel: parallel --joblog ",
		  plan->njobs, plan->npol, plan->ntraces, dir, plan->budget >> 20);
	plan_shell_quote(sb, joblog);
	sb_puts(sb, " < ");
	plan_shell_quote(sb, jobs);
	sb_puts(sb, "\n  Slurm:        cd ");
	plan_shell_quote(sb, dir);
	sb_puts(sb, " && sbatch slurm.sh\n  then:         memsim merge ");
	plan_shell_quote(sb, dir);
	sb_putc(sb, '\n');
	free(joblog);
	free(jobs);
}

static int write_plan(struct plan *plan, const char *dir, struct strbuf *summary,
		      struct ms_error *err)
{
	struct strbuf json, sb;
	int rc;

	sb_init(&json);
	plan_to_json(plan, &json);
	rc = prepare_dir(dir, plan->id, err);
	if (rc == 0)
		rc = write_file(dir, "plan.json", &json, 0666, err);
	sb_free(&json);
	sb_init(&sb);
	if (rc == 0) {
		plan_txt(&sb, plan);
		rc = write_file(dir, "plan.txt", &sb, 0666, err);
	}
	sb.len = 0;
	if (rc == 0) {
		jobs_txt(&sb, plan, dir);
		rc = write_file(dir, "jobs.txt", &sb, 0666, err);
	}
	sb.len = 0;
	if (rc == 0) {
		slurm_sh(&sb, plan, dir);
		rc = write_file(dir, "slurm.sh", &sb, 0777, err);
	}
	sb_free(&sb);
	if (rc == 0)
		summarise(summary, plan, dir);
	return rc;
}

static int run_plan(const struct sweep_args *a, struct ms_error *err)
{
	struct plan plan = { .version = xstrdup(MEMSIM_VERSION) };
	struct strbuf summary;
	char *dir = NULL;
	int rc;

	plan.slots = a->slots ? a->slots : default_slots();
	plan.budget = a->budget ? a->budget : default_budget(plan.slots);
	plan.memsim = a->memsim ? xstrdup(a->memsim) : absolute("/proc/self/exe", "memsim", err);
	rc = plan.memsim ? check_line_safe(plan.memsim, "memsim", err) : err->code;
	if (rc == 0 && a->memsim && a->memsim[0] != '/')
		rc = ms_error_set(err, MS_EXIT_USAGE,
				  "sweep: --memsim wants an absolute path (the jobs run "
				  "from any directory), not '%s'", a->memsim);
	if (rc == 0)
		rc = check_line_safe(a->plan_dir, "plan directory", err);
	if (rc == 0)
		rc = plan_policies(a, &plan, err);
	if (rc == 0)
		rc = plan_traces(a, &plan, err);
	if (rc == 0)
		rc = plan_jobs(&plan, err);
	/* The directory's absolute name goes into the commands: create it
	 * first (prepare_dir accepts it new and empty). */
	if (rc == 0 && mkdir(a->plan_dir, 0777) != 0 && errno != EEXIST) {
		ms_error_at(err, a->plan_dir, 0);
		rc = ms_error_set(err, MS_EXIT_IOERR, "cannot create the plan directory: %s",
				  strerror(errno));
	}
	if (rc == 0)
		dir = absolute(a->plan_dir, "the plan directory", err);
	sb_init(&summary);
	if (rc == 0 && dir)
		rc = write_plan(&plan, dir, &summary, err);
	else if (rc == 0)
		rc = err->code;
	if (rc == 0 && !a->quiet)
		rc = cli_emit(NULL, &summary, err);
	sb_free(&summary);
	free(dir);
	plan_free(&plan);
	return rc;
}

/* --- one job ----------------------------------------------------------- */

/* Writes results/job-N.SUFFIX (atomically); returns cli_emit's status. */
static int job_file(const char *dir, const char *job, const char *suffix,
		    const struct strbuf *sb, struct ms_error *err)
{
	char name[64];
	char *results = path_join(dir, "results");
	int rc;

	snprintf(name, sizeof name, "job-%s.%s", job, suffix);
	rc = write_file(results, name, sb, 0666, err);
	free(results);
	return rc;
}

static void remove_job_file(const char *dir, const char *job, const char *suffix)
{
	char name[80];
	char *path;

	snprintf(name, sizeof name, "results/job-%s.%s", job, suffix);
	path = path_join(dir, name);
	unlink(path);
	free(path);
}

/* The result document: who made it, for which plan and job, and the
 * replay's JSON report. */
static void result_json(struct strbuf *out, const struct plan *plan, size_t job,
			const struct record *rec)
{
	const struct record_trace *run = &rec->traces[0];
	struct report_opts opts = { 0 };
	cJSON *doc = cJSON_CreateObject(), *names = cJSON_CreateArray();
	struct strbuf rep;

	sb_init(&rep);
	report_format_json.write(&rep, rec, &opts);
	cJSON_AddNumberToObject(doc, "memsim_sweep_result", 1);
	cJSON_AddStringToObject(doc, "memsim_version", MEMSIM_VERSION);
	cJSON_AddStringToObject(doc, "plan_id", plan->id);
	cJSON_AddNumberToObject(doc, "job", (double)job);
	cJSON_AddStringToObject(doc, "trace", plan->traces[plan->jobs[job - 1].trace].path);
	for (size_t i = 0; i < run->npol; i++)
		cJSON_AddItemToArray(names, cJSON_CreateString(run->pol[i].name));
	cJSON_AddItemToObject(doc, "policies", names);
	/* raw: the report's numbers stay as report_json wrote them (a
	 * re-parse would print them with cJSON's 15 digits) */
	cJSON_AddRawToObject(doc, "report", sb_str(&rep));
	sb_put_json(out, doc);
	cJSON_Delete(doc);
	sb_free(&rep);
}

static int replay_job(const struct plan *plan, size_t job, const char *dir,
		      struct ms_error *err)
{
	const struct plan_job *j = &plan->jobs[job - 1];
	const struct plan_trace *t = &plan->traces[j->trace];
	struct engine_opts opts = { .jobs = 0 };
	struct record rec = { 0 };
	struct record_trace run;
	struct strbuf sb;
	char name[24];
	int rc;

	snprintf(name, sizeof name, "%zu", job);
	rc = engine_replay_opts(t->path, plan->pol + j->first, j->n, &opts, &run, err);
	if (rc)
		return rc;
	if (run.events != t->events) {
		uint64_t now = run.events;

		record_trace_free(&run);
		ms_error_at(err, t->path, 0);
		return ms_error_set(err, MS_EXIT_DATAERR,
				    "the trace changed since it was planned (%" PRIu64
				    " events then, %" PRIu64 " now): plan again", t->events,
				    now);
	}
	*record_add_trace(&rec) = run;
	sb_init(&sb);
	result_json(&sb, plan, job, &rec);
	record_free(&rec);
	rc = job_file(dir, name, "json", &sb, err);
	sb_free(&sb);
	return rc;
}

static int run_job(const struct sweep_args *a, struct ms_error *err)
{
	char *path = path_join(a->job_dir, "plan.json"), *text = slurp(path);
	struct plan plan;
	struct strbuf sb;
	char line[1024];
	unsigned long long job;
	int rc;

	if (!text) {
		ms_error_at(err, path, 0);
		rc = ms_error_set(err, errno == ENOENT ? MS_EXIT_NOINPUT : MS_EXIT_IOERR,
				  "cannot read the plan: %s", strerror(errno));
		free(path);
		return rc;
	}
	rc = plan_from_json(text, path, MEMSIM_VERSION, &plan, err);
	free(text);
	free(path);
	if (rc)
		return rc;
	rc = cli_parse_u64("--job", a->job, &job, err);
	if (rc == 0 && (job == 0 || job > plan.njobs))
		rc = ms_error_set(err, MS_EXIT_USAGE,
				  "sweep: the plan in %s has jobs 1 to %zu, not %llu",
				  a->job_dir, plan.njobs, job);
	if (rc == 0) {
		char name[24];

		snprintf(name, sizeof name, "%llu", job);
		sb_init(&sb);
		sb_printf(&sb, "plan %s job %llu started\n", plan.id, job);
		remove_job_file(a->job_dir, name, "failed");
		rc = job_file(a->job_dir, name, "started", &sb, err);
		sb_free(&sb);
		if (rc == 0)
			rc = replay_job(&plan, (size_t)job, a->job_dir, err);
		if (rc) {
			struct ms_error keep = *err;

			ms_error_format(err, line, sizeof line);
			sb_init(&sb);
			sb_printf(&sb, "exit %d\n%s\n", rc, line);
			job_file(a->job_dir, name, "failed", &sb, err);
			sb_free(&sb);
			*err = keep;
		}
	}
	plan_free(&plan);
	return rc;
}

static int sweep_run(int argc, char **argv, struct ms_error *err)
{
	struct sweep_args a = { 0 };
	int rc = parse_args(argc, argv, &a, err);

	if (rc == 0)
		rc = a.job ? run_job(&a, err) : run_plan(&a, err);
	free(a.specs);
	return rc < 0 ? 0 : rc;
}

const struct cli_command cmd_sweep = {
	.name = "sweep",
	.summary = "plan a sweep as jobs for GNU parallel or Slurm (and run one job)",
	.run = sweep_run,
};
