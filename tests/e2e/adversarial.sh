#!/bin/bash
# Hostile input: every malformed line class with its exact message, broken
# gzip, NUL bytes, megabyte lines, CRLF, the numeric limits, a million type
# names, a 10^7-deep chain, a 10^6 ring, a trace that requests terabytes
# while keeping one block live (must stream), empty and header-only files
# and a directory. Each case asserts the exit status (0 valid, 65 bad data,
# 66 cannot open), that a failed run prints nothing on stdout, and the
# error text. Messages come from sim/trace.c and sim/heap.c (listed in
# docs/trace-format.md); memsim prints "memsim: FILE:LINE: MESSAGE: "TEXT"".
. "$ROOT/tests/lib.sh"

# Large cases are ten times smaller under the slow builds (asan, coverage)
# and under valgrind (t_slow).
if [ "${BUILD:-release}" = release ] && ! t_slow; then SCALE=1; else SCALE=10; fi
cc -std=c11 -O2 -o "$T/adv" "$ROOT/tests/adversarial/adv.c" || { t_fail "build adv"; t_done; exit 1; }
ADV=$T/adv

# bad NAME LINES-PRINTF LINE MESSAGE TEXT: a trace that must be rejected
# with exit 65, nothing on stdout, and exactly this message.
bad() {
	printf -- "$2" >"$T/$1.trace"
	t_run info "$T/$1.trace"
	t_is "$1: exit 65" "$T_STATUS" 65
	t_is "$1: nothing on stdout" "$T_OUT" ""
	t_is "$1: message" "$T_ERR" "memsim: $T/$1.trace:$3: $4: \"$5\""
}

# --- every malformed line class (docs/trace-format.md, "Errors") ---
bad unknown-letter 'a 1 8\nq 1\n' 2 "unknown event 'q'" "q 1"
bad unknown-word 'alloc 1 8\n' 1 "unknown event 'alloc'" "alloc 1 8"
bad a-missing-size 'a 1\n' 1 "'a' needs ID SIZE [TYPE]" "a 1"
bad a-extra-field 'a 1 8 list x\n' 1 "'a' needs ID SIZE [TYPE]" "a 1 8 list x"
bad f-missing-id 'f\n' 1 "'f' needs ID" "f"
bad r-missing-size 'a 1 8\nr 1\n' 2 "'r' needs ID SIZE" "r 1"
bad add-one-field '+ 1\n' 1 "'+' needs SRC DST" "+ 1"
bad drop-three-fields '- 1 2 3\n' 1 "'-' needs SRC DST" "- 1 2 3"
bad s-with-field 's 1\n' 1 "'s' takes no fields" "s 1"
bad c-two-fields 'c 1 2\n' 1 "'c' takes at most one field (GEN)" "c 1 2"
bad at-missing-time '@\n' 1 "'@' needs T" "@"
bad bad-number 'a x1 8\n' 1 "bad number 'x1'" "a x1 8"
bad negative-size 'a 1 -8\n' 1 "bad number '-8'" "a 1 -8"
bad empty-hex 'a 0x 8\n' 1 "bad number '0x'" "a 0x 8"
bad bad-type 'a 1 8 9list\n' 1 "bad type name '9list'" "a 1 8 9list"
bad type-64-chars "a 1 8 $(printf 'x%.0s' $(seq 64))\n" 1 \
	"type name longer than 63 characters" "a 1 8 $(printf 'x%.0s' $(seq 64))"
