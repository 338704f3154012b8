"""Where forewarn's memory violation minutes sit at VPA's slack (issue #11, s17 item 1):
python diag.py FIRST LAST [OPTIONS_JSON] -> /tmp/hC/diag/<i>.npz (per step: demand, forewarn
at lambda 1e-4 / 1.5e-4 / 2e-4, VPA 0.9, the weights), then ``diag.py --read`` prints the
split by VM group, by age of the VM (first day / first week / later) and by step type."""
import json
import pickle
import sys
from multiprocessing import Pool
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "s16-trace"))
from build import trace_of  # noqa: E402

from streams.lab.trace.loop import allocations, provisioned, weights  # noqa: E402

LAMS = [1e-4, 1.5e-4, 2e-4]
OUT = Path("/tmp/hC/diag")


def one(args):
    i, opts, tag = args
    p = OUT / tag / f"{i}.npz"
    if p.exists():
        return i
    t = trace_of(i)
    risks = pickle.loads(Path(f"/tmp/hC/risk/{i}.pkl").read_bytes())
    fw = allocations(t, "forewarn", "mem", LAMS, 300, risks, opts)
    vpa = allocations(t, "vpa", "mem", [0.9], 300) if tag == "base" else np.zeros((1, len(t)))
    p.parent.mkdir(parents=True, exist_ok=True)
    np.savez(p, demand=t.demand["mem"], fw=fw, vpa=vpa, w=weights(t), ts=t.ts,
             cap=provisioned(t, "mem"))
    return i


def read(tag):
    rows = []
    for i in range(1, 101):
        z = np.load(OUT / tag / f"{i}.npz")
        d, w, ts = z["demand"], z["w"], z["ts"]
        age = (ts - ts[0]) / 86400.0
        prev = np.concatenate([[d[0]], d[:-1]])
        jump = d > np.maximum(2 * prev, prev + 0.05 * z["cap"])  # one-step jump
        for name, a in [("vpa", z["vpa"][0])] + [(f"fw{lam:g}", z["fw"][k]) for k, lam in enumerate(LAMS)]:
            over = d > a
            m = over * w / 60.0
            rows.append((i, name, m.sum(), m[age < 1].sum(), m[(age >= 1) & (age < 7)].sum(),
                         m[jump].sum(), ((a - np.minimum(d, a)) * w).sum(), (a * w).sum(), z["cap"][0]))
    return rows


if __name__ == "__main__":
    if sys.argv[1] == "--read":
        tag = sys.argv[2] if len(sys.argv) > 2 else "base"
        rows = read(tag)
        names = sorted({r[1] for r in rows})
        groups = {"A 1-40": range(1, 41), "A jump 41-50": range(41, 51), "B 51-100": range(51, 101),
                  "cap>30GB": None}
        for n in names:
            rs = [r for r in rows if r[1] == n]
            un = sum(r[6] for r in rs); al = sum(r[7] for r in rs)
            print(f"{n}: total {sum(r[2] for r in rs):.0f} min, slack {100*un/al:.2f} %, first day "
                  f"{sum(r[3] for r in rs):.0f}, day 1-7 {sum(r[4] for r in rs):.0f}, on one-step jumps "
                  f"{sum(r[5] for r in rs):.0f}")
            for g, vs in groups.items():
                sel = [r for r in rs if (r[8] > 30 * 2**20 if vs is None else r[0] in vs)]
                print(f"   {g}: {sum(r[2] for r in sel):.0f} min (first day {sum(r[3] for r in sel):.0f}, "
                      f"jumps {sum(r[5] for r in sel):.0f}), unused {sum(r[6] for r in sel)/1e12:.1f}e12 KB.s")
        if "-v" in sys.argv:
            for i in range(1, 101):
                rs = {r[1]: r for r in rows if r[0] == i}
                print(i, f"cap {rs['vpa'][8]/2**20:.1f}GB", " ".join(
                    f"{n}={rs[n][2]:.0f}/{rs[n][3]:.0f}/{rs[n][5]:.0f}/{rs[n][6]/1e12:.2f}" for n in names))
    else:
        a, b = int(sys.argv[1]), int(sys.argv[2])
        opts = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
        tag = sys.argv[4] if len(sys.argv) > 4 else "base"
        with Pool(2) as p:
            ran = sum(1 for _ in p.imap_unordered(one, [(i, opts, tag) for i in range(a, b + 1)]))
        print("done", tag, ran, "VMs")
