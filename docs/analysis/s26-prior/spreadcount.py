"""How often `young` (actuators/sizeyoung.py) finds nothing to spread over when the fleet prior
is on: per VM, forewarn's memory sized over days 15-30 started cold at lambda 0.01 with
young=mem and the held-out prior (B0 on VMs 1-50, A0 on 51-100), counting the forecasters'
sizings whose spread range (above the most seen, up to the size) was empty ("none") or not.

python docs/analysis/s26-prior/spreadcount.py 3,8,50,71"""
import collections
import sys

import actuators.sizefollow as sf
from streams.lab.trace.loop import allocations
from streams.sim.traces import load_traces, parse_time

DATA = "/work/shared/data/bitbrains/rnd"
P = "docs/analysis/s25-trace-fleet/priors/"
COUNT: collections.Counter[str] = collections.Counter()
_spread = sf.spread


def _spy(*args, **kw):  # noqa: ANN002, ANN003, ANN202
    out = _spread(*args, **kw)
    COUNT["none" if out is None else "spread"] += 1
    return out


def main(vms: str) -> None:
    sf.spread = _spy
    start = parse_time("2013-07-15T22:00")
    for vm in vms.split(","):
        tr = load_traces(DATA, [f"2013-7/{vm}"], start)[0]
        COUNT.clear()
        prior = P + ("B0.json" if int(vm) <= 50 else "A0.json")
        allocations(tr, "forewarn", "mem", [0.01], 300, None,
                    {"young": "mem", "fleet_prior": prior})
        print(vm, dict(COUNT))


if __name__ == "__main__":
    main(sys.argv[1])
