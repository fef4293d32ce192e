#!/bin/bash
# Command-line errors shared by the subcommands (sim/cli.c, sim/main.c,
# sim/cmd_policies.c): output files that cannot be written (exit 74, the
# path and the system's reason, no file or temporary left), a full
# standard output, bad option values (exit 64 with the option and the
# value). The reasons are glibc's strerror texts for the errno named.
# Runs as any user: no case depends on permissions (root ignores them).
. "$ROOT/tests/lib.sh"
TR="$ROOT/traces/cycle.trace"

# err DESC STATUS EXPECTED-STDERR ARGS...: exact stderr, empty stdout.
err() {
	d=$1 st=$2 msg=$3; shift 3
	t_run "$@"
	t_is "$d: exit $st" "$T_STATUS" "$st"
	t_is "$d: message" "$T_ERR" "$msg"
	t_is "$d: stdout empty" "$T_OUT" ""
}

# -o into something that is not a directory: mkstemp fails, ENOTDIR.
: >"$T/plain"
err "-o under a file" 74 "memsim: $T/plain/r.txt: cannot create: Not a directory" \
	replay -q -p malloc -o "$T/plain/r.txt" "$TR"
# -o into a directory that does not exist: ENOENT.
err "-o under a missing directory" 74 \
	"memsim: $T/none/r.txt: cannot create: No such file or directory" \
	replay -q -p malloc -o "$T/none/r.txt" "$TR"
# -o naming a directory: the temporary file is written beside it, and
# rename(2) onto a directory fails with EISDIR; the temporary is removed
# and the directory left alone.
mkdir "$T/adir"
err "-o to a directory" 74 "memsim: $T/adir: cannot write: Is a directory" \
	replay -q -p malloc -o "$T/adir" "$TR"
t_ok "-o to a directory: still an empty directory" test -d "$T/adir" -a -z "$(ls -A "$T/adir")"
t_is "-o to a directory: no temporary left" "$(ls "$T" | grep -c '^adir.tmp')" 0
# The same for info's -o.
err "info -o to a directory" 74 "memsim: $T/adir: cannot write: Is a directory" \
	info -o "$T/adir" "$TR"

# convert: the same for its output; --to text from a text trace rewrites
# it normalised; -v counts the events (the non-comment lines of cycle.trace).
err "convert: OUT under a file" 74 "memsim: $T/plain/x.msb: cannot create: Not a directory" \
	convert -q "$TR" "$T/plain/x.msb"
err "convert --from mtrace: missing input" 66 \
	"memsim: $T/none.log: cannot open: No such file or directory" \
	convert --from mtrace "$T/none.log" "$T/x.trace"
err "convert --from xml" 64 $'memsim: convert: unknown input form \'xml\' (use memsim, mtrace or heaptrack)\nmemsim: see \'memsim convert --help\'' \
	convert --from xml "$TR" "$T/x.trace"
err "convert: unknown option" 64 "memsim: convert: unknown option '--bogus' (see 'memsim convert --help')" \
	convert --bogus "$TR" "$T/x.trace"
t_run convert -v --to text --from memsim "$TR" "$T/x.trace"
t_is "convert -v: exit 0" "$T_STATUS" 0
t_is "convert -v: the count on stderr" "$T_ERR" "memsim: $TR: $(grep -cv '^#' "$TR") events, text"
t_is "convert -v: events kept" "$(grep -cv '^#' "$T/x.trace")" "$(grep -cv '^#' "$TR")"

# A full standard output (/dev/full: every write fails with ENOSPC).
for cmd in "replay -q -p malloc $TR" "info $TR" "policies" "policies --show malloc"; do
	# shellcheck disable=SC2086
	"$MEMSIM" $cmd >/dev/full 2>"$T/.err"
	t_is "$cmd > /dev/full: exit 74" "$?" 74
	t_is "$cmd > /dev/full: message" "$(cat "$T/.err")" \
		"memsim: cannot write to standard output: No space left on device"
done

# --out DIR: a path under a regular file cannot be a directory (ENOTDIR);
# a regular file as DIR is not a directory either; a missing parent is
# ENOENT. All are found before the replay (outdir.sh).
err "--out under a file" 74 "memsim: $T/plain/o: cannot create directory: Not a directory" \
	replay -q -p malloc --out "$T/plain/o" "$TR"
