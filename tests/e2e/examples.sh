#!/bin/bash
# Every example of `memsim --help`, `memsim replay --help`, `memsim
# policies --help`, the man page's EXAMPLES and the README's memsim lines
# runs verbatim, with exit 0 and output, in a fresh copy of the tree's
# tracked files (what a fresh clone holds: traces/ and nothing built or
# generated). `memsim` in an example is this build's binary. The tools
# beside memsim answer --help with a usage line on stdout and exit 0.
# (Examples of info, convert and sweep name the user's own files, such as
# app.trace.gz, and are not run here.)
. "$ROOT/tests/lib.sh"
CLONE=$T/clone
mkdir -p "$CLONE"
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$ROOT" && git ls-files -z traces | xargs -0 cp --parents -t "$CLONE")
else
	cp -r "$ROOT/traces" "$CLONE/"
fi
t_ok "fresh copy holds the bundled traces" test -s "$CLONE/traces/cycle.trace"

# examples_of TEXT: the "  memsim ..." lines of a help's Examples section,
# continuation lines (ending in \) joined, one command per line.
examples_of() {
	printf '%s\n' "$1" | awk '
		/^Examples:/ { on = 1; next }
		on && /^[^ ]/ { on = 0 }
		on {
			sub(/^ +/, "")
			if (cont) { cmd = cmd " " $0 } else if ($0 ~ /^memsim /) { cmd = $0 } else { next }
			if (cmd ~ /\\$/) { sub(/ *\\$/, "", cmd); cont = 1; next }
			cont = 0; print cmd
		}'
}

# run_example WHERE CMD: runs CMD with bash in the fresh copy.
run_example() {
	local out rc
	out=$(cd "$CLONE" && memsim() { "$MEMSIM" "$@"; } && eval "$2" 2>&1 </dev/null)
	rc=$?
	t_is "$1: $2: exit 0" "$rc" 0
	[ "$rc" = 0 ] || printf '# %s\n' "$out" | head -5
	# an example that prints nothing (> report.json, --out) wrote a file
	if [ -z "$out" ]; then
		t_ok "$1: $2: wrote its file" test -n "$(ls -A "$CLONE" | grep -v '^traces$')"
	fi
}

n=0
for c in "" replay policies; do
	# shellcheck disable=SC2086
	help=$("$MEMSIM" $c --help)
	while IFS= read -r cmd; do
		run_example "memsim ${c:+$c }--help" "$cmd"
		n=$((n + 1))
	done < <(examples_of "$help")
done

# the man page: the lines between .nf and .fi of EXAMPLES, unescaped
while IFS= read -r cmd; do
	run_example "memsim.1" "$cmd"
	n=$((n + 1))
done < <(awk '/^\.SH EXAMPLES/ { on = 1; next } on && /^\.fi/ { exit }
	on && !/^\./ { gsub(/\\-/, "-"); gsub(/\\e/, "\\"); print }' "$ROOT/docs/memsim.1" |
	awk '{ if (cont) cmd = cmd " " $0; else cmd = $0
	       sub(/^ +/, "", cmd)
	       if (cmd ~ /\\$/) { sub(/ *\\$/, "", cmd); cont = 1; next }
	       cont = 0; print cmd }')

# the README: its "$ memsim ..." lines
while IFS= read -r cmd; do
	run_example "README" "$cmd"
	n=$((n + 1))
done < <(sed -n 's/^\$ \(memsim .*\)$/\1/p' "$ROOT/README.md")
# 6 + 6 + 4 in the helps, 5 in the man page, 2 in the README
t_ok "every example found ($n, at least 20)" test "$n" -ge 20

# the README's headline example shows differences, not "=" everywhere:
# per-type lists park int and float blocks (docs/scenarios.md), the
# shared list does not, so footprint at end differs
out=$(cd "$CLONE" && "$MEMSIM" replay -q -p cpython-2.7 -p cpython-2.7:freelists.mode=shared \
	--baseline cpython-2.7 traces/int-then-float.trace.gz)
t_like "README headline: a difference to the baseline" "$out" "%"

# --- the tools answer --help: usage on stdout, exit 0 ---
TOOLS="$ROOT/build/${BUILD:-release}/tools"
for tool in "$TOOLS/gen-scenario" "$TOOLS/gen-bench" "$TOOLS/bench-decode" \
	"$ROOT/tools/compare-results" "$ROOT/tools/glibc-fidelity" "$ROOT/tools/bench.sh" \
	"$ROOT/tools/gen-gc-traces" "$ROOT/tools/gen-freelist-scenarios"; do
	name=${tool##*/}
	out=$("$tool" --help 2>"$T/help.err" </dev/null)
	rc=$?
	t_is "$name --help: exit 0" "$rc" 0
	t_like "$name --help: usage on stdout" "$out" "$name"
	t_is "$name --help: nothing on stderr" "$(cat "$T/help.err")" ""
done
t_done
