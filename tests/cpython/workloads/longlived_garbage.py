# A long-lived structure with short-lived garbage around it: a tree of
# nodes that stays alive (and slowly changes) while every step allocates
# temporaries of mixed sizes that die at once or within a few steps, and
# some reference cycles that only the cycle collector frees.
class Node:
    __slots__ = ("key", "kids", "payload")
    def __init__(self, key):
        self.key = key
        self.kids = []
        self.payload = None

root = Node(0)
nodes = [root]
recent = []
for i in range(1, 40000):
    parent = nodes[(i * 7919) % len(nodes)]
    if i % 3 == 0:
        n = Node(i)
        parent.kids.append(n)
        nodes.append(n)
    parent.payload = [i] * (i % 40)
    tmp = {"i": i, "s": str(i) * (i % 9), "l": list(range(i % 30))}
    recent.append(tmp)
    if len(recent) > 8:
        recent.pop(0)
    if i % 500 == 0:
        a, b = [], []
        a.append(b)
        b.append(a)
del recent
