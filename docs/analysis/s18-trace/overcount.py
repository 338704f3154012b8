"""Data only: steps where demand exceeds the provisioned size, per resource (100 VMs)."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "s16-trace"))
from build import trace_of  # noqa: E402

from streams.lab.trace.loop import provisioned  # noqa: E402

tot = {"cpu": [0, 0, 0], "mem": [0, 0, 0]}
for i in range(1, 101):
    t = trace_of(i)
    for res in ("cpu", "mem"):
        d = np.asarray(t.demand[res])
        over = d > provisioned(t, res)
        tot[res][0] += int(over.sum())
        tot[res][1] += len(d)
        tot[res][2] += int(over.any())
print({r: f"{v[0]} of {v[1]} steps over the size, on {v[2]} of 100 VMs" for r, v in tot.items()})
