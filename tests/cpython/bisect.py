#!/usr/bin/env python3
"""bisect.py - the first event where memsim's free lists part from CPython's.

  bisect.py MEMSIM POLICY TRACE     (TRACE: text, from tools/pyrec --annotate)

The annotations (# parked LIST, # reused LIST, # released LIST; see
flcheck.py) give how many blocks each of the real interpreter's lists
held after every event. memsim replays prefixes of TRACE under POLICY
and reports its own counts (the freelists.lists rows of its per-type
model); a binary search finds the shortest prefix after which any list
differs, and the event that ends it is printed with both counts. Exit 1
when one is found, 0 when memsim agrees at the end (then it agrees at
every prefix the search looked at).
"""
import json
import subprocess
import sys
import tempfile


def real_counts(lines):
    """Per line index, the real lists' counts after it (dicts shared)."""
    count, out = {}, []
    for line in lines:
        if line.startswith("# "):
            p = line.split()
            if len(p) == 3 and p[2] != "?":
                if p[1] == "parked":
                    count[p[2]] = count.get(p[2], 0) + 1
                elif p[1] in ("reused", "released"):
                    count[p[2]] = count.get(p[2], 0) - 1
        out.append(dict(count))
    return out


KEY = {"_contextvars.Context": "context", "async_generator_wrapped_value": "async_gen_value",
       "async_generator_asend": "async_gen_asend"}


def memsim_counts(memsim, policy, lines, k):
    with tempfile.NamedTemporaryFile("w", suffix=".trace") as f:
        f.write("\n".join(lines[:k]) + "\n")
        f.flush()
        out = subprocess.run([memsim, "replay", "-q", "--format", "json", "-p", policy, f.name],
                             capture_output=True, text=True, check=True).stdout
    fl = json.loads(out)["traces"][0]["policies"][0].get("freelists", {})
    return {r["list"]: r["parked"] for r in fl.get("lists", [])}


def differs(real, sim):
    names = set(real) | set(KEY.get(n, n) for n in sim)
    bad = []
    for name in sorted(set(KEY.get(n, n) for n in real) | set(sim)):
        r = sum(v for n, v in real.items() if KEY.get(n, n) == name)
        s = sim.get(name, 0)
        if r != s:
            bad.append("%s: CPython %d, memsim %d" % (name, r, s))
    return bad


def main(argv):
    if len(argv) != 4:
        sys.stderr.write(__doc__)
        return 64
    memsim, policy, path = argv[1:]
    lines = open(path).read().rstrip("\n").split("\n")
    real = real_counts(lines)
    end = len(lines)
    if not differs(real[end - 1], memsim_counts(memsim, policy, lines, end)):
        print("memsim's free lists equal CPython's at the end")
        return 0
    lo, hi = 1, end          # prefix lo agrees (the header), prefix hi differs
    while hi - lo > 1:
        mid = (lo + hi) // 2
        # A prefix must not end between an event and its annotation.
        while mid < hi and lines[mid].startswith("# "):
            mid += 1
        if mid >= hi:
            break
        if differs(real[mid - 1], memsim_counts(memsim, policy, lines, mid)):
            hi = mid
        else:
            lo = mid
    k = hi
    while k < end and lines[k].startswith("# "):
        k += 1
    ev = hi - 1                # the event the prefix ends with
    while ev > 0 and lines[ev].startswith("# "):
        ev -= 1
    print("first difference after line %d: %s" % (ev + 1, lines[ev]))
    for l in lines[max(0, hi - 6):k]:
        print("    " + l)
    for d in differs(real[k - 1], memsim_counts(memsim, policy, lines, k)):
        print("  " + d)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
