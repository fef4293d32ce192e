#!/bin/bash
# tests/e2e/memrec.sh - record real programs with tools/memrec and check
# the traces: a C program with threads, realloc chains, aligned
# allocators, fork and _exit; a killed program; PYTHONMALLOC=malloc python.
. "$ROOT/tests/lib.sh"
MEMREC=$ROOT/tools/memrec
CHECK=tcheck
tcheck() { python3 "$ROOT/tests/tracecheck.py" "$@" >"$T/.check" 2>&1 || { sed "s/^/# /" "$T/.check"; return 1; }; }
if [ ! -f "$ROOT/bin/libmemrec.so" ]; then
	t_skip "memrec" "bin/libmemrec.so not built (make tools)"
	t_done; exit
fi

cat >"$T/prog.c" <<'CEOF'
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Marker sizes the test counts: 12345 (plain malloc), 100001..100010
 * (one realloc chain), 777..781 (aligned allocators). */
static void *worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 250; i++) {
		char *p = malloc(12345);
		char *q = malloc((size_t)(i % 97) + 1);
		p[0] = 1;
		free(p);
		q = realloc(q, 300);
		free(q);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[4];
	void *keep[10], *al[5], *pad, *r;
	char *c;
	pid_t pid;

	for (int i = 0; i < 10; i++)
		keep[i] = malloc(12345);
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, worker, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 10; i++)
		free(keep[i]);

	/* realloc chain: the padding blocks stop in-place growth. */
	r = realloc(NULL, 100001);
	for (size_t s = 100002; s <= 100010; s++) {
		pad = malloc(64);
		r = realloc(r, s);
		free(pad);
	}
	if (realloc(r, 0) != NULL)
		return 2;

	al[0] = memalign(64, 777);
	if (posix_memalign(&al[1], 128, 778))
		return 3;
	al[2] = aligned_alloc(256, 779);
	al[3] = valloc(780);
	al[4] = pvalloc(781);
	for (int i = 0; i < 5; i++)
		free(al[i]);
	c = calloc(3, 4111);
	free(reallocarray(c, 7, 1001));
	free(NULL);
	free(malloc(0));
	if (malloc(SIZE_MAX / 2) != NULL)   /* fails: not recorded */
		return 4;

	pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 5; i++)
			free(malloc(12345));
		_exit(0);
	}
	waitpid(pid, NULL, 0);

	/* vfork + failed exec + _exit (what Python's subprocess does): the
	 * child shares the parent's memory, the trace must go on. */
	pid = vfork();
	if (pid == 0) {
		execl("/nonexistent/prog", "x", (char *)NULL);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
	for (int i = 0; i < 3; i++)
		free(malloc(23456));
	printf("hello from prog\n");
	fflush(stdout);
	if (argc > 1 && strcmp(argv[1], "_exit") == 0)
		_exit(0);
	return 0;
}
CEOF
if ! cc -O0 -fno-builtin -pthread -o "$T/prog" "$T/prog.c" 2>"$T/cc.err"; then
	t_fail "compile the test program"; sed 's/^/# /' "$T/cc.err"; t_done; exit
fi

# 0. The wrapper's own statuses (tools/memrec's header).
"$MEMREC" -o "$T/x.trace" >/dev/null 2>&1
t_is "no command: usage status 64" "$?" 64
"$MEMREC" -o "$T/no/such/dir/x.trace" -- true 2>"$T/err"
t_is "OUT cannot be created: status 73" "$?" 73
t_is "OUT cannot be created: message" "$(cat "$T/err")" \
	"memrec: cannot create $T/no/such/dir/x.trace"
"$MEMREC" -o "$T/x.trace" -- sh -c 'exit 3'
t_is "the command's exit status is passed on" "$?" 3

