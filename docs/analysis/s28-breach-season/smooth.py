"""What-ifs of a smoothed alarm within one rule-FAIL spell (s28, issue #15):
``python smooth.py DIR [MODE ...]`` (a dir of ``docs/analysis/s13-breach/diag13.py``).

A MODE is ``ema:TAU_MIN`` (in a rule-FAIL spell the alarm is the exponential mean of the
emitted risk with time constant TAU, from the spell's first window) or ``stale:TAU_MIN`` (the
same, but only while no metric names a fresh cascade: a metric below its FAIL band at WARN
or with a breach forecast whose evidence began less than a horizon ago restarts the mean at
the raw risk); ``rise:TAU`` / ``stalerise:TAU``: the alarm is the smaller of the mean and
the raw risk (it rises no faster than the mean, falls at once); ``old:TAU``: the mean only
once the spell is a horizon old (restarted at the raw risk before; ``old:15`` is the form of
``fail_mean``, 5a08eb5); ``oldstale:TAU``: both. On the emitted risk, the learning and the
hold unchanged."""
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import spell  # noqa: E402

H_MS = 900_000


def emit(rs: list, ts: np.ndarray, risk: np.ndarray, mode: str) -> np.ndarray:
    kind, tau = mode.split(":")
    tau_ms = float(tau) * 60_000
    new = risk.copy()
    runs: dict = {}
    ema = None
    spell0 = 0
    for i in range(risk.size):
        for m, s in rs[i][5].items():
            if m == "context" or not spell.evid(s):
                runs.pop(m, None)
            elif m not in runs:
                runs[m] = ts[i]
        if rs[i][4].get("fail", 0.0) <= 0:
            ema = None
            continue
        if ema is None:
            spell0 = ts[i]
        fresh = any(ts[i] - t0 < H_MS for t0 in runs.values())
        young = ts[i] - spell0 < H_MS
        if (ema is None or (kind.startswith("stale") and fresh)
                or (kind.startswith("old") and young) or (kind == "oldstale" and fresh)):
            ema = risk[i]
            continue
        a = 1.0 - math.exp(-(ts[i] - ts[i - 1]) / tau_ms)
        ema += a * (risk[i] - ema)
        new[i] = min(ema, risk[i]) if kind.endswith("rise") else ema
    return new


if __name__ == "__main__":
    spell.emit = emit  # type: ignore[assignment]
    spell.main(sys.argv[1], sys.argv[2:] or ["ema:5", "ema:15", "stale:5", "stale:15", "rise:5",
                                             "rise:15", "old:15", "oldstale:15"])
