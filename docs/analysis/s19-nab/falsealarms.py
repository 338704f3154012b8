"""The default's false-alarm rows on the NAB subset at the threshold its folds chose (0.525,
threshold only), by kind of raw score, and how long after the file's previous raw onset
(raw >= 0.75) each comes, in rests; how many ``hold`` takes under the threshold.
``PYTHONPATH=. python docs/analysis/s19-nab/falsealarms.py``."""
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import corpus, raw_scores  # noqa: E402
from hold_grid import suppress  # noqa: E402

from streams.lab.cv import category  # noqa: E402
from streams.lab.scoring.nab import rest_rows  # noqa: E402

THRESHOLD = 0.525


def main() -> None:
    c, values = corpus()
    raw = raw_scores(values)
    kinds: Counter[tuple[str, str]] = Counter()
    files: Counter[str] = Counter()
    gaps, held = [], 0
    for n, r in raw.items():
        prep = c._prep["standard"][n]
        s, h = suppress(r, False), suppress(r, True)
        inside = np.zeros(r.size, dtype=bool)
        for left, right in prep.windows:
            inside[left : right + 1] = True
        rows = np.flatnonzero((s >= THRESHOLD) & ~inside)
        for i in rows[rows >= prep.probation]:
            kind = "1.0" if r[i] == 1.0 else "0.75" if r[i] == 0.75 else "seasonal"
            kinds[(category(n), kind)] += 1
            files[n] += 1
            before = np.flatnonzero(r[:i] >= 0.75)
            gaps.append((i - before[-1]) / rest_rows(r.size) if before.size else np.inf)
            held += bool(h[i] < THRESHOLD)
    for (cat, kind), k in sorted(kinds.items()):
        print(f"{cat:22s} raw {kind:8s} {k}")
    print("most:", files.most_common(5))
    g = np.array(gaps)
    print(f"rows {g.size}; rests since the previous raw onset: quartiles "
          f"{np.percentile(g, [25, 50, 75]).round(2)}, under one rest {int((g < 1).sum())}; "
          f"under the threshold with hold {held}")


if __name__ == "__main__":
    main()