# 1. Default: gzip, children not recorded.
"$MEMREC" -o "$T/p.trace.gz" -- "$T/prog" >"$T/stdout" 2>"$T/stderr"
t_is "program exit status" "$?" 0
t_is "program stdout untouched" "$(cat "$T/stdout")" "hello from prog"
t_is "program stderr untouched" "$(cat "$T/stderr")" ""
t_ok "trace passes the checker" $CHECK "$T/p.trace.gz"
zcat "$T/p.trace.gz" >"$T/p.trace"
# 10 kept blocks + 4 threads x 250 = 1010; the child's 5 are not here.
t_is "mallocs of 12345" "$(grep -c '^a [0-9]* 12345$' "$T/p.trace")" 1010
t_is "frees total = allocations (nothing live but libc's own)" \
	"$(grep -c '^f ' "$T/p.trace")" \
	"$(( $(grep -c '^a ' "$T/p.trace") - $(grep -o '[0-9]* blocks live' "$T/p.trace" | cut -d' ' -f1) ))"
id=$(awk '$1=="a" && $3==100001 {print $2}' "$T/p.trace")
t_is "realloc chain keeps one ID (9 resizes)" \
	"$(awk -v id="$id" '$1=="r" && $2==id {n++} END {print n}' "$T/p.trace")" 9
t_is "realloc chain sizes in order" \
	"$(awk -v id="$id" '$1=="r" && $2==id {printf "%s ", $3}' "$T/p.trace")" \
	"100002 100003 100004 100005 100006 100007 100008 100009 100010 "
t_is "realloc(p, 0) frees the chain's ID" \
	"$(awk -v id="$id" '$1=="f" && $2==id {n++} END {print n}' "$T/p.trace")" 1
# memalign 777, posix_memalign 778, aligned_alloc 779, valloc 780, and
# pvalloc 781 rounded up to one 4096-byte page.
for s in 777 778 779 780 4096; do
	n=$(awk -v s=$s '$1=="a" && $3==s {print $2}' "$T/p.trace" | head -1)
	t_is "aligned block of $s recorded and freed" \
		"$(grep -c "^a $n $s\$" "$T/p.trace") $(grep -c "^f $n\$" "$T/p.trace")" "1 1"
done
# calloc(3, 4111) = 12333 bytes, then reallocarray to 7 * 1001 = 7007.
cid=$(awk '$1=="a" && $3==12333 {print $2}' "$T/p.trace")
t_is "calloc recorded with n*size" "$(grep -c "^a $cid 12333\$" "$T/p.trace")" 1
t_is "reallocarray resizes the calloc block" "$(grep -c "^r $cid 7007\$" "$T/p.trace")" 1
t_is "recording goes on after a vfork child's _exit" \
	"$(grep -c '^a [0-9]* 23456$' "$T/p.trace")" 3
t_is "malloc(0) recorded" "$(grep -c '^a [0-9]* 0$' "$T/p.trace")" 1
t_is "huge failed malloc not recorded" \
	"$(awk '$1=="a" && $3 > 1000000000 {n++} END {print n+0}' "$T/p.trace")" 0
t_like "trailer comment" "$(tail -1 "$T/p.trace")" "# memrec: "
t_is "no child trace by default" "$(ls "$T" | grep -c '^p.trace.gz\.')" 0
t_like "metadata names the command" "$(head -1 "$T/p.trace")" \
	"\"source\":\"memrec\",\"command\":\"$T/prog\""
awk '$1=="@" {if ($2 < last) bad=1; last=$2} END {exit bad}' "$T/p.trace"
t_is "timestamps non-decreasing" "$?" 0

# 2. --children, plain text, and the program ending in _exit.
"$MEMREC" --children -o "$T/c.trace" -- "$T/prog" _exit >/dev/null
t_is "exit status with _exit" "$?" 0
t_ok "parent trace (ended by _exit) passes the checker" $CHECK "$T/c.trace"
t_like "_exit still writes the trailer" "$(tail -1 "$T/c.trace")" "# memrec: "
child=$(ls "$T" | grep '^c\.trace\.[0-9]*$')
t_is "one child trace OUT.PID" "$(echo "$child" | grep -c .)" 1
if [ -n "$child" ]; then
	t_ok "child trace passes the checker" $CHECK "$T/$child"
	# The child's 5 marker mallocs; all of the parent's were freed
	# before the fork, so the inherited snapshot has none of that size.
	t_is "child mallocs of 12345" "$(grep -c '^a [0-9]* 12345$' "$T/$child")" 5
	t_like "child metadata has parent_pid" "$(head -1 "$T/$child")" '"parent_pid":'
