#!/bin/bash
# Output that is whole or absent (sim/outfile.c, docs/reports.md): a full
# disk while writing stdout, -o and --out exits 74 and leaves nothing
# that looks complete; -o onto a device writes it in place (never replaces
# it); output places are checked before the replay; --out replaces an
# earlier report whole (no stale plots) and refuses a directory with
# other files; SIGINT during a replay with --out leaves no staging
# directory. The full-disk cases use /dev/full and, where this user may
# mount one, a 300 KiB tmpfs.
. "$ROOT/tests/lib.sh"
cd "$ROOT" || exit 1
TR=traces/cycle.trace

# --- standard output on a full device ---
"$MEMSIM" replay -q -p malloc "$TR" >/dev/full 2>"$T/.err"
t_is "> /dev/full: exit 74" "$?" 74
t_is "> /dev/full: message" "$(cat "$T/.err")" \
	"memsim: cannot write to standard output: No space left on device"
"$MEMSIM" replay -q -p malloc --format json "$TR" >/dev/full 2>/dev/null
t_is "> /dev/full, JSON: exit 74" "$?" 74

# --- -o onto a device: written in place, never replaced ---
# First on a copy of /dev/full made here (root can mknod), so that a
# regression could only replace the copy; then on /dev/full itself.
if mknod "$T/full" c 1 7 2>/dev/null; then
	t_run replay -q -p malloc -o "$T/full" "$TR"
	t_is "-o a full device: exit 74" "$T_STATUS" 74
	t_is "-o a full device: message" "$T_ERR" \
		"memsim: $T/full: cannot write: No space left on device"
	t_ok "-o a full device: still a device" test -c "$T/full"
	if [ -c "$T/full" ]; then
		t_run replay -q -p malloc -o /dev/full "$TR"
		t_is "-o /dev/full: exit 74" "$T_STATUS" 74
		t_ok "-o /dev/full: /dev/full is still the device" test -c /dev/full
		t_is "-o /dev/full: no temporary in /dev" "$(ls /dev | grep -c '^full.tmp')" 0
	fi
else
	t_skip "-o a full device" "mknod not permitted for this user"
fi
t_run replay -q -p malloc -o /dev/null "$TR"
t_is "-o /dev/null: exit 0" "$T_STATUS" 0
t_ok "-o /dev/null: still a device" test -c /dev/null

# --- output places are checked before the replay ---
# A missing trace would be 66; a bad output place is found first (74).
t_run replay -q -p malloc -o "$T/none/r.txt" "$T/missing.trace"
t_is "-o under a missing directory: before the replay" "$T_STATUS" 74
t_is "-o under a missing directory: message" "$T_ERR" \
	"memsim: $T/none/r.txt: cannot create: No such file or directory"
t_run replay -q -p malloc --out "$T/none/o" "$T/missing.trace"
t_is "--out under a missing directory: before the replay" "$T_STATUS" 74
t_is "--out under a missing directory: message" "$T_ERR" \
	"memsim: $T/none/o: cannot create directory: No such file or directory"

# --- an earlier report is replaced whole ---
"$MEMSIM" replay -q --out "$T/rep" -p malloc -p cpython-3.11 "$TR" >/dev/null 2>&1
: >"$T/rep/plots/stale.png"
: >"$T/rep/data/stale.series.dat"
: >"$T/rep/report.old"
t_run replay -q --out "$T/rep" -p malloc "$TR"
t_is "used --out: exit 0" "$T_STATUS" 0
t_is "used --out: no stale file survives" \
	"$(ls "$T/rep/plots" "$T/rep/data" "$T/rep" | grep -c -e stale -e report.old)" 0
