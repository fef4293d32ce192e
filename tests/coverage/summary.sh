#!/bin/sh
# tests/coverage/summary.sh OBJDIR - line and branch coverage of sim/ from
# gcov data in OBJDIR (build/coverage/sim), one row per file and a total.
# gcov's own per-file figures are summed as counts, not averaged.
set -eu
objdir=$1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for src in sim/*.c; do
	[ -f "$objdir/$(basename "$src" .c).gcno" ] || continue
	gcov -b -n -o "$objdir" "$src" 2>/dev/null |
		awk -v f="$src" '
		/^File / { cur = $2; gsub("\x27", "", cur) }
		cur != ("" f) && cur !~ ("/" f "$") { next }
		/^Lines executed:/ { split($2, a, ":"); sub("%", "", a[2]); l = a[2]; ln = $4 }
		/^Taken at least once:/ { split($4, b, ":"); sub("%", "", b[2]); br = b[2]; bn = $6 }
		END { printf "%s %s %s %s %s\n", f, l + 0, ln + 0, br + 0, bn + 0 }'
done >"$out/rows"
awk '
{
	lhit = $2 * $3 / 100; bhit = $4 * $5 / 100
	L += $3; LH += lhit; B += $5; BH += bhit
	printf "%-28s lines %6.1f%% of %5d   branches %6.1f%% of %5d\n", $1, $2, $3, $4, $5
}
END {
	printf "%-28s lines %6.1f%% of %5d   branches %6.1f%% of %5d\n", "TOTAL sim/",
		L ? 100 * LH / L : 0, L, B ? 100 * BH / B : 0, B
}' "$out/rows"
