"""Where forewarn's violation minutes sit at reactive's slack on fold B (issue #11, s18 item 2):
python diag.py FIRST LAST -> /tmp/hC/diag18/<res>/<i>.npz (per step: demand, forewarn at the
two lambda values that bracket reactive's slack on fold B -- CPU 0.01 / 0.03, memory 0.05 /
0.1 -- and reactive 0.7, the weights); ``diag.py --read RES FIRST LAST`` prints per VM and the
split by the VM's age (first day / first week / later) and by step type (one-step jump: over
twice the last step and 5 % of the size above it; new high: over the VM's peak of the last
24 h without a jump; other)."""
import pickle
import sys
from multiprocessing import Pool
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "s16-trace"))
from build import trace_of  # noqa: E402

from streams.lab.trace.loop import allocations, provisioned, weights  # noqa: E402

LAMS = {"cpu": [0.01, 0.03], "mem": [0.05, 0.1]}
OUT = Path("/tmp/hC/diag18")


def one(args: tuple[int, str]) -> int:
    i, res = args
    p = OUT / res / f"{i}.npz"
    if p.exists():
        return i
    t = trace_of(i)
    risks = pickle.loads(Path(f"/tmp/hC/risk/{i}.pkl").read_bytes())
    fw = allocations(t, "forewarn", res, LAMS[res], 300, risks, {})
    re = allocations(t, "reactive", res, [0.7], 300)
    p.parent.mkdir(parents=True, exist_ok=True)
    np.savez(p, demand=t.demand[res], fw=fw, re=re, w=weights(t), ts=t.ts,
             cap=provisioned(t, res))
    return i


def split(z, a):
    d, w, ts = z["demand"], z["w"], z["ts"]
    age = (ts - ts[0]) / 86400.0
    prev = np.concatenate([[d[0]], d[:-1]])
    jump = d > np.maximum(2 * prev, prev + 0.05 * z["cap"])
    peak = np.array([d[max(0, j - 288):j].max() if j else d[0] for j in range(len(d))])
    high = (d > peak) & ~jump
    m = (d > a) * w / 60.0
    return (m.sum(), m[age < 1].sum(), m[(age >= 1) & (age < 7)].sum(), m[jump].sum(),
            m[high].sum(), ((a - np.minimum(d, a)) * w).sum())


if __name__ == "__main__":
    if sys.argv[1] == "--read":
        res, a, b = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        tot: dict[str, np.ndarray] = {}
        for i in range(a, b + 1):
            z = np.load(OUT / res / f"{i}.npz")
            rows = {"reactive": split(z, z["re"][0])}
            for k, lam in enumerate(LAMS[res]):
                rows[f"fw{lam:g}"] = split(z, z["fw"][k])
            print(i, f"cap {z['cap'][0]:.3g}", " ".join(
                f"{n}={r[0]:.0f}/{r[5]:.3g}" for n, r in rows.items()))
            for n, r in rows.items():
                tot[n] = tot.get(n, 0) + np.asarray(r)
        for n, r in tot.items():
            print(f"{n}: {r[0]:.0f} min (first day {r[1]:.0f}, days 1-7 {r[2]:.0f}, "
                  f"jumps {r[3]:.0f},"
                  f" new 24 h highs {r[4]:.0f}), unused {r[5]:.4g}")
    else:
        res, a, b = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
        with Pool(1) as pool:
            n = sum(1 for _ in pool.imap_unordered(one, [(i, res) for i in range(a, b + 1)]))
        print("done", res, a, b, n)