t_is "used --out: only the new run's policies" "$(ls "$T/rep/data" | grep -c '\.p2\.')" 0
t_is "used --out: nothing left beside it" "$(ls -a "$T" | grep -c 'memsim-')" 0
# A directory holding anything else is refused, before the replay.
mkdir "$T/mine"
echo keep >"$T/mine/notes.txt"
t_run replay -q --out "$T/mine" -p malloc "$T/missing.trace"
t_is "--out with other files: refused" "$T_STATUS" 74
t_is "--out with other files: message" "$T_ERR" \
	"memsim: $T/mine: holds 'notes.txt', which memsim did not write: give --out a new or empty directory, or an earlier memsim report to replace"
t_is "--out with other files: left alone" "$(cat "$T/mine/notes.txt")" keep
# An empty directory is fine.
mkdir "$T/emptydir"
t_run replay -q --out "$T/emptydir" -p malloc "$TR"
t_is "--out an empty directory: exit 0" "$T_STATUS" 0
t_ok "--out an empty directory: filled" test -s "$T/emptydir/index.html"

# --- SIGINT during a replay with --out: no staging directory left ---
cc -std=c11 -O2 -o "$T/adv" "$ROOT/tests/adversarial/adv.c" || t_fail "build adv"
printf '{"base": "malloc"}\n' >"$T/pol.json"
set -m
"$MEMSIM" replay -q -p "$T/pol.json" --out "$T/sig" - < <("$T/adv" stream 1000000000 1048576) \
	>/dev/null 2>&1 &
pid=$!
( sleep 20; kill -KILL $pid 2>/dev/null ) >/dev/null 2>&1 &
dog=$!
sleep 1
kill -INT $pid
wait $pid
t_is "SIGINT with --out: killed by SIGINT (130)" "$?" 130
kill $dog 2>/dev/null
t_is "SIGINT with --out: no directory, no stage" "$(ls -a "$T" | grep -c -e '^sig$' -e 'sig.memsim')" 0
set +m

# --- a full file system (a 300 KiB tmpfs) ---
mkdir "$T/small"
if mount -t tmpfs -o size=300k tmpfs "$T/small" 2>/dev/null; then
	# The report directory of three traces and four policies needs some
	# MiB (plots alone are ~100 KiB each): it cannot fit.
	t_run replay -q --out "$T/small/rep" -p cpython-2.7 -p cpython-3.11 -p malloc \
		-p cpython-3.13 traces/cycle.trace traces/cycles.trace.gz traces/list-churn.trace.gz
	t_is "--out on a full disk: exit 74" "$T_STATUS" 74
	t_like "--out on a full disk: says why" "$T_ERR" "No space left on device"
	t_is "--out on a full disk: nothing left" "$(ls -A "$T/small")" ""
	# -o of a JSON report larger than the disk (with the series: a few MiB).
	t_run replay -q --series -p cpython-2.7 -p cpython-3.11 --format json \
		-o "$T/small/r.json" traces/cycles.trace.gz traces/int-then-float.trace.gz
	t_is "-o on a full disk: exit 74" "$T_STATUS" 74
	t_is "-o on a full disk: message" "$T_ERR" \
		"memsim: $T/small/r.json: cannot write: No space left on device"
	t_is "-o on a full disk: nothing left" "$(ls -A "$T/small")" ""
	umount "$T/small"
else
	t_skip "full tmpfs: --out and -o" "cannot mount a tmpfs here (needs root)"
fi

# File names of plots: the trace's base name without .gz/.zst and then
# .trace/.msb, so x.trace.gz and x.msb both give x.*; the second of two
# equal names is numbered by its place (x-2).
printf '%s\n' '#memsim-trace 1' 'a 1 64' 'f 1' >"$T/x.trace"
"$MEMSIM" convert -q "$T/x.trace" "$T/x.msb"
t_run replay -q --out "$T/names" -p malloc "$T/x.msb" "$T/x.trace"
t_is "plot names: x.msb -> x, x.trace -> x-2" \
	"$(cd "$T/names/plots" && ls *.memory.gp | tr '\n' ' ')" "x-2.memory.gp x.memory.gp "
t_done
