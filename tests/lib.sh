# tests/lib.sh - helpers for end-to-end test scripts (bash), printing TAP.
#
#   . "$ROOT/tests/lib.sh"
#   t_run info "$T/x.trace"          # sets T_OUT, T_ERR, T_STATUS
#   t_is "peak live bytes" "$(jqv .peak_live_bytes)" 112
#   t_done
#
# Every expected value in a script is derived by hand in a comment next to
# it; never paste memsim's own output as the expectation.
set -u
: "${MEMSIM:?MEMSIM must name the memsim binary}"
: "${ROOT:?ROOT must name the source tree}"
T=$(mktemp -d "${TMPDIR:-/tmp}/memsim-e2e.XXXXXX")
trap 'rm -rf "$T"' EXIT
t_n=0
t_failed=0

# t_slow: true under the slow tiers, `make asan` (BUILD=asan) and `make
# valgrind` (MEMSIM_VALGRIND=1), where scripts replay smaller generated
# traces with the same hand-derived formulas.
t_slow() {
	[ "${BUILD:-release}" = asan ] || [ "${MEMSIM_VALGRIND:-0}" = 1 ]
}

# t_run ARGS...: runs memsim, keeping stdout, stderr and the exit status.
t_run() {
	"$MEMSIM" "$@" >"$T/.out" 2>"$T/.err"
	T_STATUS=$?
	T_OUT=$(cat "$T/.out")
	T_ERR=$(cat "$T/.err")
}

t_pass() { t_n=$((t_n + 1)); echo "ok $t_n - $1"; }
t_fail() { t_n=$((t_n + 1)); t_failed=$((t_failed + 1)); echo "not ok $t_n - $1"; }
t_skip() { t_n=$((t_n + 1)); echo "ok $t_n - $1 # SKIP $2"; }

# t_is DESC GOT EXPECTED: exact string comparison.
t_is() {
	if [ "$2" = "$3" ]; then
		t_pass "$1"
	else
		t_fail "$1"
		printf '# got:      %s\n# expected: %s\n' "$2" "$3" | head -40
	fi
}

# t_ok DESC COMMAND...: passes when the command succeeds.
t_ok() {
	d=$1; shift
	if "$@"; then t_pass "$d"; else t_fail "$d"; fi
}

# t_like DESC TEXT PATTERN: passes when TEXT contains PATTERN (grep -F).
t_like() {
	if printf '%s' "$2" | grep -qF -- "$3"; then
		t_pass "$1"
	else
		t_fail "$1"
		printf '# text:    %s\n# lacks:   %s\n' "$2" "$3" | head -40
	fi
}

# jqv PATH [FILE]: one value from JSON (stdout of the last t_run by
# default), by a Python-style path like .traces[0].policies[1].name
jqv() {
	python3 -c '
import json, sys, re
doc = json.load(open(sys.argv[2])) if len(sys.argv) > 2 else json.loads(sys.stdin.read())
v = doc
for part in re.findall(r"\.([A-Za-z_0-9]+)|\[(\d+)\]", sys.argv[1]):
    v = v[part[0]] if part[0] else v[int(part[1])]
print(json.dumps(v) if isinstance(v, (dict, list)) else (str(v).lower() if isinstance(v, bool) else v))
' "$1" ${2:+"$2"} <"$T/.out"
}

# --- the seed-scenario scripts (tests/e2e/scenario_*.sh) ---------------

# scenario_setup [FULL [SMALL]]: sets GEN (this BUILD's gen-scenario) and
# N = FULL, or SMALL under the slow tiers (t_slow: asan, valgrind; an order of magnitude
# slower); each script derives its expectations from N.
scenario_setup() {
	GEN="$ROOT/build/${BUILD:-release}/tools/gen-scenario"
	if [ $# -gt 0 ]; then
		N=$1
		t_slow && [ $# -gt 1 ] && N=$2
	fi
	return 0
}

# scenario_replay TRACE POLICY...: t_run replay -q --format json of TRACE
# under each POLICY, in order (pol's index I).
scenario_replay() {
	local trace=$1 p
	local args=()

	shift
	for p in "$@"; do
		args+=(-p "$p")
	done
	t_run replay -q --format json "${args[@]}" "$trace"
}

# pol I KEY...: one value of policy I of the last replay's JSON; keys may
# hold dots ("misses.int"), so they are separate arguments.
pol() {
	python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))["traces"][0]["policies"][int(sys.argv[2])]
for k in sys.argv[3:]:
    v = v[k]
print(v)' "$T/.out" "$@"
}

# gens I COLUMN: one column of policy I's collector rows (gc.generations)
# of the last replay's JSON, as a list: "[260, 23, 3]".
gens() {
	python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))["traces"][0]["policies"][int(sys.argv[2])]
print([int(r[sys.argv[3]]) for r in v["gc"]["generations"]])' "$T/.out" "$@"
}

# ftype I TYPE COLUMN: policy I's free-list row of TYPE (freelists.types)
# in the last replay's JSON, e.g. ftype 0 float misses.
ftype() {
	python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))["traces"][0]["policies"][int(sys.argv[2])]
print([r for r in v["freelists"]["types"] if r["type"] == sys.argv[3]][0][sys.argv[4]])' "$T/.out" "$@"
}

t_done() {
	echo "1..$t_n"
	[ "$t_failed" -eq 0 ]
}
