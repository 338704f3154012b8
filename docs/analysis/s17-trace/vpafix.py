"""The peers' runs with VPA memory rerun on this tree (each knob value its own VPA):
python vpafix.py FIRST LAST -> /tmp/hC/runs17/<i>.json (= /tmp/hC/runs/<i>.json, VPA's memory
and total figures replaced)."""
import json
import sys
from multiprocessing import Pool
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "s16-trace"))
from build import trace_of  # noqa: E402

from streams.lab.trace.loop import allocations, base_size, figures, weights  # noqa: E402


def one(i):
    out = Path(f"/tmp/hC/runs17/{i}.json")
    if out.exists():
        return i
    run = json.loads(Path(f"/tmp/hC/runs/{i}.json").read_text())
    t = trace_of(i)
    per = run["policies"]["vpa"]
    ks, w = per["knobs"], weights(t)
    over = np.zeros((len(ks), len(t)), dtype=bool)
    for res in ("cpu", "mem"):
        f = figures(t.demand[res], allocations(t, "vpa", res, ks, 300), w, base_size(t, res))
        over |= f.pop("over")
        per[res] = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in f.items()}
    per["violation_s_any"] = (over * w).sum(axis=1).tolist()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(run))
    return i


if __name__ == "__main__":
    with Pool(2) as p:
        n = sum(1 for _ in p.imap_unordered(one, range(int(sys.argv[1]), int(sys.argv[2]) + 1)))
    print("done", n)
