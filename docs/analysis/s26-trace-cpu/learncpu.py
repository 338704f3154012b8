"""Learn the CPU part of a fleet prior (trial D1): `actuators.fleetprior.learn` (the function
`forewarn prior learn` calls, session 26) on training VMs' CPU demand and provisioned CPU, each
series built as `streams/lab/trace/prior.py` builds memory's. The file has the memory prior's
format (`trained_on.resource` "cpu"); the sizer reads it with `fleet_prior=FILE;fleet_prior_on=cpu`
(no code change: on CPU only, so a run with it has no memory prior).

python docs/analysis/s26-trace-cpu/learncpu.py OUT.json VMS [--start T] [--end T] [--res mem]
(VMS: A-B; `--res mem` gives s25's memory priors back, `trained_on.resource` aside)"""
import sys
from pathlib import Path

import numpy as np

from actuators.fleetprior import dumps, learn
from streams.lab.trace.loop import provisioned
from streams.sim.traces import load_traces, parse_time

DATA = "/work/shared/data/bitbrains/rnd"
DELAY_S = 300


def series(tr, res: str):
    raw = tr.capacity.get(res)
    given = provisioned(tr, res) if raw is None else np.where(raw > 0, raw, 0.0)
    given = np.where(np.arange(len(tr)) == 0, provisioned(tr, res), given)
    return tr.component, tr.ts, tr.demand[res], given, tr.step_s


def main(argv: list[str]) -> None:
    out, (a, b) = Path(argv[0]), map(int, argv[1].split("-"))
    opts = dict(zip(argv[2::2], argv[3::2], strict=False))
    start = parse_time(opts["--start"]) if "--start" in opts else None
    end = parse_time(opts["--end"]) if "--end" in opts else None
    res = opts.get("--res", "cpu")
    traces = [t for t in load_traces(DATA, None, start, end)
              if a <= int(t.component.split("/")[1]) <= b]
    doc, left = learn((series(t, res) for t in traces), DELAY_S, start=start, end=end)
    doc["trained_on"]["resource"] = res
    out.write_text(dumps(doc))
    print(out, doc["components"], "VMs", {k: len(v) for k, v in doc["forecasters"].items()},
          "left out:", left, file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
