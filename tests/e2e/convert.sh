#!/bin/bash
# memsim convert and the binary trace form (docs/binary-format.md):
# lossless round trips of every bundled trace and of generated ones,
# `memsim info` agreeing on text and binary, gzip, standard input, errors.
. "$ROOT/tests/lib.sh"
TOOLS="$ROOT/build/${BUILD:-release}/tools"

# norm FILE: the events of a text trace as normalised text would have
# them (comments and blank lines dropped, fields joined by one space).
# The bundled and generated traces write decimal numbers only, so no
# number needs rewriting.
norm() {
	{ case $1 in *.gz) gzip -dc "$1" ;; *) cat "$1" ;; esac; } |
		awk '!/^#/ && NF { $1 = $1; print }'
}

# info_json FILE: memsim info's JSON without the "trace" key (the name).
info_json() {
	"$MEMSIM" info -q --format json "$1" |
		python3 -c 'import json,sys; d=json.load(sys.stdin); d.pop("trace"); print(json.dumps(d, sort_keys=True))'
}

# round_trip NAME FILE: text -> binary -> text keeps the events and the
# metadata; binary -> text -> binary gives the same bytes; info agrees.
round_trip() {
	name=$1 src=$2
	"$MEMSIM" convert -q "$src" "$T/$name.msb"
	t_is "$name: to binary" "$?" 0
	magic=$(head -c 4 "$T/$name.msb" | od -An -tx1 | tr -d ' \n')
	t_is "$name: binary magic" "$magic" 894d5342
	"$MEMSIM" convert -q "$T/$name.msb" "$T/$name.txt"
	t_is "$name: back to text" "$?" 0
	t_ok "$name: same events" cmp -s <(norm "$src") <(norm "$T/$name.txt")
	h1=$({ case $src in *.gz) gzip -dc "$src" ;; *) cat "$src" ;; esac; } | head -1 | sed -n 's/^#memsim-trace 1 *//p')
	h2=$(head -1 "$T/$name.txt" | sed -n 's/^#memsim-trace 1 *//p')
	t_is "$name: same metadata" "$h2" "$h1"
	"$MEMSIM" convert -q "$T/$name.txt" "$T/$name.2.msb"
	t_ok "$name: binary -> text -> binary is byte-identical" cmp -s "$T/$name.msb" "$T/$name.2.msb"
	t_is "$name: info text = info binary" "$(info_json "$T/$name.msb")" "$(info_json "$src")"
}

