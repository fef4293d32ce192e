#!/bin/bash
# Every malformed-input class, through `memsim info` and `memsim replay`:
# the exact message (FILE:LINE: MESSAGE: "TEXT"), exit status 65, and
# nothing on stdout. Messages are those of docs/trace-format.md.
. "$ROOT/tests/lib.sh"

# case NAME TRACE-TEXT EXPECTED-STDERR-LINE (the line number is that of the
# offending line in TRACE-TEXT).
case_err() {
	printf '%s\n' "$2" >"$T/$1.trace"
	for cmd in info replay; do
		if [ "$cmd" = replay ]; then
			t_run replay -p cpython-3.11 -p malloc "$T/$1.trace"
		else
			t_run info "$T/$1.trace"
		fi
		t_is "$1 ($cmd): exit 65" "$T_STATUS" 65
		t_is "$1 ($cmd): stdout empty" "$T_OUT" ""
		t_is "$1 ($cmd): message" "$T_ERR" "memsim: $T/$1.trace:$3"
	done
}

# Syntax, found by the reader.
case_err unknown-event $'a 1 8\nx 1 2' "2: unknown event 'x': \"x 1 2\""
case_err a-fields 'a 1' "1: 'a' needs ID SIZE [TYPE]: \"a 1\""
case_err f-fields 'f' "1: 'f' needs ID: \"f\""
case_err r-fields $'a 1 8\nr 1' "2: 'r' needs ID SIZE: \"r 1\""
case_err s-extra 's 1' "1: 's' takes no fields: \"s 1\""
case_err c-extra 'c 1 2' "1: 'c' takes at most one field (GEN): \"c 1 2\""
case_err bad-number 'a 1 12z' "1: bad number '12z': \"a 1 12z\""
case_err id-64 'a 18446744073709551616 8' "1: ID 18446744073709551616 does not fit in 64 bits: \"a 18446744073709551616 8\""
case_err size-48 'a 1 281474976710656' "1: size 281474976710656 exceeds the 48-bit limit: \"a 1 281474976710656\""
case_err alloc-root 'a 0 8' "1: ID 0 is the root set and cannot be allocated: \"a 0 8\""
case_err bad-type 'a 1 8 9list' "1: bad type name '9list': \"a 1 8 9list\""
case_err time-back $'@ 10\n@ 5' "2: time goes backwards (5 after 10): \"@ 5\""
case_err late-header $'a 1 8\n#memsim-trace 1' "2: header allowed only on line 1: \"#memsim-trace 1\""
# Semantics, found by the heap.
case_err double-alloc $'a 1 8\na 1 8' "2: object 1 is already live: \"a 1 8\""
case_err free-dead 'f 7' "1: object 7 is not live: \"f 7\""
case_err resize-dead 'r 7 8' "1: object 7 is not live: \"r 7 8\""
case_err ref-dead $'a 1 8\n+ 1 2' "2: object 2 is not live: \"+ 1 2\""
case_err no-edge $'a 1 8\na 2 8\n- 1 2' "3: object 1 holds no reference to object 2: \"- 1 2\""
case_err negative-root $'a 1 8\n- 0 1\n- 0 1' "3: object 1 is not live: \"- 0 1\""
case_err negative-count $'a 1 8\na 2 8\n+ 1 2\n- 0 2\n- 0 2' "5: object 2 has no root reference to drop: \"- 0 2\""
case_err free-referenced $'a 1 8\na 2 8\n+ 1 2\nf 2' "4: object 2 is still referenced by other live objects (1 reference): \"f 2\""

# A replay that fails writes no report file either.
printf 'a 1 8\nf 2\n' >"$T/bad.trace"
t_run replay -p cpython-3.11 -o "$T/report.txt" "$T/bad.trace"
t_is "failed replay: exit 65" "$T_STATUS" 65
t_ok "failed replay: no report file" test ! -e "$T/report.txt"
t_is "failed replay: no temporary left" "$(ls "$T" | grep -c 'report.txt')" 0
t_done
