"""The default's first detections in windows and false-alarm rows by the raw score's kind (1.0:
every context new; 0.75: the level seen, a transition new; other: seasonal), at the folds'
threshold 0.525 on all 31 files (``docs/modelling.md``, "NAB round nine": what is left).
``PYTHONPATH=. python docs/analysis/s20-nab/kinds.py``."""
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import corpus, raw_scores, suppress  # noqa: E402


def kind(x: float) -> str:
    return "1.0" if x == 1.0 else "0.75" if x == 0.75 else "other"


def main() -> None:
    c, values = corpus()
    first: Counter[str] = Counter()
    false: Counter[str] = Counter()
    for n, r in raw_scores(values).items():
        prep = c._prep["standard"][n]
        det = suppress(r) >= 0.525
        det[: prep.probation] = False
        inside = np.zeros(r.size, dtype=bool)
        for a, b in prep.windows:
            inside[a : b + 1] = True
            hits = np.flatnonzero(det[a : b + 1])
            if hits.size:
                first[kind(r[a + hits[0]])] += 1
        false.update(kind(r[i]) for i in np.flatnonzero(det & ~inside))
    print("first detections in windows by raw kind:", dict(first))
    print("false-alarm rows by raw kind:", dict(false))


if __name__ == "__main__":
    main()
