#!/bin/bash
# A sweep plan run by a real single-node Slurm (Debian slurm-wlm, munge):
# the test writes a slurm.conf and a munge key in its temporary directory,
# starts munged, slurmctld and slurmd on this machine (loopback only, ports
# picked free), submits the plan's slurm.sh as an array job, waits for it,
# and stops the daemons. The plan directory's name holds spaces, quotes,
# $ and ; (docs/sweeps.md).
. "$ROOT/tests/lib.sh"
S="$T/slurm"
stop_daemons() {
	local f
	for f in "$S/slurmd.pid" "$S/slurmctld.pid" "$S/munged.pid"; do
		[ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	# Give them a moment to leave before their directory goes.
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		local alive=0
		for f in "$S/slurmd.pid" "$S/slurmctld.pid" "$S/munged.pid"; do
			[ -s "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && alive=1
		done
		[ $alive = 0 ] && return
		sleep 0.5
	done
	# One that ignored SIGTERM (a slurmd still retrying to register).
	for f in "$S/slurmd.pid" "$S/slurmctld.pid" "$S/munged.pid"; do
		[ -s "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
	done
}
trap 'stop_daemons; rm -rf "$T"' EXIT

missing=""
for p in munged mungekey slurmctld slurmd sbatch sinfo; do
	command -v "$p" >/dev/null 2>&1 || [ -x "/usr/sbin/$p" ] || missing="$missing $p"
done
if [ -n "$missing" ]; then
	t_skip "Slurm runs the plan" "missing:$missing (sh tools/setup.sh installs slurm-wlm and munge)"
	t_done
	exit
fi
if [ "$(id -u)" -ne 0 ]; then
	t_skip "Slurm runs the plan" "slurmd must start as root to run jobs as this user; this is uid $(id -u)"
	t_done
	exit
fi
PATH="$PATH:/usr/sbin"
# munged wants every directory above its socket searchable by all.
chmod 755 "$T"
mkdir -p "$S/state" "$S/spool" "$S/key" "$S/sock"
chmod 700 "$S/key"
chmod 755 "$S/sock"
mungekey -c -k "$S/key/munge.key" >/dev/null 2>&1
munged --socket="$S/sock/munge.sock" --key-file="$S/key/munge.key" \
	--pid-file="$S/munged.pid" --log-file="$S/munged.log" --seed-file="$S/key/seed" \
	>"$S/munged.out" 2>&1
if ! munge -S "$S/sock/munge.sock" -n </dev/null >/dev/null 2>&1; then
	t_fail "munged starts on this machine"
	sed 's/^/# munged: /' "$S/munged.out" "$S/munged.log" 2>/dev/null | tail -5
	t_done
	exit
fi
read -r p1 p2 <<<"$(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')"
host=$(hostname -s)
cat >"$S/slurm.conf" <<CONF
ClusterName=memsimtest
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$p1
SlurmdPort=$p2
AuthType=auth/munge
AuthInfo=socket=$S/sock/munge.sock
CredType=cred/munge
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/slurmctld.log
SlurmdLogFile=$S/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
NodeName=$host NodeAddr=127.0.0.1 CPUs=2 RealMemory=2048 State=UNKNOWN
PartitionName=memsim Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$S/slurm.conf"
slurmctld -f "$S/slurm.conf" >"$S/ctld.out" 2>&1 &&
	slurmd -f "$S/slurm.conf" -N "$host" >"$S/slurmd.out" 2>&1
idle=""
for _ in $(seq 1 40); do
	idle=$(timeout 5 sinfo -h -o %T 2>/dev/null)
	[ "$idle" = idle ] && break
	sleep 0.5
done
if [ "$idle" != idle ]; then
	t_fail "Slurm starts on this machine (node state: '${idle:-none}')"
	for f in munged.out munged.log ctld.out slurmctld.log slurmd.out slurmd.log; do
		[ -s "$S/$f" ] && sed "s|^|# $f: |" "$S/$f" | tail -5
	done
	t_done
	exit
fi
t_pass "Slurm starts: munged, slurmctld and slurmd on $host, node idle"

GEN="$ROOT/build/${BUILD:-release}/tools/gen-bench"
"$GEN" -m churn -n 20000 -l 2000 >"$T/churn.trace"
export CANARY="$T/INJECTED"
WEIRD="$T/slurm's \"plan\" \$(touch \$CANARY); touch \$CANARY"
mkdir -p "$WEIRD" "$T/outside"
t_run sweep --plan "$WEIRD/p" -q --slots 2 --max-memory 256M \
	-p 'cpython-3.11:gc.threshold0={100,700}' -p malloc "$T/churn.trace" "$ROOT/traces/cycle.trace"
t_is "plan: exit 0" "$T_STATUS" 0
t_is "plan: 2 jobs" "$(wc -l <"$WEIRD/p/jobs.txt")" 2
touch "$T/.before"
sleep 1
(cd "$WEIRD/p" && timeout 120 sbatch --wait --quiet slurm.sh) >"$S/sbatch.out" 2>&1
t_is "sbatch --wait: exit 0" "$?" 0
t_ok "both array tasks wrote their result" test -s "$WEIRD/p/results/job-1.json" -a -s "$WEIRD/p/results/job-2.json"
t_ok "no failure recorded" test ! -e "$WEIRD/p/results/job-1.failed" -a ! -e "$WEIRD/p/results/job-2.failed"
t_is "Slurm's task logs are in the plan directory" "$(cd "$WEIRD/p" && ls slurm-*_*.out | wc -l)" 2
t_ok "nothing injected ran" test ! -e "$CANARY"
t_is "nothing written outside the plan directory (and Slurm's own)" \
	"$(find "$T" -newer "$T/.before" ! -path "$WEIRD/p" ! -path "$WEIRD/p/*" ! -path "$S" ! -path "$S/*" | sort)" ""
# The tasks' results are the replay's, number for number.
t_run replay -q --format json -p 'cpython-3.11:gc.threshold0={100,700}' -p malloc "$T/churn.trace" "$ROOT/traces/cycle.trace"
printf '%s\n' "$T_OUT" >"$T/replay.json"
t_is "results = one replay" "$(python3 - "$T/replay.json" "$WEIRD/p/results/job-1.json" "$WEIRD/p/results/job-2.json" <<'PY'
import json, sys
rep = json.load(open(sys.argv[1]))
want = {(t["trace"].split("/")[-1], p["name"]): p for t in rep["traces"] for p in t["policies"]}
got = {(t["trace"].split("/")[-1], p["name"]): p for f in sys.argv[2:]
       for t in json.load(open(f))["report"]["traces"] for p in t["policies"]}
print(len(want), "equal" if want == got else "differ")
PY
)" "6 equal"
t_done
