# Dict and str churn: string keys and values are built, replaced and
# deleted continuously in a set of dicts; the dicts grow and shrink
# (resize reallocations of their tables), strings of many sizes.
import random
rng = random.Random(1234)
tables = [dict() for _ in range(16)]
for step in range(60000):
    t = tables[step % 16]
    k = "key-%d" % rng.randrange(4000)
    op = rng.random()
    if op < 0.55:
        t[k] = "v" * rng.randrange(1, 300) + str(step)
    elif op < 0.85:
        t.pop(k, None)
    else:
        t[k] = {"n": step, "s": k.upper()}
    if step % 15000 == 14999:
        tables[rng.randrange(16)] = dict()
