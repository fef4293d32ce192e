#!/bin/bash
# memsim sweep --plan and --job, run by the real GNU parallel (Debian
# `parallel`): the plan's files, paths that a shell would misread, the
# memory estimate against the measured peak RSS, job results equal to one
# replay, and every error (docs/sweeps.md).
. "$ROOT/tests/lib.sh"
GEN="$ROOT/build/${BUILD:-release}/tools/gen-bench"
N=200000 L=20000
t_slow && N=40000 L=4000
"$GEN" -m refs -n $N -l $L >"$T/refs.trace"

# --- a plan in a directory whose name a shell would misread -------------
# Every character that ends or opens a shell word or command: spaces, both
# quotes, $ and $(...), backquotes, ;, &, |, a glob, braces (GNU parallel's
# replacement string). Were any line unquoted, the shell would run
# `touch $CANARY` (the variable is set for the run below).
export CANARY="$T/INJECTED"
WEIRD="$T/it's a \"plan\" \$HOME \$(touch \$CANARY) \`touch \$CANARY\`; touch \$CANARY & | * {} x"
mkdir -p "$WEIRD" "$WEIRD.traces" "$T/cwd"
cp "$T/refs.trace" "$WEIRD.traces/a trace; \$(touch \$CANARY).trace"
cp "$ROOT/traces/cycle.trace" "$WEIRD.traces/cycle.trace"
printf '{"base": "cpython-3.11", "gc": {"threshold0": "{100,700}"}}\n' >"$WEIRD.traces/pol 'x'.json"
PLAN="$WEIRD/plan"
t_run sweep --plan "$PLAN" --slots 2 --max-memory 1G -q \
	-p "$WEIRD.traces/pol 'x'.json:allocator.arena_size={256K,1M}" -p malloc \
	"$WEIRD.traces/a trace; \$(touch \$CANARY).trace" "$WEIRD.traces/cycle.trace"
t_is "plan: exit 0" "$T_STATUS" 0
t_is "plan: -q prints nothing" "$T_OUT" ""
for f in plan.json plan.txt jobs.txt slurm.sh results; do
	t_ok "plan: $f written" test -e "$PLAN/$f"
done
# 5 policies (2 x 2 from the file and the -p, then malloc), 2 traces,
# 2 slots: ceil(2 slots / 2 traces) = 1 job per trace, and 1 GiB holds
# all five: 2 jobs.
t_is "plan: 2 jobs (one per trace)" "$(wc -l <"$PLAN/jobs.txt")" 2
t_is "plan: 5 policies" "$(jqv .policies "$PLAN/plan.json" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" 5
# Each line is exactly memsim's argv: the program, sweep, --job, N, DIR.
# Under `make valgrind` MEMSIM is a wrapper; the plan names the binary.
python3 - "$PLAN/jobs.txt" "${VG_MEMSIM:-$MEMSIM}" "$PLAN" >"$T/argv.txt" <<'PY'
import shlex, sys, os
lines = open(sys.argv[1]).read().splitlines()
for i, line in enumerate(lines, 1):
    argv = shlex.split(line)
    ok = argv == [os.path.realpath(sys.argv[2]), "sweep", "--job", str(i), os.path.realpath(sys.argv[3])]
    print("ok" if ok else "bad %r" % argv)
PY
t_is "jobs.txt: each line is memsim's argv and nothing else" "$(sort -u "$T/argv.txt")" ok
t_like "slurm.sh: the array" "$(cat "$PLAN/slurm.sh")" "#SBATCH --array=1-2"
t_like "slurm.sh: memory per job" "$(cat "$PLAN/slurm.sh")" "#SBATCH --mem=1024M"

# Run it with GNU parallel from an unrelated directory, as a user would.
if ! command -v parallel >/dev/null 2>&1; then
	t_skip "GNU parallel runs the plan" "GNU parallel is not installed (sh tools/setup.sh installs it)"
