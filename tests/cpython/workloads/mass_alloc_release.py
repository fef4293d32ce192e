# Mass allocation then release: 200k small tuples of ints built in one
# list and dropped at once, then a second wave of 100k three-element
# lists, so the second wave reuses (or not) the pools and arenas the
# first one emptied. Shape: arenas filled to a high-water mark, then
# mostly freed and reclaimed.
data = [(i, i + 1) for i in range(200000)]
del data
data = [[i, i + 1, i * 3] for i in range(100000)]
del data
keep = [i * 1000003 for i in range(5000)]   # a few survivors at the end
