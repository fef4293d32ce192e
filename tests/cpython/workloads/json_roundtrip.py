# JSON round trip: a nested structure is encoded and decoded repeatedly
# (json's C accelerator builds many short-lived strs, lists and dicts).
import json
doc = {
    "users": [
        {"id": i, "name": "user%d" % i, "tags": ["a", "bb", "ccc"][: i % 4],
         "score": i * 0.5, "active": i % 2 == 0, "meta": {"x": i, "y": [i] * 3}}
        for i in range(400)
    ],
    "title": "round trip " * 10,
}
for r in range(25):
    text = json.dumps(doc, sort_keys=True)
    doc = json.loads(text)
    doc["round"] = r
