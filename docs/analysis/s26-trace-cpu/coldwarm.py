"""Reactive CPU's matched-slack cell on one window, cold against warm (`steps.py` output):
forewarn's curve (cold or warm) read at reactive's slack (cold or warm), the minutes by day
since the window's start at the matched λ mix, and the VMs that carry the excess over the goal.

python docs/analysis/s26-trace-cpu/coldwarm.py STEPS [--runs RUNS_DIR] [--top N]
(RUNS_DIR: the command's output on the same window: its cold forewarn/reactive CPU sums must
equal the steps' (printed); --top: VMs listed)"""
import json
import sys
from pathlib import Path

import numpy as np

from streams.lab.trace.summary import _curve

DAY = 86400


def load(d: Path) -> dict:
    out = {}
    for f in sorted(d.glob("*.npz"), key=lambda p: int(p.stem)):
        z = np.load(f)
        out[int(f.stem)] = {k: z[k] for k in z.files}
    return out


def sums(demand, alloc, w):
    alloc = np.atleast_2d(alloc)
    over = demand[None, :] > alloc
    used = np.minimum(demand[None, :], alloc)
    return {"violation_s": (over * w).sum(1), "alloc": (alloc * w).sum(1),
            "used": (used * w).sum(1), "over": over}


def curve(vms: dict, key: str) -> tuple[np.ndarray, np.ndarray]:
    v = sum(sums(d["demand"], d[key], d["w"])["violation_s"] for d in vms.values()) / 60
    a = sum(sums(d["demand"], d[key], d["w"])["alloc"] for d in vms.values())
    u = sum(sums(d["demand"], d[key], d["w"])["used"] for d in vms.values())
    return (a - u) / a, v


def mix(slack: np.ndarray, mins: np.ndarray, at: float) -> tuple[int, int, float]:
    entry = {"curve": [{"cpu": {"slack": s, "violation_minutes": m}}
                       for s, m in zip(slack, mins, strict=True)]}
    xs, ys = _curve(entry, "cpu")
    idx = [next(k for k in range(len(slack)) if slack[k] == x and mins[k] == y)
           for x, y in zip(xs, ys, strict=True)]
    if at >= xs[-1]:
        return idx[-1], idx[-1], 0.0
    j = int(np.searchsorted(xs, at))
    t = (at - xs[j - 1]) / (xs[j] - xs[j - 1])
    return idx[j - 1], idx[j], float(t)


def cell(vms: dict, fw: str, re: str) -> tuple:
    rs, rv = curve(vms, re)
    fs, fv = curve(vms, fw)
    k1, k2, t = mix(fs, fv, float(rs[0]))
    m = (1 - t) * fv[k1] + t * fv[k2]
    return float(rs[0]), float(rv[0]), k1, k2, t, float(m)


