# Float- and tuple-heavy arithmetic: vector math on tuples of floats,
# complex-free numerics, running statistics and coordinate pairs; floats
# and short tuples are created and dropped at a high rate, through the
# float and tuple free lists, with some results kept.
import math

def add(a, b):
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])

def scale(a, s):
    return (a[0] * s, a[1] * s, a[2] * s)

def norm(a):
    return math.sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2])

pos = (0.0, 0.0, 0.0)
vel = (1.0, 0.5, 0.25)
trail = []
total = 0.0
for step in range(12000):
    acc = scale((math.sin(step * 0.01), math.cos(step * 0.01), -0.1), 0.5)
    vel = add(vel, scale(acc, 0.01))
    pos = add(pos, scale(vel, 0.01))
    total += norm(pos)
    if step % 400 == 0:
        trail.append((step, pos, norm(vel)))
pairs = sorted((x * 0.5, -x * 1.5) for x in range(1500))
grid = [tuple(float(i * j) for j in range(k % 7 + 1)) for i, k in zip(range(2000), range(2000))]
mean = sum(p[0] for p in pairs) / len(pairs)
