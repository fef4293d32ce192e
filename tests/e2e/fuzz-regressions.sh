#!/bin/bash
# Replays the fuzz seed corpora and every recorded fuzz finding
# (tests/fuzz/regressions/) through memsim: each run must end with status
# 0 or 65 (trace inputs) / 0, 66 or 78 (policy inputs), never a crash,
# print nothing on stdout when it fails, and match NAME.expect (exact
# stderr) when there is one. Under `make asan` the sanitizers watch.
. "$ROOT/tests/lib.sh"

trace_input() { # FILE
	local f=$1 name=${1#"$ROOT"/tests/fuzz/} status
	t_run info -q "$f"
	case $T_STATUS in
	0) t_pass "$name: status 0" ;;
	65) if [ -z "$T_OUT" ]; then t_pass "$name: status 65, stdout empty"
	    else t_fail "$name: status 65 with output on stdout"; fi ;;
	*) t_fail "$name: status $T_STATUS"; printf '# %s\n' "$T_ERR" | head -5 ;;
	esac
	if [ -f "$f.expect" ]; then
		t_is "$name: stderr" "${T_ERR//$f/FILE}" "$(cat "$f.expect")"
	fi
}

for f in "$ROOT"/tests/fuzz/corpus/trace/* "$ROOT"/tests/fuzz/corpus/replay/* \
	"$ROOT"/tests/fuzz/corpus/binary/* "$ROOT"/tests/fuzz/regressions/binary/* \
	"$ROOT"/tests/fuzz/regressions/trace/* "$ROOT"/tests/fuzz/regressions/replay/*; do
	[ -f "$f" ] || continue
	case $f in *.expect) continue ;; esac
	trace_input "$f"
done

# mtrace logs: converted strictly and leniently, each either a clean
# conversion (exit 0, and the result replays) or a located error (65).
for f in "$ROOT"/tests/fuzz/corpus/mtrace/* "$ROOT"/tests/fuzz/regressions/mtrace/*; do
	[ -f "$f" ] || continue
	name="mtrace/$(basename "$f")"
	for mode in strict lenient; do
		rm -f "$T/m.trace"
		if [ $mode = lenient ]; then
			t_run convert -q --from mtrace --lenient "$f" "$T/m.trace"
		else
			t_run convert -q --from mtrace "$f" "$T/m.trace"
		fi
		case $T_STATUS in
		0) t_run info "$T/m.trace"
		   t_is "$name ($mode): converted trace replays" "$T_STATUS" 0 ;;
		65) t_like "$name ($mode): located error" "$T_ERR" "$(basename "$f"):" ;;
		*) t_fail "$name ($mode): status $T_STATUS" ;;
		esac
	done
done

# heaptrack files: a clean conversion that replays, or a clear error (65).
for f in "$ROOT"/tests/fuzz/corpus/heaptrack/* "$ROOT"/tests/fuzz/regressions/heaptrack/*; do
	[ -f "$f" ] || continue
	name="heaptrack/$(basename "$f")"
	rm -f "$T/h.trace"
	t_run convert -q --from heaptrack "$f" "$T/h.trace"
	case $T_STATUS in
	0) t_run info "$T/h.trace"
	   t_is "$name: converted trace replays" "$T_STATUS" 0 ;;
	65) t_like "$name: error names the file" "$T_ERR" "$(basename "$f")" ;;
	*) t_fail "$name: status $T_STATUS" ;;
	esac
done

# Policy inputs: the JSON documents as files, the rest as -p specifications.
printf 'a 1 8\n' >"$T/one.trace"
for f in "$ROOT"/tests/fuzz/corpus/policy/* "$ROOT"/tests/fuzz/regressions/policy/*; do
	[ -f "$f" ] || continue
	case $f in *.expect) continue ;; esac
	name=${f#"$ROOT"/tests/fuzz/}
	if [ "$(head -c 1 "$f")" = "{" ] || [ "$(head -c 1 "$f")" = "[" ]; then
		cp "$f" "$T/p.json"; spec=$T/p.json
	else
		spec=$(cat "$f")
	fi
	t_run policies --show "$spec"
	case $T_STATUS in
	0|66|78) t_pass "$name: status $T_STATUS" ;;
	*) t_fail "$name: status $T_STATUS"; printf '# %s\n' "$T_ERR" | head -5 ;;
	esac
done

t_done
