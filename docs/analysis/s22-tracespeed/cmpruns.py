"""Per-component byte comparison of a trace command's runs.json with a reference one (e.g. the
lead's full s21 run): each component's entry serialised alike (issue #11 speed, s22).

python cmpruns.py RUNS.json REFERENCE_RUNS.json"""
import sys

import orjson

if __name__ == "__main__":
    ref = {r["component"]: r for r in orjson.loads(open(sys.argv[2], "rb").read())}
    got = orjson.loads(open(sys.argv[1], "rb").read())
    bad = [r["component"] for r in got
           if orjson.dumps(r, option=orjson.OPT_SORT_KEYS)
           != orjson.dumps(ref[r["component"]], option=orjson.OPT_SORT_KEYS)]
    print(f"{len(got)} components compared, {len(bad)} differ {bad[:10]}")
