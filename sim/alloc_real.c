/*
 * alloc_real.c - the `real` allocator policy: the calls go to a real
 * allocator in a child process and its figures are measured, not
 * modelled (docs/policies.md, "Real allocators"; docs/metrics.md).
 *
 * The presets real:glibc, real:jemalloc, real:tcmalloc and real:mimalloc
 * are the `malloc` preset (CPython 3.11's free lists and collector over
 * PYTHONMALLOC=malloc) with this policy as the allocator, so the same
 * trace gives them the same malloc/free/realloc calls as the `glibc`
 * model gets under `malloc`.
 *
 * Each instance starts tools/replay-real --stream (installed next to the
 * memsim binary, or $MEMSIM_REPLAY_REAL) over a socket pair, with --lib
 * for a library other than glibc (LD_PRELOADed there, never here). Block
 * addresses are synthetic (1, 2, 3, ...): the child keeps the real
 * pointers. Calls are buffered and written in batches, so none waits for
 * an answer; only a measurement does (sync: the engine's sample points
 * and the end), which the child answers with its `point`/`end` line
 * (real_proto.h).
 *
 * What is measured (the child's smaps, less its own tables; docs/
 * metrics.md): footprint = glibc's brk heap + mmapped chunks, else the
 * anonymous mapped bytes; rss = the anonymous resident bytes. Between
 * measurements stats() reports the last ones. Peaks are the child's:
 * glibc's footprint after every call (exact), the others' at every
 * measurement and every `measure_every` calls. `requested`, `allocated`
 * and `blocks` are counted here (allocated = requested: the real usable
 * sizes are not asked for, that would cost a round trip).
 *
 * Failures of the child (a signal, running out of memory, exiting early)
 * are kept and reported through fault(): MS_EXIT_SOFTWARE (70) or
 * MS_EXIT_OSERR (71) with what happened; the numbers are then never
 * reported.
 */
#define _GNU_SOURCE
#include "alloc.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "real_proto.h"
#include "xalloc.h"

extern char **environ;

enum { TOUCH_ALL, TOUCH_FIRST, TOUCH_NONE };

struct real_params {
	int lib;                        /* enum real_lib */
	int touch;                      /* TOUCH_* */
	uint64_t measure_every;         /* calls; 0: only at samples */
};

static const char *const lib_choices[] = { "glibc", "jemalloc", "tcmalloc", "mimalloc", NULL };
static const char *const touch_choices[] = { "all", "first", "none", NULL };

static const struct real_params real_defaults = {
	.lib = REAL_GLIBC, .touch = TOUCH_ALL, .measure_every = 10000,
};

#define RP_OFF(f) offsetof(struct real_params, f)
static const struct knob real_knobs[] = {
	{ .name = "lib", .kind = KNOB_ENUM, .offset = RP_OFF(lib), .choices = lib_choices,
	  .doc = "the real allocator the child process replays the calls on" },
	{ .name = "touch", .kind = KNOB_ENUM, .offset = RP_OFF(touch), .choices = touch_choices,
	  .doc = "what the child writes into each block: all bytes, the first of each page, none" },
	{ .name = "measure_every", .kind = KNOB_UINT, .offset = RP_OFF(measure_every),
	  .min = 0, .max = UINT64_C(1) << 40, .unit = "calls",
	  .doc = "the child also reads its memory every N calls, for the peaks (0: never)" },
};

#define REAL_BUF_RECS 2048              /* records written at once */
#define REAL_LINE_MAX 4096              /* bytes of an answer line */
#define REAL_KEYS 40                    /* `key value` pairs kept */

/* The prefix of the child's keys in details(): measured, not modelled. */
#define REAL_PREFIX "measured."
#define REAL_PREFIX_LEN (sizeof REAL_PREFIX - 1)

struct real_kv {
	char key[64];           /* REAL_PREFIX + the child's key */
	uint64_t value;
};

struct real_state {
	struct real_params p;
	int fd;                         /* our end of the socket; -1 after a fault */
	pid_t pid;                      /* the child; 0 once reaped */
	uint64_t next_addr;
	uint64_t event;                 /* 1-based event being applied */
	uint64_t calls_since;           /* calls since the last measurement */
	struct real_rec buf[REAL_BUF_RECS];
	size_t nbuf;
	struct alloc_stats st;
	struct real_kv kv[REAL_KEYS];   /* the last answer */
	size_t nkv;
	int ended;                      /* the `end` line was read */
	int fault;                      /* 0, or the exit status to report */
	char why[200];
};