bad alloc-root 'a 0 8\n' 1 "ID 0 is the root set and cannot be allocated" "a 0 8"
bad free-root 'f 0\n' 1 "ID 0 is the root set and cannot be freed" "f 0"
bad ref-to-root 'a 1 8\n+ 1 0\n' 2 "ID 0 is the root set and cannot be referenced" "+ 1 0"
bad time-backwards '@ 10\n@ 9\n' 2 "time goes backwards (9 after 10)" "@ 9"
bad late-header 'a 1 8\n#memsim-trace 1\n' 2 "header allowed only on line 1" "#memsim-trace 1"
bad version-3 '#memsim-trace 3\n' 1 "unsupported trace version 3" "#memsim-trace 3"
bad metadata-not-json '#memsim-trace 1 {x\n' 1 "metadata is not valid JSON" "#memsim-trace 1 {x"
bad metadata-array '#memsim-trace 1 [1]\n' 1 "metadata is not a JSON object" "#memsim-trace 1 [1]"
# Semantic errors, found by the heap.
bad alloc-live 'a 1 8\na 1 8\n' 2 "object 1 is already live" "a 1 8"
bad free-not-live 'f 3\n' 1 "object 3 is not live" "f 3"
bad resize-not-live 'r 3 8\n' 1 "object 3 is not live" "r 3 8"
bad free-after-cascade 'a 1 8\n- 0 1\nf 1\n' 3 "object 1 is not live" "f 1"
bad drop-missing-edge 'a 1 8\na 2 8\n- 1 2\n' 3 "object 1 holds no reference to object 2" "- 1 2"
bad free-referenced 'a 1 8\na 2 8\n+ 1 2\nf 2\n' 4 \
	"object 2 is still referenced by other live objects (1 reference)" "f 2"

# --- NUL bytes, in an event and in a comment ---
bad nul-in-event 'a 1 8\000 x\n' 1 "NUL byte in line" 'a 1 8\x00 x'
bad nul-in-comment '# a\000b\n' 1 "NUL byte in line" '# a\x00b'

# --- numeric limits ---
# 2^64-1 = 18446744073709551615 is a valid ID, in decimal and hex; 2^64 is not.
printf 'a 18446744073709551615 8\n+ 18446744073709551615 18446744073709551615\nf 0xffffffffffffffff\n' >"$T/idmax.trace"
t_run info --format json "$T/idmax.trace"
t_is "ID 2^64-1: exit 0" "$T_STATUS" 0
# One 8-byte object allocated and freed: peak 8, final 0.
t_is "ID 2^64-1: peak and final" "$(jqv .peak_live_bytes) $(jqv .final_live_bytes)" "8 0"
bad id-2-64 'f 18446744073709551616\n' 1 "ID 18446744073709551616 does not fit in 64 bits" "f 18446744073709551616"
bad id-hex-2-64 'f 0x10000000000000000\n' 1 "ID 0x10000000000000000 does not fit in 64 bits" "f 0x10000000000000000"
# 2^48-1 = 281474976710655 is the largest size; 2^48 is one past it.
printf 'a 1 281474976710655\nr 1 0xffffffffffff\n' >"$T/sizemax.trace"
t_run info --format json "$T/sizemax.trace"
t_is "size 2^48-1: exit 0" "$T_STATUS" 0
t_is "size 2^48-1: peak live bytes" "$(jqv .peak_live_bytes)" 281474976710655
# Requested = a + r = 2 * (2^48-1) = 562949953421310.
t_is "size 2^48-1: bytes requested" "$(jqv .bytes_requested_total)" 562949953421310
bad size-2-48 'a 1 281474976710656\n' 1 "size 281474976710656 exceeds the 48-bit limit" "a 1 281474976710656"
bad resize-2-48 'a 1 8\nr 1 0x1000000000000\n' 2 "size 0x1000000000000 exceeds the 48-bit limit" "r 1 0x1000000000000"
bad time-2-64 '@ 18446744073709551616\n' 1 "time 18446744073709551616 does not fit in 64 bits" "@ 18446744073709551616"
bad gen-2-64 'c 18446744073709551616\n' 1 "generation 18446744073709551616 does not fit in 64 bits" "c 18446744073709551616"
# 65536 live objects of 2^48-1 bytes total 2^64 - 2^16, which fits; the
# 65537th would take the total past 2^64-1.
awk 'BEGIN { for (i = 1; i <= 65537; i++) print "a " i " 281474976710655" }' >"$T/sum.trace"
t_run info "$T/sum.trace"
t_is "live total past 2^64-1: exit 65" "$T_STATUS" 65
t_is "live total past 2^64-1: message" "$T_ERR" \
	"memsim: $T/sum.trace:65537: total live size would exceed 2^64-1 bytes: \"a 65537 281474976710655\""

