"""Why a confirmation by the next raw onset loses windows (``docs/modelling.md``, "NAB round
ten"; labels seen): at the default's threshold 0.525 on all 31 files, every first detection in
a window and every false-alarm row whose raw score is a partial onset (``0.75 <= raw < 1``),
with the rows to the next raw onset and to the next novelty the onset does not imply (within
the file's rest; None: none), and the rests since the previous raw onset.
``PYTHONPATH=. python docs/analysis/s21-nab/dist.py``."""
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import cached_raw, corpus, suppress  # noqa: E402

from streams.lab.scoring.nab import rest_rows  # noqa: E402


def ahead(r: np.ndarray, t: int, hit: Callable[[int, float], bool], limit: int) -> int | None:
    """Rows from ``t`` to the first later row (within ``limit``) where ``hit(d, raw)``."""
    return next((d for d in range(1, limit + 1) if t + d < r.size and hit(d, r[t + d])), None)


def main() -> None:
    c, values = corpus()
    for n, r in cached_raw("default", values).items():
        prep, rest = c._prep["standard"][n], rest_rows(r.size)
        det = suppress(r) >= 0.525
        det[: prep.probation] = False
        inside, first = np.zeros(r.size, dtype=bool), set()
        for a, b in prep.windows:
            inside[a : b + 1] = True
            hits = np.flatnonzero(det[a : b + 1])
            first.update([a + hits[0]] if hits.size else [])
        onsets = np.flatnonzero(r >= 0.75)
        for t in np.flatnonzero(det & ((r >= 0.75) & (r < 1.0))):
            if inside[t] and t not in first:
                continue
            nxt = ahead(r, t, lambda d, x: x >= 0.75, rest)
            nov = ahead(r, t, lambda d, x: x > max(0.0, (3 - d) / 4), rest)
            prev = onsets[onsets < t]
            gap = f"{(t - prev[-1]) / rest:.1f}" if prev.size else "none"
            print(f"{'window' if inside[t] else 'false':6s} {n.split('/')[-1]:45s} row {t:6d} "
                  f"next onset {nxt}, next novelty {nov}, rests since the previous onset {gap}")


if __name__ == "__main__":
    main()