/* The directory search replay-real does, for validate()'s early error. */
static int lib_installed(int lib)
{
	const char *only = getenv(REAL_LIBDIR_ENV);
	const char *const one[] = { only, NULL };
	const char *const *dirs = only ? one : real_libdirs;
	char path[512];

	if (!real_libs[lib].soname)
		return 1;
	for (int k = 0; dirs[k]; k++) {
		snprintf(path, sizeof path, "%s/%s", dirs[k], real_libs[lib].soname);
		if (access(path, R_OK) == 0)
			return 1;
	}
	return 0;
}

static int real_validate(const void *params, char *msg, size_t msglen)
{
	const struct real_params *p = params;

	if (!lib_installed(p->lib)) {
		/* The caller prefixes the policy's name (real:LIB). */
		snprintf(msg, msglen, "%s is not installed (Debian package %s: "
			 "apt-get install %s)", real_libs[p->lib].soname,
			 real_libs[p->lib].package, real_libs[p->lib].package);
		return -1;
	}
	return 0;
}

/* ---- the child ------------------------------------------------------------ */

#define NO_REPLAYER "real: cannot start replay-real (next to memsim, or $MEMSIM_REPLAY_REAL)"

/* The replay-real binary: $MEMSIM_REPLAY_REAL, else next to memsim's own. */
static void child_path(char *out, size_t len)
{
	const char *env = getenv("MEMSIM_REPLAY_REAL");
	char self[4096];
	ssize_t n;

	if (env && *env) {
		snprintf(out, len, "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0) {
		snprintf(out, len, "replay-real");
		return;
	}
	self[n] = 0;
	char *slash = strrchr(self, '/');

	if (slash)
		slash[1] = 0;
	snprintf(out, len, "%sreplay-real", slash ? self : "");
}

static void set_fault(struct real_state *s, int code, const char *why)
{
	if (s->fault)
		return;
	s->fault = code;
	snprintf(s->why, sizeof s->why, "%s", why);
}

/* Starts the child; a failure is kept as a fault. */
static void child_start(struct real_state *s)
{
	char path[4200], every[24];
	int sv[2];
	posix_spawn_file_actions_t fa;

	s->fd = -1;
	child_path(path, sizeof path);
	snprintf(every, sizeof every, "%llu", (unsigned long long)s->p.measure_every);
	char *argv[] = { path, "--stream", "--lib", (char *)lib_choices[s->p.lib],
			 "--touch", (char *)touch_choices[s->p.touch], "--every", every, NULL };

	if (access(path, X_OK) != 0) {
		set_fault(s, MS_EXIT_OSERR, NO_REPLAYER);
		return;
	}
	/* CLOEXEC: another lane's child must not hold this one's socket open. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		set_fault(s, MS_EXIT_OSERR, "real: cannot make a socket pair");
		return;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 1);
	int rc = posix_spawn(&s->pid, path, &fa, NULL, argv, environ);

	posix_spawn_file_actions_destroy(&fa);
	close(sv[1]);
	if (rc != 0) {
		s->pid = 0;
		close(sv[0]);
		set_fault(s, MS_EXIT_OSERR, NO_REPLAYER);
		return;
	}
	s->fd = sv[0];
}

/* Reaps the child and turns how it ended into a fault (if it failed). */
static void child_reap(struct real_state *s)
{
	int st;
	const char *name = real_libs[s->p.lib].name;
	char what[160];

	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
	if (!s->pid)
		return;
	while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR)
		;
	s->pid = 0;
	if (WIFSIGNALED(st)) {
		snprintf(what, sizeof what, "real:%s: the replayer process was killed by "
			 "signal %d (%s); no numbers", name, WTERMSIG(st), strsignal(WTERMSIG(st)));
		set_fault(s, MS_EXIT_SOFTWARE, what);
	} else if (WIFEXITED(st) && WEXITSTATUS(st) == MS_EXIT_OSERR) {
		snprintf(what, sizeof what, "real:%s: the replayer process ran out of memory "
			 "(its message above names the call); no numbers", name);
		set_fault(s, MS_EXIT_OSERR, what);
	} else if (WIFEXITED(st) && WEXITSTATUS(st) == 127) {
		/* posix_spawn as fork + exec (e.g. under valgrind): exec failed */
		set_fault(s, MS_EXIT_OSERR, NO_REPLAYER);
	} else if (WIFEXITED(st) && WEXITSTATUS(st) == MS_EXIT_CONFIG) {
		snprintf(what, sizeof what, "real:%s: the library did not load", name);
		set_fault(s, MS_EXIT_CONFIG, what);
	} else if (WIFEXITED(st) && (WEXITSTATUS(st) != 0 || !s->ended)) {
		snprintf(what, sizeof what, "real:%s: the replayer process exited with "
			 "status %d before the end; no numbers", name, WEXITSTATUS(st));
		set_fault(s, MS_EXIT_SOFTWARE, what);
	}
}

/* Writes the buffered records. */
static void flush_recs(struct real_state *s)
{
	const char *p = (const char *)s->buf;
	size_t left = s->nbuf * sizeof s->buf[0];

	s->nbuf = 0;
	while (left && s->fd >= 0) {
		ssize_t w = send(s->fd, p, left, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			child_reap(s);  /* it died: say how */
			set_fault(s, MS_EXIT_SOFTWARE, "real: the replayer process stopped reading");
			return;
		}
		p += w;
		left -= (size_t)w;
	}
}

static void put_rec(struct real_state *s, int op, uint64_t id, uint64_t size)
{
	if (s->fault)
		return;
	s->buf[s->nbuf++] = (struct real_rec){
		.op_event = ((uint64_t)op << REAL_OP_SHIFT) | (s->event & REAL_EVENT_MASK),
		.id = id, .size = size,
	};
	if (s->nbuf == REAL_BUF_RECS)
		flush_recs(s);
}

/* Reads one answer line and keeps its `key value` pairs. */
static void read_answer(struct real_state *s)
{
	char line[REAL_LINE_MAX];
	size_t n = 0;

	while (s->fd >= 0) {
		ssize_t r = read(s->fd, line + n, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			child_reap(s);
			set_fault(s, MS_EXIT_SOFTWARE, "real: the replayer process did not answer");
			return;
		}
		if (line[n] == '\n')
			break;
		if (++n == sizeof line - 1) {
			child_reap(s);
			set_fault(s, MS_EXIT_SOFTWARE, "real: an answer line from the replayer is too long");
			return;
		}
	}
	line[n] = 0;
	s->nkv = 0;
	char *save = NULL, *tok = strtok_r(line, " ", &save);   /* point / end */

	while (tok && (tok = strtok_r(NULL, " ", &save)) && s->nkv < REAL_KEYS) {
		char *v = strtok_r(NULL, " ", &save);

		if (!v)
			break;
		snprintf(s->kv[s->nkv].key, sizeof s->kv[0].key, REAL_PREFIX "%s", tok);
		s->kv[s->nkv++].value = strtoull(v, NULL, 10);
	}
}

static uint64_t answer(const struct real_state *s, const char *key)
{
	for (size_t i = 0; i < s->nkv; i++)
		if (strcmp(s->kv[i].key + REAL_PREFIX_LEN, key) == 0)
			return s->kv[i].value;
	return 0;
}

/* Asks for a measurement (op REAL_SAMPLE or REAL_END) and takes it in. */
static void measure(struct real_state *s, int op)
{
	if (s->fault || s->ended)
		return;
	put_rec(s, op, 0, 0);
	flush_recs(s);
	read_answer(s);
	if (s->fault)
		return;
	s->st.footprint = answer(s, s->p.lib == REAL_GLIBC ? "footprint" : "mapped");
	s->st.rss = answer(s, "rss");
	if (op == REAL_END) {
		s->ended = 1;
		child_reap(s);
	}
}

/* ---- the policy ----------------------------------------------------------- */

static void *real_create(const void *params, const struct alloc_inst *lower)
{
	struct real_state *s = xcalloc(1, sizeof *s);

	(void)lower;    /* the real library stands for the whole stack */
	memcpy(&s->p, params, sizeof s->p);
	s->next_addr = 1;
	child_start(s);
	return s;
}

static void real_destroy(void *state)
{
	struct real_state *s = state;

	child_reap(s);  /* closing the socket ends a child that is still reading */
	free(s);
}

static uint64_t real_alloc(void *state, uint64_t size)
{
	struct real_state *s = state;
	uint64_t a = s->next_addr++;

	put_rec(s, REAL_ALLOC, a, size);
	s->st.requested += size;
	s->st.allocated += size;
	s->st.blocks++;
	return a;
}

static uint64_t real_resize(void *state, uint64_t addr, uint64_t old_size,
			    uint64_t new_size)
{
	struct real_state *s = state;

	put_rec(s, REAL_REALLOC, addr, new_size);
	s->st.requested += new_size - old_size;
	s->st.allocated += new_size - old_size;
	return addr;    /* the child keeps where the block moved */
}

static void real_free(void *state, uint64_t addr, uint64_t size)
{
	struct real_state *s = state;

	put_rec(s, REAL_FREE, addr, 0);
	s->st.requested -= size;
	s->st.allocated -= size;
	s->st.blocks--;
}

static uint64_t real_block_size(void *state, uint64_t size)
{
	(void)state;
	return size;
}

static void real_stats(void *state, struct alloc_stats *out)
{
	*out = ((struct real_state *)state)->st;
}

/*
 * What the child's keys mean (tools/replay-real.c writes them; the
 * library's own names where it has them: glibc's mallinfo2 fields,
 * jemalloc's mallctl "stats.*", gperftools' MallocExtension properties,
 * mimalloc's mi_process_info), so every measured counter is reported
 * with a label, unit and kind like the models' (test_metrics checks that
 * the table exists; real_policy.sh that every key the child sends is in
 * it).
 */
static const struct alloc_counter_def real_counters[] = {
	{ REAL_PREFIX "calls", "calls replayed", UNIT_COUNT, KIND_TOTAL },
	{ REAL_PREFIX "mapped", "mapped (anonymous)", UNIT_BYTES, KIND_FINAL },
	{ REAL_PREFIX "rss", "resident (anon.)", UNIT_BYTES, KIND_FINAL },
	{ REAL_PREFIX "peak_mapped", "peak mapped", UNIT_BYTES, KIND_PEAK },
	{ REAL_PREFIX "peak_mapped_event", "peak mapped event", UNIT_EVENT, KIND_AT },
	{ REAL_PREFIX "peak_rss", "peak resident", UNIT_BYTES, KIND_PEAK },
	{ REAL_PREFIX "peak_rss_event", "peak resident event", UNIT_EVENT, KIND_AT },
	{ REAL_PREFIX "peak_footprint", "peak footprint", UNIT_BYTES, KIND_PEAK },
	{ REAL_PREFIX "peak_footprint_event", "peak footprint event", UNIT_EVENT, KIND_AT },
	{ REAL_PREFIX "base_mapped", "mapped before calls", UNIT_BYTES, KIND_SETTING },
	{ REAL_PREFIX "base_rss", "resident before", UNIT_BYTES, KIND_SETTING },
	{ REAL_PREFIX "live_blocks", "live blocks", UNIT_COUNT, KIND_FINAL },
	{ REAL_PREFIX "ns", "wall time", UNIT_NS, KIND_TOTAL },
	{ REAL_PREFIX "cpu_ns", "CPU time", UNIT_NS, KIND_TOTAL },
	{ REAL_PREFIX "process_peak_rss", "child's peak RSS", UNIT_BYTES, KIND_PEAK },
	{ REAL_PREFIX "arena", "mallinfo2 arena", UNIT_BYTES, KIND_FINAL },
	{ REAL_PREFIX "ordblks", "mallinfo2 ordblks", UNIT_COUNT, KIND_FINAL },
	{ REAL_PREFIX "smblks", "mallinfo2 smblks", UNIT_COUNT, KIND_FINAL },
	{ REAL_PREFIX "hblks", "mallinfo2 hblks", UNIT_COUNT, KIND_FINAL },
	{ REAL_PREFIX "hblkhd", "mallinfo2 hblkhd", UNIT_BYTES, KIND_FINAL },
	{ REAL_PREFIX "fsmblks", "mallinfo2 fsmblks", UNIT_BYTES, KIND_FINAL },
	{ REAL_PREFIX "uordblks", "mallinfo2 uordblks", UNIT_BYTES, KIND_FINAL },
	{ REAL_PREFIX "fordblks", "mallinfo2 fordblks", UNIT_BYTES, KIND_FINAL },
	{ REAL_PREFIX "keepcost", "mallinfo2 keepcost", UNIT_BYTES, KIND_FINAL },
	{ REAL_PREFIX "heap", "heap (sbrk)", UNIT_BYTES, KIND_FINAL },
	{ REAL_PREFIX "footprint", "heap + mmapped", UNIT_BYTES, KIND_FINAL },
	{ REAL_PREFIX "heap_rss", "heap resident", UNIT_BYTES, KIND_FINAL },
	{ REAL_PREFIX "stats.allocated", "stats.allocated", UNIT_BYTES, KIND_FINAL },
	{ REAL_PREFIX "stats.active", "stats.active", UNIT_BYTES, KIND_FINAL },
	{ REAL_PREFIX "stats.metadata", "stats.metadata", UNIT_BYTES, KIND_FINAL },
	{ REAL_PREFIX "stats.resident", "stats.resident", UNIT_BYTES, KIND_FINAL },
	{ REAL_PREFIX "stats.mapped", "stats.mapped", UNIT_BYTES, KIND_FINAL },
	{ REAL_PREFIX "stats.retained", "stats.retained", UNIT_BYTES, KIND_FINAL },
	{ REAL_PREFIX "generic.current_allocated_bytes", "allocated bytes", UNIT_BYTES, KIND_FINAL },
	{ REAL_PREFIX "generic.heap_size", "heap size", UNIT_BYTES, KIND_FINAL },
	{ REAL_PREFIX "tcmalloc.pageheap_free_bytes", "page heap free", UNIT_BYTES, KIND_FINAL },
	{ REAL_PREFIX "tcmalloc.pageheap_unmapped_bytes", "page heap unmapped", UNIT_BYTES, KIND_FINAL },
	{ REAL_PREFIX "mi.current_rss", "mimalloc RSS", UNIT_BYTES, KIND_FINAL },
	{ REAL_PREFIX "mi.peak_rss", "mimalloc peak RSS", UNIT_BYTES, KIND_PEAK },
	{ REAL_PREFIX "mi.current_commit", "mimalloc committed", UNIT_BYTES, KIND_FINAL },
	{ REAL_PREFIX "mi.peak_commit", "mimalloc peak commit", UNIT_BYTES, KIND_PEAK },
};

/* The child's own figures, as measured: every key of its last answer. */
static void real_details(void *state, const struct alloc_sink *sink)
{
	struct real_state *s = state;

	for (size_t i = 0; i < s->nkv; i++)
		sink->counter(sink->ctx, s->kv[i].key, s->kv[i].value);
}

static int real_check(void *state, char *msg, size_t msglen)
{
	(void)state;
	(void)msg;
	(void)msglen;
	return 0;
}

static void real_tick(void *state, uint64_t event, uint64_t time_ns, int timed)
{
	(void)time_ns;
	(void)timed;
	((struct real_state *)state)->event = event + 1;
}

static void real_sync(void *state, int final)
{
	measure(state, final ? REAL_END : REAL_SAMPLE);
}

static int real_fault(void *state, char *msg, size_t msglen)
{
	struct real_state *s = state;

	if (s->fault)
		snprintf(msg, msglen, "%s", s->why);
	return s->fault;
}

static void real_peaks(void *state, struct alloc_peaks *out)
{
	struct real_state *s = state;

	out->footprint = s->p.lib == REAL_GLIBC ? answer(s, "peak_footprint")
						: answer(s, "peak_mapped");
	out->footprint_event = s->p.lib == REAL_GLIBC ? answer(s, "peak_footprint_event")
						      : answer(s, "peak_mapped_event");
	out->rss = answer(s, "peak_rss");
	out->rss_event = answer(s, "peak_rss_event");
}

const struct alloc_policy alloc_real = {
	.name = "real",
	.summary = "a real allocator (glibc, jemalloc, tcmalloc, mimalloc) in a child process: measured",
	.knobs = real_knobs,
	.nknobs = sizeof real_knobs / sizeof real_knobs[0],
	.params_size = sizeof(struct real_params),
	.defaults = &real_defaults,
	.validate = real_validate,
	.create = real_create,
	.destroy = real_destroy,
	.alloc = real_alloc,
	.resize = real_resize,
	.free = real_free,
	.block_size = real_block_size,
	.stats = real_stats,
	.details = real_details,
	.counters = real_counters,
	.ncounters = sizeof real_counters / sizeof real_counters[0],
	.check = real_check,
	.tick = real_tick,
	.sync = real_sync,
	.fault = real_fault,
	.peaks = real_peaks,
};