fi
t_is "parent's count unchanged with --children" \
	"$(grep -c '^a [0-9]* 12345$' "$T/c.trace")" 1010

# 3. Killed with SIGKILL: a plain trace is a valid prefix.
cat >"$T/loop.c" <<'CEOF'
#include <stdlib.h>
#include <unistd.h>
int main(void)
{
	for (long i = 0;; i++) {
		free(malloc((size_t)(i % 1000) + 1));
		if (i == 300000)
			write(1, "go\n", 3);
	}
}
CEOF
cc -O0 -fno-builtin -o "$T/loop" "$T/loop.c"
MEMREC_BUF_MB=1 "$MEMREC" --time-ns 0 -o "$T/k.trace" -- "$T/loop" >"$T/k.out" &
kpid=$!
for i in $(seq 100); do grep -q go "$T/k.out" 2>/dev/null && break; sleep 0.1; done
kill -9 $kpid; wait $kpid 2>/dev/null
# SIGKILL can land in the middle of a write(2), cutting its last line:
# the complete lines (up to the last newline) must be a valid trace.
head -n "$(wc -l <"$T/k.trace")" "$T/k.trace" >"$T/k2.trace"
t_ok "killed program: complete lines are a valid prefix" $CHECK "$T/k2.trace"
t_ok "killed program: flushed chunks are in the file" \
	test "$(grep -c '^a ' "$T/k2.trace")" -gt 1000

# 4. CPython with PYTHONMALLOC=malloc.
PY=${PYTHON:-python3}
PYTHONMALLOC=malloc "$MEMREC" -o "$T/py.trace.gz" -- "$PY" -c '
import json
d = [{"k": i, "v": str(i) * 3} for i in range(20000)]
s = json.dumps(d)
print(len(json.loads(s)))' >"$T/py.out"
t_is "python ran" "$(cat "$T/py.out")" 20000
t_ok "python trace passes the checker" $CHECK "$T/py.trace.gz"
# 20000 dicts alone need 20000 allocations.
t_ok "python trace has > 20000 allocations" \
	test "$(zcat "$T/py.trace.gz" | grep -c '^a ')" -gt 20000
# Probe for the command, not for success on our trace, so that a
# rejected trace fails instead of skipping.
if [ -x "$MEMSIM" ] && "$MEMSIM" --help 2>&1 | grep -qw info; then
	minfo() { "$MEMSIM" info "$1" >/dev/null 2>"$T/.minfo" || { sed 's/^/# /' "$T/.minfo"; return 1; }; }
	t_ok "memsim info accepts the python trace" minfo "$T/py.trace.gz"
	t_ok "memsim info accepts the C trace" minfo "$T/p.trace.gz"
	t_ok "memsim info accepts the child trace" minfo "$T/$child"
else
	t_skip "memsim info accepts the traces" "memsim info not available yet"
fi
# Binary output: recorded as text, converted once the command exits; the
# command's own exit status comes back, and no temporary trace is left.
"$MEMREC" -o "$T/bin.msb" -- sh -c 'exit 7'
t_is "binary: the command's status" "$?" 7
t_is "binary: magic bytes" "$(head -c 4 "$T/bin.msb" | od -An -tx1 | tr -d ' ')" 894d5342
t_is "binary: no temporary left" "$(ls "$T" | grep -c memrec-)" 0
"$MEMREC" -o "$T/py.msb" -- python3 -c 'x = [bytes(12345) for _ in range(3)]'
"$MEMSIM" info --format json "$T/py.msb" >"$T/.out" 2>"$T/.err"
t_is "binary: memsim reads it" "$?" 0
t_is "binary: the recorder's metadata" "$(jqv .metadata.source)" memrec
t_done
