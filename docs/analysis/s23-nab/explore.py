"""Round eleven's exploration, threshold only (the default's parameters; the corpus threshold
held out), on all 31 files, in the order run (``docs/modelling.md``, "NAB round eleven"): the
default (``hold``) and the onset-rate fatigue: the suppressor keeps a leaky count ``F`` of raw
onsets (raw >= 0.75; decayed by ``exp(-1 / (10 rest))`` per row, read before the row's own
onset) and scales its output by ``min(1, D / F)``, ``D`` 14, 10, 20 (written down before
scoring). Per variant: standard / low FP / low FN (all-in / held-out mean / pooled), then at
the default's threshold 0.525 the windows found, their first detections' mean sweep value and
the false-alarm rows. ``PYTHONPATH=. python docs/analysis/s23-nab/explore.py [D ...]``
(~1 min with ``NAB_RAW_CACHE``)."""
import math
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import cached_raw, corpus, cv, file_loss, line, suppress  # noqa: E402

from streams.lab.scoring.nab import rest_rows  # noqa: E402


def fatigued(raw: np.ndarray, d: float, life: float = 10.0, alarm: float = 0.75) -> np.ndarray:
    """The default's suppressor (``hold``, the file's rest) with the onset-rate fatigue ``d``."""
    rest = rest_rows(raw.size)
    decay = math.exp(-1.0 / (life * rest))
    out, f, last = np.empty(raw.size), 0.0, None
    for t, r in enumerate(raw):
        rec = 1.0 if last is None else min(1.0, (t - last) / rest)
        out[t] = r * rec * min(1.0, d / f) if f > d else r * rec
        f *= decay
        if r >= alarm:
            f += 1.0
            last = t
    return out


def at(c: Any, sc: dict[str, np.ndarray], threshold: float = 0.525) -> str:
    """Windows found, their first detections' mean sweep value, false-alarm rows (standard)."""
    found = fp = 0
    late = 0.0
    for n, s in sc.items():
        tp, _, rows, lost, *_ = file_loss(replace(c._prep["standard"][n], scores=s), threshold, 1.0)
        found, fp, late = found + tp, fp + rows, late + lost
    return f"    at {threshold}: windows {found}, mean sweep {1 - late / found:.3f}, FP rows {fp}"


def main() -> None:
    c, values = corpus()
    raw = cached_raw("default", values)
    sc = {n: suppress(r) for n, r in raw.items()}
    print(line("default (hold)", cv(c, [{}], lambda _: sc)), flush=True)
    print(at(c, sc), flush=True)
    for d in [float(a) for a in sys.argv[1:]] or [14.0, 10.0, 20.0]:
        sc = {n: fatigued(r, d) for n, r in raw.items()}
        print(line(f"fatigue D {d:g}", cv(c, [{}], lambda _, s=sc: s)), flush=True)
        print(at(c, sc), flush=True)


if __name__ == "__main__":
    main()
