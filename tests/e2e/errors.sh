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

# Version 2 (the contract's "Version 2" section and issue #13's "Bad
# input"): version-2 lines in a version-1 trace, whether the header says
# 1 or there is none.
V2='#memsim-trace 2'
case_err v1-k 'k 1 0 f@a.c:1' "1: version-2 line 'k' in a version-1 trace: \"k 1 0 f@a.c:1\""
case_err v1-m $'#memsim-trace 1\nm burst' "2: version-2 line 'm' in a version-1 trace: \"m burst\""
case_err v1-g 'g 0' "1: version-2 line 'g' in a version-1 trace: \"g 0\""
case_err v1-h 'h' "1: version-2 line 'h' in a version-1 trace: \"h\""
case_err v1-e 'e 0 1' "1: version-2 line 'e' in a version-1 trace: \"e 0 1\""
case_err v1-site 'a 1 8 list ^1' "1: version-2 field '^1' in a version-1 trace: \"a 1 8 list ^1\""
# Stack nodes.
case_err site-before-k $"$V2"$'\nk 1 0 f\na 1 8 ^4' "3: stack node 4 is used before its 'k' line: \"a 1 8 ^4\""
case_err resize-site-before-k $"$V2"$'\na 1 8\nr 1 9 ^2' "3: stack node 2 is used before its 'k' line: \"r 1 9 ^2\""
case_err k-redefines $"$V2"$'\nk 1 0 f\nk 1 0 g' "3: stack node 1 is already defined: \"k 1 0 g\""
case_err k-no-parent $"$V2"$'\nk 2 1 f' "2: parent 1 of stack node 2 is not defined: \"k 2 1 f\""
case_err k-site-0 $"$V2"$'\nk 0 0 f' "2: SITE 0 is the outermost caller; stack nodes are numbered from 1: \"k 0 0 f\""
case_err k-hex $"$V2"$'\nk 0x1 0 f' "2: bad SITE '0x1' (stack node numbers are decimal): \"k 0x1 0 f\""
case_err k-fields $"$V2"$'\nk 1 0' "2: 'k' needs SITE PARENT FRAME: \"k 1 0\""
case_err frame-space $"$V2"$'\nk 1 0 my func@a.c:1' "2: 'k' needs SITE PARENT FRAME (a space in FRAME is written %20): \"k 1 0 my func@a.c:1\""
case_err frame-escape $"$V2"$'\nk 1 0 f%2g@a.c:1' "2: bad escape '%2g' in FRAME (a '%' starts %XX with two hex digits): \"k 1 0 f%2g@a.c:1\""
case_err frame-escape-end $"$V2"$'\nk 1 0 f%4' "2: bad escape '%4' in FRAME (a '%' starts %XX with two hex digits): \"k 1 0 f%4\""
case_err frame-caret $"$V2"$'\nk 1 0 a^b' "2: raw '^' in FRAME (write it as %5E): \"k 1 0 a^b\""
case_err frame-byte $"$V2"$'\nk 1 0 caf\xc3\xa9' "2: byte 0xc3 in FRAME (write it as %C3): \"k 1 0 caf\\xc3\\xa9\""
case_err site-syntax $"$V2"$'\na 1 8 ^x' "2: bad site '^x' (a '^' and a decimal SITE): \"a 1 8 ^x\""
case_err site-zero $"$V2"$'\na 1 8 ^0' "2: '^0' names no stack node (they are numbered from 1): \"a 1 8 ^0\""
case_err site-then-type $"$V2"$'\nk 1 0 f\na 1 8 ^1 list' "3: 'a' needs ID SIZE [TYPE] [^SITE]: \"a 1 8 ^1 list\""
case_err r-fields-v2 $"$V2"$'\na 1 8\nr 1' "3: 'r' needs ID SIZE [^SITE]: \"r 1\""
# Marks.
case_err mark-label $"$V2"$'\nm 9x' "2: bad mark label '9x': \"m 9x\""
case_err mark-fields $"$V2"$'\nm a b' "2: 'm' needs LABEL: \"m a b\""
# Recorded collections.
case_err gc-nested $"$V2"$'\ng 0\ng 1' "3: nested 'g': the recorded collection of generation 0 is still open: \"g 1\""
case_err gc-close-none $"$V2"$'\ng' "2: 'g' without GEN ends a recorded collection, but none is open: \"g\""
case_err gc-open-at-end $"$V2"$'\ng 1\na 1 8\nf 1' "2: the recorded collection of generation 1 is never closed (no 'g' before the end of the trace): \"g 1\""
case_err gc-fields $"$V2"$'\ng 1 2' "2: 'g' takes at most one field (GEN): \"g 1 2\""
# Snapshots.
case_err e-outside $"$V2"$'\na 1 8\ne 1 1' "3: 'e' outside a heap snapshot (it must follow 'h' or another 'e'): \"e 1 1\""
case_err e-after-other $"$V2"$'\nh\ne 0 1\n@ 5\ne 0 1' "5: 'e' outside a heap snapshot (it must follow 'h' or another 'e'): \"e 0 1\""
case_err e-no-dst $"$V2"$'\nh\ne 5' "3: 'e' needs SRC DST...: \"e 5\""
case_err e-dst-root $"$V2"$'\nh\ne 5 6 0' "3: ID 0 is the root set and cannot be referenced: \"e 5 6 0\""
case_err e-bad-dst $"$V2"$'\nh\ne 5 6x' "3: bad number '6x': \"e 5 6x\""
case_err h-fields $"$V2"$'\nh 1' "2: 'h' takes no fields: \"h 1\""
# Metadata the replay reads.
case_err level $'#memsim-trace 2 {"level":"objects"}' "1: metadata \"level\" must be \"object\" or \"allocator\": \"#memsim-trace 2 {\"level\":\"objects\"}\""
case_err runtime $'#memsim-trace 2 {"runtime":3.13}' "1: metadata \"runtime\" must be a string: \"#memsim-trace 2 {\"runtime\":3.13}\""

# A replay that fails writes no report file either.
printf 'a 1 8\nf 2\n' >"$T/bad.trace"
t_run replay -p cpython-3.11 -o "$T/report.txt" "$T/bad.trace"
t_is "failed replay: exit 65" "$T_STATUS" 65
t_ok "failed replay: no report file" test ! -e "$T/report.txt"
t_is "failed replay: no temporary left" "$(ls "$T" | grep -c 'report.txt')" 0
t_done
