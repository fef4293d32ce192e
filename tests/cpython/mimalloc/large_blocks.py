# Medium, large and huge mimalloc blocks (tests/e2e/cpython_mimalloc.sh):
# bytearrays from 20 KiB to 40 MiB, some kept, some freed, some grown in
# place or moved by realloc, between bursts of small objects.
keep = []
sizes = [20 << 10, 100 << 10, 130 << 10, 200 << 10, 600 << 10, 3 << 20, 9 << 20, 20 << 20, 40 << 20]
for rnd in range(3):
    for n in sizes:
        b = bytearray(n)
        if (n >> 10) % 3 == rnd:
            keep.append(b)
        small = [str(i) * 3 for i in range(2000)]
    grow = bytearray(1000)
    for k in range(40):
        grow.extend(b"x" * (k * 4096))
    keep.append(grow)
    del small
