# Words: token frequencies of the standard library's sources with
# collections.Counter, then the most common ones sorted.
import collections, os, re
lib = os.path.dirname(os.__file__)
c = collections.Counter()
for f in sorted(os.listdir(lib))[:200]:
    if f.endswith(".py"):
        with open(os.path.join(lib, f), encoding="utf-8", errors="replace") as fh:
            c.update(re.findall(r"[A-Za-z_]+", fh.read()))
top = sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[:1000]
