# Reference cycles: rings of objects, parent/child pairs with back
# references and self-referencing containers are made and dropped in
# waves, so only the cycle collector frees them (automatic young
# collections; no gc.collect(), no full collection); some cycles hold
# tuples and floats whose free lists the collector's frees refill.
class Node:
    def __init__(self, i):
        self.i = i
        self.next = None
        self.data = (i, float(i))

class Parent:
    def __init__(self):
        self.children = []

class Child:
    def __init__(self, parent):
        self.parent = parent
        parent.children.append(self)

keep = []
for wave in range(60):
    ring = [Node(wave * 100 + k) for k in range(50)]
    for a, b in zip(ring, ring[1:] + ring[:1]):
        a.next = b
    del ring, a, b
    for k in range(40):
        p = Parent()
        for j in range(k % 5):
            Child(p)
    del p
    for k in range(30):
        d = {"k": k}
        d["self"] = d
        l = [k, (k, k + 1)]
        l.append(l)
    del d, l
    if wave % 10 == 0:
        keep.append([Node(wave)])
