# Realloc-heavy growth: lists appended to one element at a time,
# bytearrays extended and truncated, and str joins; the requests are
# mostly reallocs that pymalloc keeps in place, moves to a larger class,
# or hands to the C library once past 512 bytes.
lists = [[] for _ in range(300)]
for i in range(60000):
    lists[i % 300].append(i)
    if i % 1000 == 999:
        lists[(i // 1000) % 300] = []
bufs = [bytearray() for _ in range(50)]
for i in range(20000):
    b = bufs[i % 50]
    b.extend(b"x" * (i % 13))
    if len(b) > 700:
        del b[40:]
words = [str(i) for i in range(3000)]
out = [",".join(words[j:j + k]) for j in range(0, 3000, 50) for k in (1, 7, 30)]