# --- line ends and long lines ---
printf 'a 1 100 dict\na 2 200\n+ 1 2\n- 0 2\nr 1 50\n' >"$T/lf.trace"
sed 's/$/\r/' "$T/lf.trace" >"$T/crlf.trace"
t_run info --format json "$T/lf.trace"; lf=$T_OUT
t_run info --format json "$T/crlf.trace"
t_is "CRLF: exit 0" "$T_STATUS" 0
# Peak 300 (both objects), final 250 (50 + 200): identical to the LF file
# apart from the trace name.
t_is "CRLF: peak and final" "$(jqv .peak_live_bytes) $(jqv .final_live_bytes)" "300 250"
t_is "CRLF: same report as LF" "${T_OUT//crlf.trace/lf.trace}" "$lf"
# A bare CR is not a line end: "8\r" is not a number.
bad bare-cr 'a 1 8\rf 1\n' 1 "bad number '8\x0df'" 'a 1 8\x0df 1'

"$ADV" longline 1048576 >"$T/mbline.trace"
t_run info --format json "$T/mbline.trace"
t_is "1 MiB line: exit 0" "$T_STATUS" 0
t_is "1 MiB line: one 8-byte object" "$(jqv .objects_allocated) $(jqv .peak_live_bytes)" "1 8"
{ printf '# '; head -c 1048576 /dev/zero | tr '\0' x; printf '\na 1 8\n'; } >"$T/mbcomment.trace"
t_run info --format json "$T/mbcomment.trace"
t_is "1 MiB comment: exit 0" "$T_STATUS" 0
t_is "1 MiB comment: event after it" "$(jqv .objects_allocated)" 1
# The limit is 16 MiB = 16777216 bytes without the line end.
"$ADV" longline 16777216 >"$T/hugeline.trace"
t_run info "$T/hugeline.trace"
t_is "line over 16 MiB: exit 65" "$T_STATUS" 65
t_like "line over 16 MiB: message" "$T_ERR" "memsim: $T/hugeline.trace:1: line longer than 16777216 bytes: \"a 1 8 "
t_is "line over 16 MiB: nothing on stdout" "$T_OUT" ""

# --- gzip ---
printf 'a 1 100\na 2 200\nf 1\n' | gzip -n >"$T/ok.gz"
head -c $(($(stat -c %s "$T/ok.gz") - 6)) "$T/ok.gz" >"$T/truncated.gz"
t_run info "$T/truncated.gz"
t_is "truncated gzip: exit 65" "$T_STATUS" 65
t_is "truncated gzip: message" "$T_ERR" "memsim: $T/truncated.gz: truncated gzip stream"
t_is "truncated gzip: nothing on stdout" "$T_OUT" ""
head -c 2 "$T/ok.gz" >"$T/magic-only.gz"
t_run info "$T/magic-only.gz"
t_is "gzip magic only: message" "$T_STATUS $T_ERR" "65 memsim: $T/magic-only.gz: truncated gzip stream"
# A deflate block of type 3, which does not exist (RFC 1951, 3.2.3).
{ head -c 10 "$T/ok.gz"; printf '\007\000\000\000\000\000\000\000'; } >"$T/corrupt.gz"
t_run info "$T/corrupt.gz"
t_is "corrupt gzip: exit 65" "$T_STATUS" 65
t_is "corrupt gzip: message" "$T_ERR" "memsim: $T/corrupt.gz: corrupt gzip stream: invalid block type"
{ cat "$T/ok.gz"; printf 'garbage'; } >"$T/trailing.gz"
t_run info "$T/trailing.gz"
t_is "garbage after gzip member: exit 65" "$T_STATUS" 65
t_like "garbage after gzip member: message" "$T_ERR" "corrupt gzip stream"

