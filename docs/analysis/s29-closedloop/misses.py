"""The big CPU misses of one window (`docs/analysis/s26-trace-cpu/steps.py` output): steps where
demand is over forewarn's allocation by at least a quarter of the VM's size, at one lambda, cold
or warm: their minutes by UTC hour, and whether demand reached a quarter of the size within
+-30 min of one hour, one day and seven days before (none: no sample there in the window).

python docs/analysis/s29-closedloop/misses.py STEPS VMS LAMBDA [--key fw_cold|fw_warm]"""
import sys
from collections import Counter
from pathlib import Path

import numpy as np

LAGS = {"1 h": 3600, "1 d": 86400, "7 d": 7 * 86400}


def main(argv: list[str]) -> None:
    d, (a, b), lam = Path(argv[0]), map(int, argv[1].split("-")), float(argv[2])
    key = dict(zip(argv[3::2], argv[4::2], strict=False)).get("--key", "fw_cold")
    hours, before = np.zeros(24), {k: Counter() for k in LAGS}
    total = big_min = 0.0
    for vm in range(a, b + 1):
        f = d / f"{vm}.npz"
        if not f.exists():
            continue
        z = np.load(f)
        ts, dem, cap, w = z["ts"], z["demand"], z["cap"], z["w"]
        size = float(np.median(cap[cap > 0]))
        alloc = z[key][int(np.flatnonzero(np.isclose(z["lam"], lam))[0])]
        miss = dem > alloc
        big = miss & (dem - alloc >= 0.25 * size)
        total += float((miss * w).sum() / 60)
        big_min += float((big * w).sum() / 60)
        for i in np.flatnonzero(big):
            hours[(int(ts[i]) // 3600) % 24] += w[i] / 60
            for name, lag in LAGS.items():
                lo, hi = np.searchsorted(ts, [ts[i] - lag - 1800, ts[i] - lag + 1800])
                seen = "none" if hi <= lo else (
                    "high" if dem[lo:hi].max() >= 0.25 * size else "low")
                before[name][seen] += 1
    print(f"VMs {a}-{b}, lambda {lam:g}, {key}: {total:,.0f} miss minutes, {big_min:,.0f} of "
          f"them by >= 1/4 of the size ({sum(before['1 h'].values())} steps)")
    print("big-miss minutes by UTC hour:", " ".join(f"{h}:{m:.0f}" for h, m in enumerate(hours)))
    for name in LAGS:
        print(f"demand >= 1/4 of the size +-30 min, {name} before:", dict(before[name]))


if __name__ == "__main__":
    main(sys.argv[1:])
