# A class-heavy object graph: a small class hierarchy with instance
# dicts (managed and split-key dicts), __slots__ classes, properties and
# class-level caches; a graph of instances with edges in lists and
# dicts is built, queried, partly rewired and partly dropped.
class Entity:
    registry = {}
    def __init__(self, name):
        self.name = name
        self.links = []
        Entity.registry[name] = self
    @property
    def degree(self):
        return len(self.links)

class Person(Entity):
    def __init__(self, name, age):
        super().__init__(name)
        self.age = age
        self.tags = {"kind": "person"}

class Company(Entity):
    def __init__(self, name):
        super().__init__(name)
        self.staff = {}

class Edge:
    __slots__ = ("src", "dst", "weight")
    def __init__(self, src, dst, weight):
        self.src, self.dst, self.weight = src, dst, weight

people = [Person("p%d" % i, 20 + i % 50) for i in range(3000)]
firms = [Company("c%d" % i) for i in range(200)]
edges = []
for i, p in enumerate(people):
    f = firms[i % len(firms)]
    f.staff[p.name] = p
    e = Edge(p, f, i * 0.1)
    p.links.append(e)
    f.links.append(e)
    edges.append(e)
    if i % 3 == 0:
        q = people[(i * 7) % len(people)]
        p.links.append(Edge(p, q, 1.0))
busiest = sorted(firms, key=lambda c: c.degree)[-5:]
for round in range(5):
    for i in range(round, len(people), 5):
        p = people[i]
        p.tags = dict(p.tags, round=round)
        p.links = [e for e in p.links if e.weight < 200.0 + round]
for i in range(0, 3000, 2):
    name = people[i].name
    del Entity.registry[name]
    del firms[i % len(firms)].staff[name]
people = people[1::2]
edges = [e for e in edges if e.src in people[:100]]
