#!/bin/bash
# Resource honesty and nothing half-written: the --max-memory guard
# (sim/main.c), memsim's own out-of-memory message (sim/xalloc.c), a
# failed replay that writes no report, and SIGINT during a replay and
# during the write of a report (sim/cli.c cli_emit) leaving no file.
. "$ROOT/tests/lib.sh"

cc -std=c11 -O2 -o "$T/adv" "$ROOT/tests/adversarial/adv.c" || { t_fail "build adv"; t_done; exit 1; }
ADV=$T/adv
printf 'a 1 100\na 2 200\nf 1\n' >"$T/small.trace"

# --- --max-memory ---
# 10 million live objects need well over 64 MiB of object table (each
# struct heap_obj alone is 64 bytes: 640 MB), so memsim must stop with 71
# and say what it asked for and which limit applied; stdout stays empty.
OOM_RE='^memsim: out of memory: could not allocate [0-9]+ bytes \(limit --max-memory=64M\)$'
if "$MEMSIM" --max-memory 1G info "$T/small.trace" 2>&1 | grep -q 'ignored under .*Sanitizer'; then
	t_skip "--max-memory 64M stops at 10^7 live objects" "a sanitizer build ignores the limit"
else
	"$ADV" live 10000000 | "$MEMSIM" --max-memory 64M info - >"$T/.out" 2>"$T/.err"
	t_is "--max-memory 64M: exit 71" "$?" 71
	t_ok "--max-memory 64M: message names size and limit" grep -Eq "$OOM_RE" "$T/.err"
	t_is "--max-memory 64M: nothing on stdout" "$(cat "$T/.out")" ""
	"$ADV" live 10000000 | MEMSIM_MAX_MEMORY=64M "$MEMSIM" info - >"$T/.out" 2>"$T/.err"
	t_is "MEMSIM_MAX_MEMORY=64M: exit 71" "$?" 71
	t_ok "MEMSIM_MAX_MEMORY=64M: message names the variable" \
		grep -Eq '\(limit MEMSIM_MAX_MEMORY=64M\)$' "$T/.err"
fi
# The 3-event trace: peak live 300 bytes (100 + 200), under any sane limit.
t_run --max-memory=1G info --format json "$T/small.trace"
t_is "--max-memory=1G small trace: exit 0" "$T_STATUS" 0
t_is "--max-memory=1G small trace: result" "$(jqv .peak_live_bytes)" 300
t_run --max-memory 0 info "$T/small.trace"
t_is "--max-memory 0: usage error" "$T_STATUS $T_ERR" "64 memsim: --max-memory wants a size like 512M or 2G, not '0'"
t_run --max-memory 12Q info "$T/small.trace"
t_is "--max-memory 12Q: usage error" "$T_STATUS $T_ERR" "64 memsim: --max-memory wants a size like 512M or 2G, not '12Q'"
t_run --max-memory
t_is "--max-memory without a value" "$T_STATUS $T_ERR" "64 memsim: --max-memory needs a SIZE, e.g. 2G"

# --- a failed replay writes no report ---
# An empty policy document is every section at its first implementation's
# defaults; no preset is needed.
echo '{}' >"$T/pol.json"
printf 'a 1 100\nf 2\n' >"$T/bad.trace"
t_run replay -q -p "$T/pol.json" -o "$T/report.txt" "$T/small.trace" "$T/bad.trace"
t_is "failed replay: exit 65" "$T_STATUS" 65
t_is "failed replay: message" "$T_ERR" "memsim: $T/bad.trace:2: object 2 is not live: \"f 2\""
t_ok "failed replay: no report file" test ! -e "$T/report.txt"
t_is "failed replay: no temporary file" "$(ls "$T" | grep -c 'report.txt')" 0
t_run replay -q -p "$T/pol.json" -o "$T/report.txt" "$T/small.trace"
t_is "good replay: exit 0" "$T_STATUS" 0
t_ok "good replay: report written" test -s "$T/report.txt"
t_is "good replay: no temporary file left" "$(ls "$T" | grep -c 'report.txt.tmp')" 0

# --- SIGINT during a long replay: no report, no temporary file ---
# Job control on: background jobs of a script otherwise start with SIGINT
# ignored. A watchdog kills memsim should SIGINT not stop it.
set -m
watchdog() { # PID: SIGKILL after 20 s
	( sleep 20; kill -KILL "$1" 2>/dev/null ) >/dev/null 2>&1 &
	dog=$!
}
"$MEMSIM" replay -q -p "$T/pol.json" -o "$T/long.txt" - < <("$ADV" stream 1000000000 1048576) \
	>/dev/null 2>"$T/.err" &
pid=$!
watchdog $pid
sleep 1
kill -INT $pid
wait $pid
t_is "SIGINT during replay: killed by SIGINT (130)" "$?" 130
kill $dog 2>/dev/null
t_is "SIGINT during replay: no file" "$(ls "$T" | grep -c 'long.txt')" 0

# --- SIGINT while the report is being written ---
# A million type names make a text report of about 70 MB, so its write
# and fsync take long enough to interrupt once the temporary file shows.
"$ADV" types 1000000 >"$T/types.trace"
"$MEMSIM" info -q -o "$T/big.txt" "$T/types.trace" >/dev/null 2>"$T/.err" &
pid=$!
watchdog $pid
seen=0
shopt -s nullglob
while kill -0 $pid 2>/dev/null; do
	tmps=("$T"/big.txt.tmp.*)
	if [ ${#tmps[@]} -gt 0 ]; then
		kill -INT $pid
		seen=1
		break
	fi
done
wait $pid
status=$?
kill $dog 2>/dev/null
if [ $seen = 1 ]; then
	t_is "SIGINT during write: killed by SIGINT (130)" "$status" 130
	t_is "SIGINT during write: no report and no temporary file" "$(ls "$T" | grep -c 'big.txt')" 0
else
	t_skip "SIGINT during write" "the write finished before the temporary file was seen"
fi

t_done