def by_day(vms: dict, key: str, k1: int, k2: int, t: float) -> np.ndarray:
    days = np.zeros(16)
    for d in vms.values():
        o = np.atleast_2d(d[key])
        over = d["demand"][None, :] > o
        v = ((1 - t) * over[k1] + t * over[k2]) * d["w"] / 60
        day = np.minimum(((d["ts"] - d["ts"][0]) // DAY).astype(int), 15)
        days += np.bincount(day, weights=v, minlength=16)[:16]
    return days


BINS = (0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 10.0)


def shortfall(vms: dict, key: str, k1: int, k2: int, t: float) -> np.ndarray:
    """Violation minutes (at the λ mix) by the shortfall (demand - allocation) over the size."""
    out = np.zeros(len(BINS) - 1)
    for d in vms.values():
        size = float(np.median(d["cap"][d["cap"] > 0])) if np.any(d["cap"] > 0) else 1.0
        alloc = np.atleast_2d(d[key])
        for k, wt in ((k1, 1 - t), (k2, t)):
            o = d["demand"] > alloc[k]
            out += np.histogram((d["demand"] - alloc[k])[o] / size, BINS,
                                weights=d["w"][o] * wt / 60)[0]
    return out


def main(argv: list[str]) -> None:
    opts = dict(zip(argv[1::2], argv[2::2], strict=False))
    vms = load(Path(argv[0]))
    lam = next(iter(vms.values()))["lam"]
    warm = "fw_warm" in next(iter(vms.values()))
    for name, fw, re in (("cold/cold", "fw_cold", "re_cold"), ("warm/warm", "fw_warm", "re_warm"),
                         ("fw warm vs reactive cold", "fw_warm", "re_cold")):
        if "warm" in name and not warm:
            continue
        s, rv, k1, k2, t, m = cell(vms, fw, re)
        print(f"{name}: reactive {rv:,.0f} min @ {100 * s:.1f} %, forewarn at λ {lam[k1]:g} x "
              f"{1 - t:.3f} + λ {lam[k2]:g} x {t:.3f}: {m:,.0f} min = {m / rv:.3f}x")
        rd = by_day(vms, re, 0, 0, 0.0)
        fd = by_day(vms, fw, k1, k2, t)
        print("   day:      " + " ".join(f"{i:>6}" for i in range(16)))
        print("   reactive: " + " ".join(f"{x:>6,.0f}" for x in rd))
        print("   forewarn: " + " ".join(f"{x:>6,.0f}" for x in fd))
        ratio = [a / b if b else 0.0 for a, b in zip(fd, rd, strict=True)]
        print("   fw/re:    " + " ".join(f"{x:>6.2f}" for x in ratio))
        print("   minutes by shortfall / size " + " ".join(f"{b:g}" for b in BINS))
        print("   reactive: " + " ".join(f"{x:>6,.0f}" for x in shortfall(vms, re, 0, 0, 0.0)))
        print("   forewarn: " + " ".join(f"{x:>6,.0f}" for x in shortfall(vms, fw, k1, k2, t)))
    for key in ("fw_cold", "fw_warm", "re_cold", "re_warm"):
        if key not in next(iter(vms.values())):
            continue
        k = 0  # the default knob (forewarn λ 0.01, reactive target 0.7)
        x = [sums(d["demand"], d[key], d["w"]) for d in vms.values()]
        v = sum(s["violation_s"][k] for s in x) / 60
        a, u = sum(s["alloc"][k] for s in x), sum(s["used"][k] for s in x)
        rh = sum(s["alloc"][k] / np.median(d["cap"][d["cap"] > 0]) for s, d in
                 zip(x, vms.values(), strict=True) if np.any(d["cap"] > 0)) / 3600
        print(f"{key} at its default knob: {v:,.0f} min @ {100 * (a - u) / a:.1f} % slack, "
              f"{rh:,.0f} resource-h")
    if "--runs" in opts:
        runs = {int(r["component"].rsplit("/", 1)[-1]): r for r in
                json.loads((Path(opts["--runs"]) / "runs.json").read_text())}
        bad = []
        for vm, d in vms.items():
            f = sums(d["demand"], d["fw_cold"], d["w"])["violation_s"]
            ref = np.asarray(runs[vm]["policies"]["forewarn"]["cpu"]["violation_s"])
            rr = sums(d["demand"], d["re_cold"], d["w"])["violation_s"][0]
            r0 = runs[vm]["policies"]["reactive"]["cpu"]["violation_s"][0]
            if not (np.allclose(f, ref) and np.isclose(rr, r0)):
                bad.append(vm)
        print("cold sums equal the command's:", "all" if not bad else bad)
    if warm:
        s, rv, k1, k2, t, m = cell(vms, "fw_cold", "re_cold")
        rows = []
        for vm, d in vms.items():
            r = {}
            for key in ("fw_cold", "fw_warm", "re_cold", "re_warm"):
                x = sums(d["demand"], d[key], d["w"])
                if key.startswith("fw"):
                    r[key] = ((1 - t) * x["violation_s"][k1] + t * x["violation_s"][k2]) / 60
                    r[key + "_u"] = ((1 - t) * (x["alloc"][k1] - x["used"][k1])
                                     + t * (x["alloc"][k2] - x["used"][k2])) / 2926 / 3600
                else:
                    r[key] = x["violation_s"][0] / 60
                    r[key + "_u"] = (x["alloc"][0] - x["used"][0]) / 2926 / 3600
            rows.append((vm, r))
        rows.sort(key=lambda x: -(x[1]["fw_cold"] - 0.5 * x[1]["re_cold"]))
        print(f"{'vm':>4} {'re cold':>8} {'re warm':>8} {'fw cold':>8} {'fw warm':>8} "
              f"{'re unused c/w':>14} {'fw unused c/w':>14}  (core-h; cold λ mix)")
        for vm, r in rows[:int(opts.get("--top", 20))]:
            print(f"{vm:>4} {r['re_cold']:>8,.0f} {r['re_warm']:>8,.0f} {r['fw_cold']:>8,.0f} "
                  f"{r['fw_warm']:>8,.0f} {r['re_cold_u']:>7,.0f}/{r['re_warm_u']:<6,.0f} "
                  f"{r['fw_cold_u']:>7,.0f}/{r['fw_warm_u']:<6,.0f}")


if __name__ == "__main__":
    main(sys.argv[1:])