# The slow tiers (t_slow: asan, valgrind) round-trip the two smallest
# bundled traces and generated traces a tenth the size (NB events).
NB=200000 NA=100000 BUNDLED=("$ROOT"/traces/*.trace "$ROOT"/traces/*.trace.gz)
t_slow && NB=20000 NA=10000 BUNDLED=("$ROOT"/traces/cycle.trace "$ROOT"/traces/list-churn.trace.gz)
for f in "${BUNDLED[@]}"; do
	[ -f "$f" ] || continue
	round_trip "$(basename "$f")" "$f"
done
"$TOOLS/gen-bench" -n "$NB" >"$T/bench.trace"
round_trip bench "$T/bench.trace"
"$TOOLS/gen-scenario" arenas -n "$NA" >"$T/arenas.trace"
round_trip arenas "$T/arenas.trace"

# A trace with every kind, hex numbers, comments, odd spacing and edge
# values; its normalised text is written out by hand below.
printf '%s\n' '#memsim-trace 1 {"source":"hand"}' '# a comment' \
	'a 0xffffffffffffffff 0xffffffffffff _io.TextIOWrapper' \
	'a  1	0' '@ 0' '@ 0' 'r 1 4096' '+ 1 0xffffffffffffffff' '+ 0 1' \
	'- 0 1' '- 1 18446744073709551615' 'c' 'c 0' 'c 18446744073709551615' \
	's' '@ 18446744073709551615' 'f 1' >"$T/all.trace"
printf '%s\n' '#memsim-trace 1 {"source":"hand"}' \
	'a 18446744073709551615 281474976710655 _io.TextIOWrapper' \
	'a 1 0' '@ 0' '@ 0' 'r 1 4096' '+ 1 18446744073709551615' '+ 0 1' \
	'- 0 1' '- 1 18446744073709551615' 'c' 'c 0' 'c' \
	's' '@ 18446744073709551615' 'f 1' >"$T/all.expected"
"$MEMSIM" convert "$T/all.trace" "$T/all.msb" &&
	"$MEMSIM" convert "$T/all.msb" "$T/all.txt"
t_ok "every kind: normalised text as derived" cmp -s "$T/all.txt" "$T/all.expected"

# gzip: by name and by --gzip; the reader detects both layers.
"$MEMSIM" convert -q "$T/bench.trace" "$T/bench.msb.gz"
t_is "gzip+binary: gzip magic" "$(head -c 2 "$T/bench.msb.gz" | od -An -tx1 | tr -d ' \n')" 1f8b
t_is "gzip+binary: gunzips to the binary form" "$(gzip -dc "$T/bench.msb.gz" | cmp - "$T/bench.msb" && echo same)" same
"$MEMSIM" convert -q --to binary --gzip "$T/bench.trace" "$T/bench.out"
t_ok "--to binary --gzip ignores the name" cmp -s "$T/bench.out" "$T/bench.msb.gz"
t_is "gzip+binary: info" "$(info_json "$T/bench.msb.gz")" "$(info_json "$T/bench.trace")"

# Standard input and output.
t_is "stdin binary: info" "$("$MEMSIM" info -q --format json - <"$T/bench.msb" | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"]["total"])')" "$NB"
gzip -c "$T/bench.msb" | "$MEMSIM" convert -q - "$T/stdin.msb"
t_ok "stdin gzip+binary -> binary" cmp -s "$T/stdin.msb" "$T/bench.msb"
"$MEMSIM" convert -q "$T/bench.msb" - >"$T/stdout.txt"
t_ok "binary -> stdout is text" cmp -s <(norm "$T/stdout.txt") <(norm "$T/bench.trace")
"$MEMSIM" convert -q --to binary - - <"$T/bench.trace" >"$T/stdout.msb"
t_ok "--to binary to stdout" cmp -s "$T/stdout.msb" "$T/bench.msb"

# Errors. The bench trace has NB events, so its end record is event
# NB + 1; dropping the file's last byte cuts that record short.
head -c -1 "$T/bench.msb" >"$T/cut.msb"
t_run info "$T/cut.msb"
t_is "cut binary: exit 65" "$T_STATUS" 65
t_is "cut binary: message" "$T_ERR" "memsim: $T/cut.msb: event $((NB + 1)): truncated binary trace (the record is cut short)"
t_run convert "$T/cut.msb" "$T/cut.txt"
t_is "convert of a cut trace: exit 65" "$T_STATUS" 65
t_is "convert of a cut trace: no OUT, no temporary file" "$(ls "$T" | grep -c '^cut.txt')" 0
# The heap's errors are located by event number and the event's text:
# event 2 frees ID 2, never allocated.
printf 'a 1 8\nf 2\n' >"$T/dead.trace"
"$MEMSIM" convert -q "$T/dead.trace" "$T/dead.msb"
t_run replay -q -p malloc "$T/dead.msb"
t_is "heap error in binary: exit 65" "$T_STATUS" 65
t_like "heap error in binary: located" "$T_ERR" "$T/dead.msb: event 2: "
t_like "heap error in binary: event text" "$T_ERR" '"f 2"'
t_run convert --to xml "$T/bench.trace" "$T/x"
t_is "--to xml: exit 64" "$T_STATUS" 64
t_like "--to xml: message" "$T_ERR" "convert: unknown form 'xml' (use text or binary)"
t_run convert "$T/bench.trace"
t_is "one operand: exit 64" "$T_STATUS" 64
# A memsim trace is not an mtrace log: its first event line is refused.
t_run convert --from mtrace "$T/bench.trace" "$T/x"
t_is "--from mtrace on a memsim trace: exit 65" "$T_STATUS" 65
t_like "--from mtrace on a memsim trace: message" "$T_ERR" "not a glibc mtrace line"
t_run convert --help
t_like "--help shows examples" "$T_OUT" "memsim convert app.trace.gz app.msb"

# zstd-compressed traces read like gzip ones (sim/source.c), cut ones fail.
if command -v zstd >/dev/null; then
	printf '#memsim-trace 1\na 1 10\na 2 20\nf 1\n' | zstd -q -c >"$T/z.trace.zst"
	t_run convert "$T/z.trace.zst" -
	t_is "zstd input: the events" "$T_OUT" "$(printf '#memsim-trace 1\na 1 10\na 2 20\nf 1')"
	head -c 12 "$T/z.trace.zst" >"$T/zcut.zst"
	t_run info "$T/zcut.zst"
	t_is "cut zstd input: exit 65" "$T_STATUS" 65
	t_is "cut zstd input: message" "$T_ERR" "memsim: $T/zcut.zst: truncated zstd stream"
fi
t_done
