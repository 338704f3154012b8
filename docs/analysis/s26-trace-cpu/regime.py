"""CPU demand by day over the 30 days for a group of VMs: the mean and P99 of demand over the
provisioned size (averaged over the VMs), and the share of steps whose demand is over 1/0.7 x
the step before (a jump reactive's target misses). Where a window's CPU cell comes from.

python docs/analysis/s26-trace-cpu/regime.py VMS  (VMS: 55-81 or 41,45)"""
import sys

import numpy as np

from streams.lab.trace.loop import provisioned
from streams.sim.traces import load_traces

DATA = "/work/shared/data/bitbrains/rnd"
DAY = 86400


def main(spec: str) -> None:
    a, b = map(int, spec.split("-")) if "-" in spec else (0, 0)
    keep = (set(range(a, b + 1)) if "-" in spec else set(map(int, spec.split(","))))
    traces = [t for t in load_traces(DATA, None) if int(t.component.split("/")[1]) in keep]
    t0 = min(int(t.ts[0]) for t in traces)
    rows = np.zeros((31, 4))
    for t in traces:
        x = t.demand["cpu"] / provisioned(t, "cpu")
        day = ((t.ts - t0) // DAY).astype(int)
        jump = np.r_[False, x[1:] > np.maximum(x[:-1], 1e-3) / 0.7]
        for k in np.unique(day):
            m = day == k
            rows[k] += [x[m].mean(), np.percentile(x[m], 99), jump[m].mean(), 1]
    print(f"{len(traces)} VMs; day 0 = {t0} (UTC)\nday  mean/size  p99/size  jumps")
    for k in range(31):
        if rows[k, 3]:
            n = rows[k, 3]
            print(f"{k:>3} {rows[k, 0] / n:>9.3f} {rows[k, 1] / n:>9.3f} {rows[k, 2] / n:>6.3f}")


if __name__ == "__main__":
    main(sys.argv[1])
