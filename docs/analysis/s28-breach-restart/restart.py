"""What-ifs of ``fail_mean`` restarted by new evidence (s28, issue #15):
``python restart.py DIR [MODE ...]`` (a dir of ``docs/analysis/s13-breach/diag13.py``).

Every MODE is ``fail_mean`` (5a08eb5; ``old:15`` in ../s28-breach-season/smooth.py: in a
rule-FAIL spell a horizon old, the alarm is the exponential mean of the emitted risk, time
constant the horizon) with a restart: ``old``: none; ``edge``: the mean restarts at the raw risk
in a window where a metric below its FAIL band (not ``context``) gets a WARN or a breach
forecast it did not have in the window before (a metric that was in FAIL has both);
``edgeup``: the same, but the mean only rises to the raw risk (max); ``rise:M``: the mean
restarts at the raw risk when that exceeds the mean by more than M; ``edgerise:M``: both;
``edgeupfall`` (after the decision, for the next form): ``edgeup``, and the mean falls to the
raw risk in a window where a metric newly enters FAIL (a breach has begun: the lag after it is
the mean's Brier cost). On the emitted risk,
the learning and the hold unchanged."""
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "s28-breach-season"))
import spell  # noqa: E402

H_MS = 900_000
FAIL_STATE, WARN_STATE = 9, 6


def gained(prev: int | None, s: int) -> bool:
    """A metric below FAIL has a WARN or a breach forecast it did not have before."""
    if s >= FAIL_STATE or not (s >= WARN_STATE or s % 3):
        return False
    if prev is None:
        return True
    if prev >= FAIL_STATE:
        return False
    return (s >= WARN_STATE and prev < WARN_STATE) or (s % 3 != 0 and prev % 3 == 0)


def emit(rs: list, ts: np.ndarray, risk: np.ndarray, mode: str) -> np.ndarray:
    kind, _, m = mode.partition(":")
    margin = float(m) if m else 0.0
    new = risk.copy()
    last: dict = {}
    mean = None
    spell0 = 0
    for i in range(risk.size):
        edge = broke = False
        states = rs[i][5]
        for k, s in states.items():
            if k != "context":
                edge = edge or gained(last.get(k), s)
                broke = broke or (s >= FAIL_STATE and last.get(k, 0) < FAIL_STATE)
        last = {k: s for k, s in states.items() if k != "context"}
        if rs[i][4].get("fail", 0.0) <= 0:
            mean = None
            continue
        if mean is None:
            spell0 = ts[i]
        if mean is None or ts[i] - spell0 < H_MS:
            mean = risk[i]
            continue
        a = 1.0 - math.exp(-(ts[i] - ts[i - 1]) / H_MS)
        mean += a * (risk[i] - mean)
        r = risk[i]
        if kind in ("edge", "edgerise") and edge:
            mean = r
        elif kind.startswith("edgeup") and edge:
            mean = max(mean, r)
        if kind == "edgeupfall" and broke:
            mean = min(mean, r)
        if kind in ("rise", "edgerise") and r - mean > margin:
            mean = r
        new[i] = mean
    return new


if __name__ == "__main__":
    spell.emit = emit  # type: ignore[assignment]
    spell.main(sys.argv[1], sys.argv[2:] or ["old", "edge", "edgeup", "rise:0.333", "rise:0.2"])