err "--out is a file" 74 "memsim: $T/plain: cannot create directory: Not a directory" \
	replay -q -p malloc --out "$T/plain" "$TR"
err "--out with a missing parent" 74 \
	"memsim: $T/none/o: cannot create directory: No such file or directory" \
	replay -q -p malloc --out "$T/none/o" "$TR"
t_ok "--out failures create nothing" test ! -e "$T/none" -a ! -s "$T/plain"

# Formats: replay knows csv, info does not.
err "replay --format xml" 64 $'memsim: unknown format \'xml\' (use text, json or csv)\nmemsim: see \'memsim replay --help\'' \
	replay -p malloc --format xml "$TR"
err "info --format csv" 64 $'memsim: unknown format \'csv\' (use text or json)\nmemsim: see \'memsim info --help\'' \
	info --format csv "$TR"

# Whole numbers: decimal or 0x digits and one K/M/G/T suffix (sim/units.h),
# within 64 bits (2^64 = 18446744073709551616).
for v in abc -5 12kb 1.5K 0x ""; do
	err "--sample-step '$v'" 64 \
		$'memsim: --sample-step wants a whole number (e.g. 4096, 64K, 0x1000), not \''"$v"$'\'\nmemsim: see \'memsim replay --help\'' \
		replay -p malloc --out "$T/o" --sample-step "$v" "$TR"
done
err "--sample-step 2^64" 64 \
	$'memsim: --sample-step wants a whole number (e.g. 4096, 64K, 0x1000), not \'18446744073709551616\': too large for 64 bits\nmemsim: see \'memsim replay --help\'' \
	replay -p malloc --out "$T/o" --sample-step 18446744073709551616 "$TR"
err "--sample-ns 0" 64 $'memsim: replay: --sample-ns must be at least 1\nmemsim: see \'memsim replay --help\'' \
	replay -p malloc --out "$T/o" --sample-ns 0 "$TR"
err "--sample-step without --out" 64 \
	$'memsim: replay: --sample-step and --sample-ns need --out DIR or --series\nmemsim: see \'memsim replay --help\'' \
	replay -p malloc --sample-step 10 "$TR"
t_ok "rejected options create no --out directory" test ! -e "$T/o"

# A missing option value names the option; the message already points at
# --help, so no second line.
err "replay -p without a value" 64 "memsim: replay: option '-p' needs a value (see 'memsim replay --help')" \
	replay "$TR" -p
err "policies --show without a value" 64 \
	"memsim: policies: option '--show' needs a value (see 'memsim policies --help')" \
	policies --show
err "policies: unknown option" 64 \
	"memsim: policies: unknown option '--bogus' (see 'memsim policies --help')" \
	policies --bogus
err "policies: operand" 64 $'memsim: policies: unexpected argument \'cpython-3.11\'\nmemsim: see \'memsim policies --help\'' \
	policies cpython-3.11
t_run policies --help
t_is "policies --help: exit 0" "$T_STATUS" 0
t_is "policies --help: usage first" "$(printf '%s\n' "$T_OUT" | head -1)" "usage: memsim policies [--show POLICY | --expand POLICY...]"
t_is "policies --help: nothing on stderr" "$T_ERR" ""
# -s is --show.
t_run policies -s cpython-2.4
t_is "policies -s: the preset" "$(jqv .allocator.arena_size)" 262144

# The program itself.
t_run
t_is "no command: exit 64" "$T_STATUS" 64
t_like "no command: usage on stderr" "$T_ERR" "usage: memsim COMMAND"
t_is "no command: stdout empty" "$T_OUT" ""
t_run --help
t_is "--help: exit 0" "$T_STATUS" 0
t_like "--help: usage on stdout" "$T_OUT" "usage: memsim COMMAND"
err "unknown command" 64 "memsim: unknown command 'replya' (see 'memsim --help')" replya
err "--max-memory without SIZE" 64 "memsim: --max-memory needs a SIZE, e.g. 2G" --max-memory
err "--max-memory=abc" 64 "memsim: --max-memory wants a size like 512M or 2G, not 'abc'" \
	--max-memory=abc policies
t_done
