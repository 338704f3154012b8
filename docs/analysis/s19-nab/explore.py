"""Round eight's exploration (threshold only: the default's parameters, the corpus threshold
held out): the suppressor's rest restarted at suppressed alarms (the default) or at every raw
onset (``hold``), with a rest of ``max(probation / 5, k * rows / (raw onsets + 1))`` (k 0: the
default's rest). ``PYTHONPATH=. python docs/analysis/s19-nab/explore.py``. The order the
variants were run in: (a, 1), (a, 2), (a, 0.5), (raw, 1), (raw, 2), (raw, 0.5), then (raw, 0),
(raw, 0.25), (raw, 0.75) — every one is printed."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import corpus, cv, line, raw_scores  # noqa: E402

from streams.lab.scoring.nab import rest_rows  # noqa: E402


def suppressed(raw: np.ndarray, rest: int, mode: str, k: float, alarm: float = 0.75
               ) -> np.ndarray:
    """The suppressor, its rest restarted at suppressed alarms (``a``) or raw onsets."""
    out, t_ref, onsets = np.empty(raw.size), None, 0
    for t, r in enumerate(raw):
        span = max(rest, k * t / (onsets + 1))
        s = r if t_ref is None else r * min(1.0, (t - t_ref) / span)
        if (s if mode == "a" else r) >= alarm:
            t_ref = t
        onsets += r >= alarm
        out[t] = s
    return out


def main() -> None:
    c, values = corpus()
    raw = raw_scores(values)
    runs = [("a", 0.0), ("a", 1.0), ("a", 2.0), ("a", 0.5), ("raw", 1.0), ("raw", 2.0),
            ("raw", 0.5), ("raw", 0.0), ("raw", 0.25), ("raw", 0.75)]
    for mode, k in runs:
        sc = {n: suppressed(r, rest_rows(r.size), mode, k) for n, r in raw.items()}
        label = "default" if (mode, k) == ("a", 0.0) else f"rest at {mode} onsets, k {k}"
        print(line(label, cv(c, [{}], lambda _, sc=sc: sc)), flush=True)


if __name__ == "__main__":
    main()
