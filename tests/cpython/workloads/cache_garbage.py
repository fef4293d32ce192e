# A long-lived cache with short-lived garbage around it: a bounded LRU
# dict of request results that lives for the whole run (entries evicted
# and replaced), while every request builds temporary strings, lists,
# tuples and dicts that die at once.
from collections import OrderedDict

cache = OrderedDict()
hits = misses = 0

def handle(key):
    global hits, misses
    if key in cache:
        cache.move_to_end(key)
        hits += 1
        return cache[key]
    misses += 1
    parts = [str(key), "x" * (key % 17), str(key * 3)]
    result = {"key": key, "body": "-".join(parts), "sizes": tuple(len(p) for p in parts)}
    cache[key] = result
    if len(cache) > 2000:
        cache.popitem(last=False)
    return result

for i in range(20000):
    key = (i * 2654435761) % 5000 if i % 4 else i % 50
    r = handle(key)
    tmp = [r["sizes"], (i, key), {"i": i}]
    del tmp
