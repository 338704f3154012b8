"""Episodes of ``diag.py``'s pickles by the day they start (0: the first), true or false, and
whether they start inside one of the component's FAIL intervals: ``python byday.py P.pkl ...``."""
import collections
import pickle
import sys

import numpy as np

from streams.lab.scoring.breach import _episodes

H = 900_000
for f in sys.argv[1:]:
    r = pickle.load(open(f, "rb"))
    br = collections.defaultdict(list)
    for b in r["breaches"]: br[b.component].append(b.breach_ms)
    c = collections.Counter()
    for comp, rs in r["recs"].items():
        ts = np.array([x["ts"] for x in rs]); risk = np.array([x["risk"] for x in rs])
        b = np.array(sorted(br.get(comp, [])), dtype=np.int64)
        d0 = ts[0] // 86_400_000
        for a, z in _episodes(risk >= 1/3):
            fol = any(((b > ts[i]) & (b <= ts[i] + H)).any() for i in range(a, z + 1)) if b.size else False
            inf = any(lo <= ts[a] < hi for lo, hi in r["failing"].get(comp, []))
            c[(int(ts[a] // 86_400_000 - d0), "T" if fol else "F", "inF" if inf else "out")] += 1
    print(f); [print(" ", k, v) for k, v in sorted(c.items())]
