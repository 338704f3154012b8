"""Round eleven's diagnosis (``docs/modelling.md``, "NAB round eleven"; labels read to place
the windows): at the default (``hold``) and 0.525, on all 31 files, every window's first
detection and every false-alarm row, with the channel behind its raw score (the context
novelty's 1.0 / 0.75 / ..., or the seasonal surprise where it is the larger), the raw onsets
(raw >= 0.75) in the 10 rests before it, the onsets per rest over the series so far, and the
visit share of the row's level so far; then the counts by channel and the separations quoted.
``PYTHONPATH=. python docs/analysis/s23-nab/channels.py`` (~1 min with ``NAB_RAW_CACHE``)."""
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import cached_raw, corpus, suppress  # noqa: E402

from processors.univariate import ContextNovelty  # noqa: E402
from streams.lab.scoring.nab import rest_rows  # noqa: E402


def channels(v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: the context novelty, the seasonal score, the level's visit share so far."""
    m = ContextNovelty(warm=250)
    nov, sea, share = np.zeros(v.size), np.zeros(v.size), np.zeros(v.size)
    visits: Counter[int] = Counter()
    for t, x in enumerate(map(float, v)):
        q = m._level(x, m.lo, m.hi) if m.n >= m.p.warm else 0
        if m.n >= m.p.warm:
            nov[t] = m._novelty(m._slots(q))
            sea[t] = m._seasonal_score(m._residuals(x)[1])
            share[t] = visits[q] / t
        m.step(x)
        visits[m.levels[-1]] += 1
    return nov, sea, share


def main() -> None:
    c, values = corpus()
    rows = []
    for n, r in cached_raw("default", values).items():
        prep, rest = c._prep["standard"][n], rest_rows(r.size)
        det = suppress(r) >= 0.525
        det[: prep.probation] = False
        inside, first = np.zeros(r.size, dtype=bool), set()
        for a, b in prep.windows:
            inside[a : b + 1] = True
            hits = np.flatnonzero(det[a : b + 1])
            first.update([a + hits[0]] if hits.size else [])
        nov, sea, share = channels(values[n])
        ons = np.flatnonzero(r >= 0.75)
        for t in np.flatnonzero(det):
            if inside[t] and t not in first:
                continue
            prev = ons[ons < t]
            kind = "seasonal" if sea[t] > nov[t] else f"novelty {nov[t]:.2f}"
            rows.append(("window" if inside[t] else "false", kind,
                         int(np.sum(prev >= t - 10 * rest)), prev.size / max(1, t - 250) * rest,
                         share[t]))
            print(f"{rows[-1][0]:6s} {n.split('/')[-1][:36]:36s} row {t:6d} {kind:13s} onsets "
                  f"in 10 rests {rows[-1][2]:3d}, per rest {rows[-1][3]:.2f}, level share "
                  f"{share[t]:.4f}")
    print(sorted(Counter((w, k) for w, k, *_ in rows).items()))
    for label, hit in (("onsets in 10 rests >= 14", lambda x: x[2] >= 14),
                       ("onsets in 10 rests >= 18", lambda x: x[2] >= 18),
                       ("onsets per rest >= 1.5", lambda x: x[3] >= 1.5),
                       ("partial, level share > 0.05",
                        lambda x: x[1] == "novelty 0.75" and x[4] > 0.05)):
        print(label, {w: sum(1 for x in rows if x[0] == w and hit(x)) for w in ("window", "false")})


if __name__ == "__main__":
    main()
