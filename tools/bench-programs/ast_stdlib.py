# ast: parse and walk the 40 largest modules of the standard library.
import ast, os, sys
lib = os.path.dirname(os.__file__)
files = sorted((os.path.getsize(os.path.join(lib, f)), f) for f in os.listdir(lib) if f.endswith(".py"))[-40:]
trees = []
for _, f in files:
    with open(os.path.join(lib, f), encoding="utf-8") as fh:
        trees.append(ast.parse(fh.read()))
n = sum(1 for t in trees for _ in ast.walk(t))
