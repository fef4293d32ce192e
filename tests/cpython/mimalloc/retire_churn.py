# Pages emptied and refilled (tests/e2e/cpython_mimalloc.sh): waves of
# objects of a few sizes die together, so mimalloc retires or frees whole
# pages, while a few survivors per wave keep other pages partly used.
survivors = []
for wave in range(30):
    objs = [(i, str(i), [i] * (wave % 5)) for i in range(3000 + 500 * (wave % 4))]
    survivors.extend(objs[:: 97 + wave])
    if wave % 7 == 6:
        del survivors[: len(survivors) // 2]
    del objs
d = {}
for i in range(50000):
    d[i] = i * 1.5
for i in range(0, 50000, 2):
    del d[i]