else
	: >"$T/par.out"
	: >"$T/par.err"
	touch "$T/.before"
	sleep 1
	(cd "$T/cwd" && parallel --will-cite --joblog "$PLAN/joblog" <"$PLAN/jobs.txt") \
		>"$T/par.out" 2>"$T/par.err"
	t_is "parallel: exit 0" "$?" 0
	t_is "parallel: 2 jobs logged, all exit 0" \
		"$(awk -F'\t' 'NR > 1 && $7 == 0' "$PLAN/joblog" | wc -l)" 2
	t_ok "parallel: nothing injected ran" test ! -e "$CANARY"
	t_is "parallel: nothing written outside the plan directory" \
		"$(find "$T" -newer "$T/.before" ! -path "$PLAN" ! -path "$PLAN/*" \
			! -name par.out ! -name par.err | sort)" ""
	t_ok "parallel: job 1's result" test -s "$PLAN/results/job-1.json"
	t_ok "parallel: job 2's result" test -s "$PLAN/results/job-2.json"
fi

# --- results equal one replay, number for number -------------------------
"$MEMSIM" sweep --job 1 "$PLAN" 2>/dev/null  # when parallel is missing
"$MEMSIM" sweep --job 2 "$PLAN" 2>/dev/null
t_run replay -q --format json -p "$WEIRD.traces/pol 'x'.json:allocator.arena_size={256K,1M}" -p malloc \
	"$WEIRD.traces/a trace; \$(touch \$CANARY).trace" "$WEIRD.traces/cycle.trace"
printf '%s\n' "$T_OUT" >"$T/replay.json"
cmp_out=$(python3 - "$T/replay.json" "$PLAN/results/job-1.json" "$PLAN/results/job-2.json" <<'PY'
import json, sys
rep = json.load(open(sys.argv[1]))
want = {(t["trace"].split("/")[-1], p["name"]): p for t in rep["traces"] for p in t["policies"]}
got = {}
for f in sys.argv[2:]:
    r = json.load(open(f))
    for t in r["report"]["traces"]:
        for p in t["policies"]:
            got[(t["trace"].split("/")[-1], p["name"])] = p
print(len(want), len(got), "equal" if want == got else "differ")
PY
)
t_is "results = one replay of the same policies, number for number" "$cmp_out" "10 10 equal"

# --- the estimate against the measured peak RSS ------------------------
# GNU time's %M is the job's peak RSS in KiB; the plan's estimate must lie
# above it and within twice it (plan.h gives the bound).
# Not under valgrind: memcheck's own memory would be measured.
if [ "${BUILD:-release}" = release ] && [ "${MEMSIM_VALGRIND:-0}" != 1 ] && [ -x /usr/bin/time ]; then
	/usr/bin/time -f %M -o "$T/rss" "$MEMSIM" sweep --job 1 "$PLAN" 2>/dev/null
	rss=$(( $(tail -1 "$T/rss") * 1024 ))
	est=$(jqv .jobs[0].estimate_bytes "$PLAN/plan.json")
	t_ok "estimate >= measured ($est >= $rss bytes)" test "$est" -ge "$rss"
	t_ok "estimate <= 2 x measured ($est <= 2 x $rss)" test "$est" -le $((2 * rss))
else
	t_skip "estimate against measured RSS" "only the release build's own RSS is the one estimated (not ASan's, not memcheck's)"
fi

# --- grouping ------------------------------------------------------------
# One trace, 6 policies, 2 slots: ceil(2 / 1) = 2 jobs of 3.
t_run sweep --plan "$T/g1" --slots 2 --max-memory 1G -q -p 'cpython-3.11:gc.threshold0={100..600+100}' "$T/refs.trace"
t_is "grouping: 2 slots, 1 trace: 2 jobs" "$(wc -l <"$T/g1/jobs.txt")" 2
t_is "grouping: 3 policies each" "$(jqv .jobs[0].policies "$T/g1/plan.json") $(jqv .jobs[1].policies "$T/g1/plan.json")" "3 3"
# The budget splits further: each policy needs 160 B x peak objects +
# 8 B x peak references + 256 KiB, the job 4 MiB more; a budget that
# holds two policies but not three gives 3 jobs of 2.
read -r objs refs <<<"$(jqv .traces[0].peak_live_objects "$T/g1/plan.json") $(jqv .traces[0].peak_live_refs "$T/g1/plan.json")"
per=$((160 * objs + 8 * refs + 262144))
budget=$((4194304 + 2 * per + per / 2))
t_run sweep --plan "$T/g2" --slots 1 --max-memory $budget -q -p 'cpython-3.11:gc.threshold0={100..600+100}' "$T/refs.trace"
t_is "grouping: a budget of 2.5 policies: 3 jobs" "$(wc -l <"$T/g2/jobs.txt")" 3
t_is "grouping: the estimate is the formula" "$(jqv .jobs[0].estimate_bytes "$T/g2/plan.json")" $((4194304 + 2 * per))

# --- errors ----------------------------------------------------------------
perr() { # DESC STATUS MESSAGE ARGS...
	local d=$1 st=$2 msg=$3
	shift 3
	t_run "$@"
	t_is "$d: exit $st" "$T_STATUS" "$st"
	t_like "$d: message" "$T_ERR" "$msg"
}
perr "another plan's directory" 64 "holds another plan" \
	sweep --plan "$T/g1" -q -p cpython-3.12 "$T/refs.trace"
t_run sweep --plan "$T/g1" --slots 2 --max-memory 1G -q -p 'cpython-3.11:gc.threshold0={100..600+100}' "$T/refs.trace"
t_is "the same plan again: exit 0 (results kept)" "$T_STATUS" 0
mkdir -p "$T/full" && touch "$T/full/x"
perr "a directory with other files" 64 "the directory is not empty and holds no plan" \
	sweep --plan "$T/full" -q -p cpython-3.12 "$T/refs.trace"
perr "an empty expansion" 78 "the set '{}' is empty" \
	sweep --plan "$T/e1" -q -p 'cpython-3.12:gc.threshold0={}' "$T/refs.trace"
perr "a range that never ends" 78 "does not terminate" \
	sweep --plan "$T/e2" -q -p 'cpython-3.12:gc.threshold0={1..9*1}' "$T/refs.trace"
perr "over 10000 policies" 64 "more than 10000 policies: add --force" \
	sweep --plan "$T/e3" -q -p 'cpython-3.12:gc.threshold0={1..10001}' "$T/refs.trace"
t_ok "failed plans write nothing" test ! -e "$T/e1" -a ! -e "$T/e2" -a ! -e "$T/e3"
perr "a budget below one policy" 64 "alone needs about" \
	sweep --plan "$T/e4" -q --max-memory 1M -p cpython-3.12 "$T/refs.trace"
perr "standard input" 64 "standard input cannot be planned" \
	sweep --plan "$T/e5" -q -p cpython-3.12 -
perr "a missing trace" 66 "cannot find the trace" \
	sweep --plan "$T/e6" -q -p cpython-3.12 "$T/none.trace"
perr "a relative --memsim" 64 "--memsim wants an absolute path" \
	sweep --plan "$T/e7" -q --memsim bin/memsim -p cpython-3.12 "$T/refs.trace"
perr "no --plan" 64 "say where the plan goes: --plan DIR" sweep -p cpython-3.12 "$T/refs.trace"
perr "a job out of range" 64 "has jobs 1 to 2, not 3" sweep --job 3 "$T/g1"
perr "a job of no plan" 66 "cannot read the plan" sweep --job 1 "$T/cwd"
# A plan made by another memsim version: its jobs refuse to run.
sed 's/"memsim_version":[^,]*/"memsim_version":\t"0.0.1"/' "$T/g1/plan.json" >"$T/g1/plan.new" &&
	mv "$T/g1/plan.new" "$T/g1/plan.json"
perr "a plan of another memsim version" 78 "the plan was made by memsim 0.0.1 and this is memsim" \
	sweep --job 1 "$T/g1"
# A trace that changed after planning: the job fails, and says so in its
# .failed file for merge to report.
cp "$T/refs.trace" "$T/moving.trace"
"$MEMSIM" sweep --plan "$T/mv" -q --slots 1 -p cpython-3.12 "$T/moving.trace"
head -n 1000 "$T/refs.trace" >"$T/moving.trace"
perr "a trace that changed since planning" 65 "the trace changed since it was planned" \
	sweep --job 1 "$T/mv"
t_like "the failure is kept for merge" "$(cat "$T/mv/results/job-1.failed")" "exit 65"
t_ok "a failed job writes no result" test ! -e "$T/mv/results/job-1.json"
t_done
