# py27_int_float.py - the int-then-float scenario (traces/int-then-float)
# on a real Python 2 interpreter, measuring VmRSS (/proc/self/status)
# around each phase. Prints one JSON object; docs/scenarios.md compares it
# with memsim's cpython-2.7 replay.
#
#   ~/.pyenv/versions/2.7.18/bin/python tests/cpython/py27_int_float.py [N]
#
# The ints and floats are held in a preallocated list of N slots (one
# mmapped 8N-byte array, allocated before the first measurement), so the
# measured growth is the int and float blocks themselves. Values start at
# 10**6 to stay clear of the small-int cache.
import json
import sys


def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return -1


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    base = 10 ** 6
    slots = [None] * n
    r = {"python": sys.version.split()[0], "n": n, "rss_start": rss()}
    for i in xrange(n):
        slots[i] = base + i
    r["rss_ints"] = rss()
    for i in xrange(n):
        slots[i] = None
    r["rss_ints_freed"] = rss()
    for i in xrange(n):
        slots[i] = float(base + i)
    r["rss_floats"] = rss()
    for i in xrange(n):
        slots[i] = None
    r["rss_end"] = rss()
    print(json.dumps(r, sort_keys=True))


main()
