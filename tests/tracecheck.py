#!/usr/bin/env python3
"""tracecheck.py - an independent checker for the memsim text trace.

Enforces ../shared/trace-format.md (docs/trace-format.md) line by line,
written from the spec and not from the C reader, so that producers
(tools/memrec, memsim convert) can be validated before and besides
`memsim info`:

    python3 tests/tracecheck.py [--json] TRACE

Reads plain or gzip (by magic bytes). On success prints a summary (or
JSON with --json) and exits 0; on the first error prints
"FILE:LINE: MESSAGE: \"TEXT\"" to stderr and exits 65.
"""
import gzip
import json
import re
import sys

SIZE_MAX = (1 << 48) - 1
ID_MAX = (1 << 64) - 1
NUM = re.compile(r"^(0x[0-9A-Fa-f]+|[0-9]+)$")
TYPE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
HEADER = re.compile(r"^#memsim-trace 1( (\{.*\}))?$")


class TraceError(Exception):
    pass


def num(tok, limit, what):
    if not NUM.match(tok):
        raise TraceError("malformed %s %r" % (what, tok))
    v = int(tok, 16) if tok.startswith("0x") else int(tok)
    if v > limit:
        raise TraceError("%s out of range" % what)
    return v


class Heap:
    """Objects with root refs, in/out edges; frees cascade on count 0."""

    def __init__(self):
        self.live = {}      # id -> [size, roots]
        self.out = {}       # id -> {dst: n}
        self.inc = {}       # id -> {src: n}

    def count(self, i):
        return self.live[i][1] + sum(self.inc.get(i, {}).values())

    def kill(self, i):
        """Frees i and whatever only it kept alive; returns the bytes."""
        freed = 0
        stack = [i]
        while stack:
            o = stack.pop()
            if o not in self.live:
                continue
            freed += self.live.pop(o)[0]
            for dst, n in self.out.pop(o, {}).items():
                d = self.inc.get(dst)
                if d is not None:
                    d.pop(o, None)
                if dst in self.live and self.count(dst) == 0:
                    stack.append(dst)
            self.inc.pop(o, None)
        return freed


def check(path):
    raw = open(path, "rb").read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    heap = Heap()
    stats = {"events": 0, "a": 0, "f": 0, "r": 0, "+": 0, "-": 0, "c": 0,
             "s": 0, "@": 0, "metadata": None, "peak_live": 0,
             "peak_live_bytes": 0}
    live_bytes = 0
    last_t = 0
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for no, bline in enumerate(lines, 1):
        try:
            line = bline.decode("ascii")
        except UnicodeDecodeError:
            raise TraceError("%s:%d: non-ASCII line" % (path, no))
        line = line[:-1] if line.endswith("\r") else line
        try:
            if line.startswith("#"):
                if line.startswith("#memsim-trace"):
                    if no != 1:
                        raise TraceError("header not on the first line")
                    m = HEADER.match(line)
                    if not m:
                        raise TraceError("malformed header")
                    if m.group(2):
                        meta = json.loads(m.group(2))
                        if not isinstance(meta, dict):
                            raise TraceError("metadata is not an object")
                        stats["metadata"] = meta
                continue
            f = line.split()
            if not f:
                continue
            ev, args = f[0], f[1:]
            if ev == "a":
                if len(args) not in (2, 3):
                    raise TraceError("malformed a")
                i = num(args[0], ID_MAX, "ID")
                size = num(args[1], SIZE_MAX, "size")
                if len(args) == 3 and (not TYPE.match(args[2]) or len(args[2]) > 63):
                    raise TraceError("bad type name")
                if i == 0:
                    raise TraceError("allocation of ID 0")
                if i in heap.live:
                    raise TraceError("a of live ID %d" % i)
                heap.live[i] = [size, 1]
                live_bytes += size
            elif ev in ("f", "r"):
                if len(args) != (1 if ev == "f" else 2):
                    raise TraceError("malformed %s" % ev)
                i = num(args[0], ID_MAX, "ID")
                if i not in heap.live:
                    raise TraceError("%s of ID %d that is not live" % (ev, i))
                if ev == "r":
                    size = num(args[1], SIZE_MAX, "size")
                    live_bytes += size - heap.live[i][0]
                    heap.live[i][0] = size
                else:
                    if any(n for s, n in heap.inc.get(i, {}).items() if s in heap.live):
                        raise TraceError("f of ID %d still referenced" % i)
                    live_bytes -= heap.kill(i)
            elif ev in ("+", "-"):
                if len(args) != 2:
                    raise TraceError("malformed %s" % ev)
                src = num(args[0], ID_MAX, "ID")
                dst = num(args[1], ID_MAX, "ID")
                for i in (src, dst):
                    if i != 0 and i not in heap.live:
                        raise TraceError("%s on ID %d that is not live" % (ev, i))
                if dst == 0:
                    raise TraceError("reference to the root set")
                if ev == "+":
                    if src == 0:
                        heap.live[dst][1] += 1
                    else:
                        heap.out.setdefault(src, {}).setdefault(dst, 0)
                        heap.out[src][dst] += 1
                        heap.inc.setdefault(dst, {}).setdefault(src, 0)
                        heap.inc[dst][src] += 1
                else:
                    if src == 0:
                        if heap.live[dst][1] == 0:
                            raise TraceError("edge does not exist")
                        heap.live[dst][1] -= 1
                    else:
                        if heap.out.get(src, {}).get(dst, 0) == 0:
                            raise TraceError("edge does not exist")
                        heap.out[src][dst] -= 1
                        heap.inc[dst][src] -= 1
                    if heap.count(dst) == 0:
                        live_bytes -= heap.kill(dst)
            elif ev == "c":
                if len(args) > 1:
                    raise TraceError("malformed c")
                if args:
                    num(args[0], ID_MAX, "generation")
            elif ev == "s":
                if args:
                    raise TraceError("malformed s")
            elif ev == "@":
                if len(args) != 1:
                    raise TraceError("malformed @")
                t = num(args[0], ID_MAX, "time")
                if t < last_t:
                    raise TraceError("time going backwards")
                last_t = t
            else:
                raise TraceError("unknown event %r" % ev)
            stats[ev] += 1
            stats["events"] += 1
            stats["peak_live"] = max(stats["peak_live"], len(heap.live))
            stats["peak_live_bytes"] = max(stats["peak_live_bytes"], live_bytes)
        except TraceError as e:
            msg = str(e)
            if msg.startswith(path + ":"):
                raise
            raise TraceError('%s:%d: %s: "%s"' % (path, no, msg, line[:80]))
    stats["live_at_end"] = len(heap.live)
    stats["last_time"] = last_t
    return stats


def main():
    args = sys.argv[1:]
    as_json = "--json" in args
    args = [a for a in args if a != "--json"]
    if len(args) != 1:
        print(__doc__.split("\n\n")[2], file=sys.stderr)
        return 64
    try:
        stats = check(args[0])
    except TraceError as e:
        print(e, file=sys.stderr)
        return 65
    except (OSError, EOFError, ValueError) as e:
        print("%s: %s" % (args[0], e), file=sys.stderr)
        return 65
    if as_json:
        print(json.dumps(stats, sort_keys=True))
    else:
        print("%s: ok: %d events (%d a, %d f, %d r, %d @), %d live at end"
              % (args[0], stats["events"], stats["a"], stats["f"], stats["r"],
                 stats["@"], stats["live_at_end"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
