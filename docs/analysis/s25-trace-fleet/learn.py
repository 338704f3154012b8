"""Learn a fleet prior (actuators/fleetprior.py) from training VMs' memory over a window.

python docs/analysis/s25-trace-fleet/learn.py OUT.json VMS [--start T] [--end T]
(VMS: A-B, the training VMs; the window as the trace command's --start / --end. Each VM's
forewarn forecasters run cold from the window's start, as the command runs them, recording
every outcome's bucket; a VM weighs 1; VMs with no memory demand are left out.)"""
import json
import sys
from pathlib import Path

import numpy as np

from actuators.fleetprior import Pool
from streams.lab.trace.loop import provisioned
from streams.sim.traces import load_traces, parse_time

DATA = "/work/shared/data/bitbrains/rnd"
DELAY_S = 300


def main(argv: list[str]) -> None:
    out, (a, b) = Path(argv[0]), map(int, argv[1].split("-"))
    opts = dict(zip(argv[2::2], argv[3::2], strict=False))
    start = parse_time(opts["--start"]) if "--start" in opts else None
    end = parse_time(opts["--end"]) if "--end" in opts else None
    pool, used = Pool(), []
    for tr in load_traces(DATA, None, start, end):
        if not a <= int(tr.component.split("/")[1]) <= b:
            continue
        demand = tr.demand["mem"]
        if not np.any(demand > 0):
            continue
        raw = tr.capacity.get("mem")
        given = provisioned(tr, "mem") if raw is None else np.where(raw > 0, raw, 0.0)
        given = np.where(np.arange(len(tr)) == 0, provisioned(tr, "mem"), given)
        pool.add(tr.ts, demand, given, tr.step_s, DELAY_S)
        used.append(tr.component)
    doc = pool.doc()
    doc["trained_on"] = {"vms": used, "start": start, "end": end}
    out.write_text(json.dumps(doc) + "\n")
    print(out, doc["components"], "VMs", {k: len(v) for k, v in doc["forecasters"].items()})


if __name__ == "__main__":
    main(sys.argv[1:])
