"""Round twelve's lever, threshold only (the default's parameters; the corpus threshold held
out), on all 31 files (``docs/modelling.md``, "NAB round twelve"): the default (s23: ``hold``,
a partial onset within the series' longest gap between earlier raw onsets waits up to a rest
for novelty it does not imply) and ``floor`` 1 (the confirmation needs more than one context
of four new: a raw 0.25 no longer confirms). Per variant: standard / low FP / low FN (all-in /
held-out mean / pooled), at 0.525 the windows found, their first detections' mean sweep value
and the false-alarm rows; then the rows where the two differ (scores at or above 0.525).
``PYTHONPATH=. python docs/analysis/s24-nab/floor.py`` (~1 min with ``NAB_RAW_CACHE``)."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import cached_raw, corpus, cv, default, line, load  # noqa: E402

from processors.noveltyconfirm import ConfirmingSuppressor  # noqa: E402
from streams.lab.scoring.nab import rest_rows  # noqa: E402

at = load("s23_explore", "s23-nab/explore.py").at


def floored(raw: np.ndarray, floor: int = 1) -> np.ndarray:
    """The default's suppressor with ``floor``."""
    rest = rest_rows(raw.size)
    sup = ConfirmingSuppressor(rest, 0.75, rest, 3, record=True, floor=floor)
    return np.array([sup.step(float(x)) for x in raw])


def main() -> None:
    c, values = corpus()
    raw = cached_raw("default", values)
    base = {n: default(r) for n, r in raw.items()}
    print(line("default (record-gap confirm)", cv(c, [{}], lambda _: base)), flush=True)
    print(at(c, base), flush=True)
    fl = {n: floored(r) for n, r in raw.items()}
    print(line("floor 1", cv(c, [{}], lambda _: fl)), flush=True)
    print(at(c, fl), flush=True)
    for n in raw:
        inside = np.zeros(raw[n].size, dtype=bool)
        for a, b in c._prep["standard"][n].windows:
            inside[a : b + 1] = True
        for t in np.flatnonzero((base[n] != fl[n]) & (np.maximum(base[n], fl[n]) >= 0.525)):
            print(f"  {n.split('/')[-1][:36]:36s} row {t:6d} {'window' if inside[t] else 'outside'}"
                  f" raw {raw[n][t]:.3f} default {base[n][t]:.3f} floor {fl[n][t]:.3f}")


if __name__ == "__main__":
    main()
