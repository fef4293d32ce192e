# JSON: a 6 MB document built, encoded and decoded three times.
import json
doc = [{"id": i, "name": "user%d" % i, "tags": ["a", "b", "c"][: i % 4],
        "score": i * 0.25, "nested": {"x": [i, i + 1], "y": str(i)}} for i in range(40000)]
for _ in range(3):
    doc = json.loads(json.dumps(doc))
