#!/bin/bash
# The progress line (sim/progress.c): drawn on stderr when stderr is a
# terminal and a replay, info or convert runs for more than a second;
# never when stderr is piped, never with --quiet. A terminal comes from
# script(1) (util-linux); without it every case skips.
#
# Timing is made deterministic with FIFOs: opening a FIFO for writing
# blocks until memsim opens it for reading, which memsim does before (info)
# or right after (replay, convert) it starts the progress clock; the writer
# then sends part of the trace, sleeps 1.2 s and sends the rest. memsim
# looks at the clock every 65536 events (PROGRESS_EVERY) and draws once at
# least 1 s (PROGRESS_DELAY) has passed, so the first line is drawn at an
# event count we know.
. "$ROOT/tests/lib.sh"
GEN="$ROOT/build/${BUILD:-release}/tools/gen-bench"

if ! command -v script >/dev/null 2>&1 || ! script -qec true /dev/null </dev/null >/dev/null 2>&1; then
	t_skip "progress line" "script(1) from util-linux is not available"
	t_done
	exit 0
fi

# 200000 events: the header is line 1, event K is line K + 1.
"$GEN" -n 200000 >"$T/bench.trace"

# feed FIFO: header and 70000 events, 1.2 s of silence, then the rest.
# The clock is read at 65536 events (< 1 s: nothing drawn, the next look is
# at 131072) and at 131072 events, after the pause: drawn there.
feed() {
	{ head -n 70001 "$T/bench.trace"; sleep 1.2; tail -n +70002 "$T/bench.trace"; } >"$1"
}

# tty CMD...: runs CMD under a pseudo-terminal with stdout to $T/.out (for jqv);
# what reached the terminal (stderr only) goes to $T/tty.
tty() {
	printf '%q ' "$@" >"$T/cmd"
	script -qec "$(cat "$T/cmd") >$T/.out" /dev/null </dev/null >"$T/tty" 2>&1
}

# check_line DESC LABEL EVENTS MB ETA(yes/no): the last drawn line of
# $T/tty is "\r\e[K" LABEL ": " EVENTS "M events, " MB " MB, " RATE
# "M events/s" [", ETA M:SS"], and an erase follows it (the line does not
# stay on the terminal).
check_line() {
	t_ok "$1" python3 - "$T/tty" "$2" "$3" "$4" "$5" <<'PY'
import re, sys
tty, label, events, mb, eta = open(sys.argv[1], "rb").read().decode(), *sys.argv[2:]
pat = (re.escape("\r\x1b[K" + label + ": " + events + "M events, ") +
       (r"\d+" if mb == "any" else re.escape(mb)) +
       r" MB, \d+\.\dM events/s(, ETA \d+:[0-5]\d)?")
found = list(re.finditer(pat, tty))
if not found:
    sys.exit("# no progress line in %r" % tty[:300])
last = found[-1]
if (last.group(1) is not None) != (eta == "yes"):
    sys.exit("# ETA %s expected in %r" % (eta, last.group(0)))
if "\r\x1b[K" not in tty[last.end():]:
    sys.exit("# the line is not erased at the end: %r" % tty[last.end():])
PY
}

# replay from a FIFO: first drawn at 131072 events = "0.1M" (%.1f of
# 0.131072); a FIFO has no size, so no ETA. The report still goes to stdout.
mkfifo "$T/f1"
feed "$T/f1" &
tty "$MEMSIM" replay -p malloc --format json "$T/f1"
t_is "replay on a tty: exit 0" "$?" 0
wait
check_line "replay on a tty: progress line, no ETA for a FIFO" "$T/f1" 0.1 any no
t_is "replay on a tty: report intact on stdout" "$(jqv .traces[0].policies[0].name)" malloc

# --quiet on a terminal: nothing at all on stderr.
feed "$T/f1" &
tty "$MEMSIM" replay -q -p malloc --format json "$T/f1"
t_is "replay -q on a tty: exit 0" "$?" 0
wait
t_is "replay -q on a tty: no progress line" "$(cat "$T/tty")" ""

# stderr piped (no terminal): nothing on stderr either.
feed "$T/f1" &
"$MEMSIM" replay -p malloc --format json "$T/f1" >"$T/stdout" 2>"$T/stderr"
t_is "replay piped: exit 0" "$?" 0
wait
t_is "replay piped: no progress line" "$(cat "$T/stderr")" ""

# ETA: the clock starts once for all traces of a replay. The first trace
# is a FIFO that delivers one event after 1.2 s; the second, bench.trace,
# is a regular file (size 2972824 bytes known), read in 1 MiB chunks. At
# its event 65536 more than 1 s has passed: drawn there, "0.1M" (0.065536),
# with 1048576 bytes read ("1 MB") out of the file's size, so an ETA.
# Precondition: event 65536 (line 65537) ends inside the first 1 MiB.
t_ok "event 65536 lies in the first MiB" test "$(head -n 65537 "$T/bench.trace" | wc -c)" -lt 1048576
t_ok "the file is longer than 1 MiB" test "$(wc -c <"$T/bench.trace")" -gt 1048576
mkfifo "$T/one"
{ exec 3>"$T/one"; sleep 1.2; echo 'a 1 8' >&3; } &
tty "$MEMSIM" replay -p malloc --format json "$T/one" "$T/bench.trace"
t_is "replay of a file on a tty: exit 0" "$?" 0
wait
check_line "replay of a file on a tty: progress line with ETA" "$T/bench.trace" 0.1 1 yes

# info and convert draw the same line.
feed "$T/f1" &
tty "$MEMSIM" info --format json "$T/f1"
t_is "info on a tty: exit 0" "$?" 0
wait
check_line "info on a tty: progress line" "$T/f1" 0.1 any no
t_is "info on a tty: report intact" "$(jqv .events.total)" 200000
feed "$T/f1" &
tty "$MEMSIM" convert "$T/f1" "$T/out.msb"
t_is "convert on a tty: exit 0" "$?" 0
wait
check_line "convert on a tty: progress line" "$T/f1" 0.1 any no
feed "$T/f1" &
tty "$MEMSIM" convert --quiet "$T/f1" "$T/out.msb"
wait
t_is "convert --quiet on a tty: no progress line" "$(cat "$T/tty")" ""
t_done
