"""Process time of forewarn's sizing with charge 0 against charge 1 (issue #11, s21): one VM, both
resources, the 19 lambda of the sweep, the cached risk scores; interleaved pairs, median ratio.

python cost.py VM PAIRS  (prints each pair, the medians and the load average)"""
import os
import pickle
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "s16-trace"))
from build import trace_of  # noqa: E402

from streams.lab.trace.loop import allocations, knob_grid  # noqa: E402


def once(t, risks, charge: float) -> float:
    knobs = knob_grid(["forewarn"], True)["forewarn"]
    t0 = time.process_time()
    for res in ("cpu", "mem"):
        allocations(t, "forewarn", res, knobs, 300, risks, {"charge": charge})
    return time.process_time() - t0


if __name__ == "__main__":
    vm, pairs = int(sys.argv[1]), int(sys.argv[2])
    t = trace_of(vm)
    risks = pickle.loads(Path(f"/tmp/hC/risk/{vm}.pkl").read_bytes())
    print("load at start", os.getloadavg())
    r = []
    for k in range(pairs):
        a, b = (once(t, risks, 0.0), once(t, risks, 1.0)) if k % 2 == 0 else \
            tuple(reversed((once(t, risks, 1.0), once(t, risks, 0.0))))
        r.append((a, b))
        print(f"pair {k}: charge 0 {a:.2f} s, charge 1 {b:.2f} s, ratio {b / a:.3f}", flush=True)
    med = statistics.median
    print(f"median charge 0 {med(x for x, _ in r):.2f} s, charge 1 "
          f"{med(y for _, y in r):.2f} s, ratio {med(y / x for x, y in r):.3f}")
    print("load at end", os.getloadavg())