# --- empty, header-only, directory, missing ---
: >"$T/empty.trace"
t_run info --format json "$T/empty.trace"
t_is "empty file: exit 0, no events" "$T_STATUS $(jqv .events.total) $(jqv .peak_live_bytes)" "0 0 0"
printf '#memsim-trace 1 {"source":"test"}\n' >"$T/header.trace"
t_run info --format json "$T/header.trace"
t_is "header-only: exit 0, no events" "$T_STATUS $(jqv .events.total)" "0 0"
t_is "header-only: metadata kept" "$(jqv .metadata.source)" test
t_run info "$T"
t_is "directory: exit 66" "$T_STATUS" 66
t_is "directory: message" "$T_ERR" "memsim: $T: cannot open: Is a directory"
t_is "directory: nothing on stdout" "$T_OUT" ""
t_run info "$T/nonexistent.trace"
t_is "missing: message" "$T_STATUS $T_ERR" "66 memsim: $T/nonexistent.trace: cannot open: No such file or directory"

# --- scale: names, depth, rings, volume ---
# A million distinct type names: each its own row, in order of appearance.
N=$((1000000 / SCALE))
"$ADV" types $N >"$T/types.trace"
t_run info "$T/types.trace"
t_is "$N type names: exit 0" "$T_STATUS" 0
t_is "$N type names: one row each" "$(printf '%s\n' "$T_OUT" | grep -c '^t[0-9]')" $N
t_is "$N type names: last row" "$(printf '%s\n' "$T_OUT" | grep "^t$N ")" \
	"$(printf '%-24s %12d %14d %16d' "t$N" 1 8 8)"

# A chain 1 -> 2 -> ... -> N held only through object 1: dropping the root
# reference of 1 frees all N (16 bytes each) in one cascade, which must not
# use the C stack. Peak N objects, 16 N bytes; final 0.
N=$((10000000 / SCALE))
"$ADV" chain $N | "$MEMSIM" info --format json - >"$T/.out" 2>"$T/.err"
t_is "chain of $N: exit 0" "$?" 0
t_is "chain of $N: peak objects and bytes" "$(jqv .peak_live_objects) $(jqv .peak_live_bytes)" "$N $((16 * N))"
t_is "chain of $N: all freed" "$(jqv .final_live_objects) $(jqv .final_live_bytes)" "0 0"

# A ring of N objects with every root reference dropped: all N stay live
# as one cycle, cyclic garbage N objects, 16 N bytes.
N=$((1000000 / SCALE))
"$ADV" cycle $N | "$MEMSIM" info --format json - >"$T/.out" 2>"$T/.err"
t_is "ring of $N: exit 0" "$?" 0
t_is "ring of $N: all live" "$(jqv .final_live_objects)" $N
t_is "ring of $N: all cyclic garbage" "$(jqv .cyclic_garbage_objects) $(jqv .cyclic_garbage_bytes)" "$N $((16 * N))"

# Streaming: PAIRS allocate/free pairs of 1 MiB through a pipe, i.e.
# PAIRS * 1048576 bytes requested (30 TiB by default) with at most 1 MiB
# live. memsim must keep only the current line and one object: its peak
# resident set stays under 32 MiB (128 MiB in sanitizer builds).
PAIRS=${ADV_STREAM_PAIRS:-$((30000000 / SCALE))}
if [ "$SCALE" = 1 ]; then LIMIT_KB=32768; else LIMIT_KB=131072; fi
"$ADV" stream $PAIRS 1048576 | "$ADV" maxrss "$T/rss" "$MEMSIM" info --format json - >"$T/.out" 2>"$T/.err"
t_is "stream $PAIRS pairs: exit 0" "$?" 0
t_is "stream: events" "$(jqv .events.alloc) $(jqv .events.free)" "$PAIRS $PAIRS"
t_is "stream: bytes requested" "$(jqv .bytes_requested_total)" $((PAIRS * 1048576))
t_is "stream: peak live and final" "$(jqv .peak_live_bytes) $(jqv .final_live_bytes)" "1048576 0"
rss=$(cat "$T/rss")
if [ "$rss" -lt "$LIMIT_KB" ]; then t_pass "stream: max RSS $rss KiB < $LIMIT_KB KiB"
else t_fail "stream: max RSS $rss KiB >= $LIMIT_KB KiB"; fi

t_done
