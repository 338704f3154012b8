"""Round eleven's third lever, threshold only (the default's parameters; the corpus threshold held
out), on all 31 files (``docs/modelling.md``, "NAB round eleven"): round ten's confirmed partial
onset (``docs/analysis/s21-nab/explore.py``'s ``confirmed``: any novelty the onset does not
imply, within the file's rest) with ``quiet`` from the series itself: no confirmation when no
raw onset came before, or when the gap since the previous one is at least the longest gap
between two earlier raw onsets ("record"; round ten's ``quiet`` 10 and "own", the mean gap, beside
it; the "record" rule checked equal to the lab's
:class:`processors.noveltyconfirm.ConfirmingSuppressor` with ``record``).
``PYTHONPATH=. python docs/analysis/s23-nab/recordgap.py`` (~1 min with ``NAB_RAW_CACHE``)."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import cached_raw, corpus, cv, line, load, suppress  # noqa: E402

from processors.noveltyconfirm import ConfirmingSuppressor  # noqa: E402
from streams.lab.scoring.nab import rest_rows  # noqa: E402

_s21 = load("s21_explore", "s21-nab/explore.py")
_round_ten = _s21.is_quiet
at = load("s23_explore", "s23-nab/explore.py").at


def is_quiet(quiet: float | str | None, t: int, onsets: list[int], rest: int) -> bool:
    """Round ten's rule, and ``"record"``: no onset before, or a gap since the last at least
    the longest between two earlier ones."""
    if quiet == "record":
        if not onsets:
            return True
        gaps = np.diff(onsets)
        return t - onsets[-1] >= (gaps.max() if gaps.size else 0)
    return bool(_round_ten(quiet, t, onsets, rest))


def main() -> None:
    _s21.is_quiet = is_quiet  # the confirmation reads the rule through the module
    c, values = corpus()
    raw = cached_raw("default", values)
    sc = {n: suppress(r) for n, r in raw.items()}
    print(line("default (hold)", cv(c, [{}], lambda _: sc)), flush=True)
    print(at(c, sc), flush=True)
    for q in ("record", 10.0, "own"):
        sq = {n: _s21.confirmed(r, "rest", True, q) for n, r in raw.items()}
        print(line(f"confirm, quiet {q}", cv(c, [{}], lambda _, s=sq: s)), flush=True)
        print(at(c, sq), flush=True)
        if q == "record":  # the grid's form: the lab's suppressor
            for n, r in raw.items():
                sup = ConfirmingSuppressor(rest_rows(r.size), 0.75, rest_rows(r.size), 3,
                                           record=True)
                assert np.array_equal(sq[n], [sup.step(float(x)) for x in r]), n


if __name__ == "__main__":
    main()
