"""Round nine's exploration, threshold only (the default's parameters; the corpus threshold
held out), on all 31 files, in the order run: the default (``hold``); ``hold`` with the
coarse resolution (``coarse`` 4, 2, 3, 8: never measured with ``hold``); the rest as CAD
OSE's (scores in a rest zeroed, not scaled). ``PYTHONPATH=. python
docs/analysis/s20-nab/explore.py``."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import cached_raw, corpus, cv, line, suppress  # noqa: E402

from streams.lab.scoring.nab import rest_rows  # noqa: E402


def zeroed(raw: np.ndarray, alarm: float = 0.75) -> np.ndarray:
    """CAD OSE's rest: a score within ``rest`` of a raw onset is 0 (``hold``'s restart)."""
    rest, out, t_ref = rest_rows(raw.size), np.empty(raw.size), None
    for t, r in enumerate(raw):
        out[t] = r if t_ref is None or t - t_ref >= rest else 0.0
        if r >= alarm:
            t_ref = t
    return out


def main() -> None:
    c, values = corpus()
    raw = cached_raw("default", values)
    sc = {n: suppress(r) for n, r in raw.items()}
    print(line("default (hold)", cv(c, [{}], lambda _: sc)), flush=True)
    for k in (4, 2, 3, 8):
        rk = cached_raw(f"coarse{k}", values, coarse=k)
        sk = {n: suppress(r) for n, r in rk.items()}
        print(line(f"hold + coarse {k}", cv(c, [{}], lambda _, s=sk: s)), flush=True)
    sz = {n: zeroed(r) for n, r in raw.items()}
    print(line("hold, rest zeroed (CAD OSE)", cv(c, [{}], lambda _: sz)), flush=True)


if __name__ == "__main__":
    main()
