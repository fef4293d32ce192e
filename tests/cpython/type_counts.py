# tests/e2e/pyrec.sh: a few known objects, then a count by type taken
# inside the interpreter at the end, written as JSON to argv[1]. The
# counted types are ones whose every live instance the collector tracks
# from birth (lists, sets, instances of a class), so gc.get_objects()
# sees them all. After the count the script makes no list, set or Node
# (the output is built by str concatenation and written with os.write on
# a descriptor opened before), so the interpreter's state at pyrec's end
# of the trace has exactly the counted ones, plus the lists the free list
# holds (the counting's own list dies onto it).
import gc, os, sys

class Node:
    def __init__(self, i):
        self.i = i
        self.kids = []

nodes = [Node(i) for i in range(700)]
for i, n in enumerate(nodes[1:]):
    nodes[i // 3].kids.append(n)
sets = [set(range(i % 5)) for i in range(300)]
junk = [[i] for i in range(2000)]
del junk, nodes[500:]
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)

def count():
    n_node = n_list = n_set = 0
    objs = gc.get_objects()
    for o in objs:
        if o is objs:
            continue        # 3.6 and 3.7 list the result list itself
        t = type(o)
        if t is Node:
            n_node += 1
        elif t is list:
            n_list += 1
        elif t is set:
            n_set += 1
    del objs, o
    return n_node, n_list, n_set

a, b, c = count()
os.write(fd, ('{"Node": ' + str(a) + ', "list": ' + str(b) + ', "set": ' + str(c) +
              '}\n').encode())
os.close(fd)
