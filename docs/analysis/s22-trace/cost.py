"""Process time of forewarn's sizing, HEAD's options against a variant's (issue #11, s22): one VM,
both resources, the 19 lambda of the sweep, the cached risk scores; interleaved pairs, median
ratio. python cost.py VM PAIRS 'VARIANT_OPTIONS_JSON' (prints each pair, medians, the load)"""
import json
import os
import pickle
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "s16-trace"))
from build import trace_of  # noqa: E402

from streams.lab.trace.loop import allocations, knob_grid  # noqa: E402


def once(t, risks, opts: dict) -> float:
    knobs = knob_grid(["forewarn"], True)["forewarn"]
    t0 = time.process_time()
    for res in ("cpu", "mem"):
        allocations(t, "forewarn", res, knobs, 300, risks, opts)
    return time.process_time() - t0


if __name__ == "__main__":
    vm, pairs, var = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
    t = trace_of(vm)
    risks = pickle.loads(Path(f"/tmp/hC/risk/{vm}.pkl").read_bytes())
    print("VM", vm, "variant", var, "load at start", os.getloadavg())
    r = []
    for k in range(pairs):
        if k % 2 == 0:
            a = once(t, risks, {}); b = once(t, risks, var)
        else:
            b = once(t, risks, var); a = once(t, risks, {})
        r.append((a, b))
        print(f"pair {k}: HEAD {a:.2f} s, variant {b:.2f} s, ratio {b / a:.3f}", flush=True)
    med = statistics.median
    print(f"median HEAD {med(x for x, _ in r):.2f} s, variant {med(y for _, y in r):.2f} s, "
          f"ratio {med(y / x for x, y in r):.3f}")
    print("load at end", os.getloadavg())
