"""Round ten's exploration, threshold only (the default's parameters; the corpus threshold held
out), on all 31 files, in the order run (``docs/modelling.md``, "NAB round ten"): the default
(``hold``); a partial onset (``0.75 <= raw < 1``) confirmed by the next raw onset within the
horizons written down before (the file's rest, 4, 1, rest / 4); confirmed by any novelty the
onset does not imply (horizons rest, 4, 8, rest / 4); that with the file's rest and ``quiet``
(no confirmation 2, 5, 10, 20 rests after the previous onset, or with none before: "inf"; or
past the mean gap between the series' own onsets so far: "own", tried last). Per
variant: standard / low FP / low FN (all-in / held-out mean / pooled), then at the default's
threshold 0.525 the windows found, their first detections' mean sweep value and the false-alarm
rows. The form measured with the grids (any novelty, rest, quiet) is
:class:`processors.noveltyconfirm.ConfirmingSuppressor`: checked equal to this script's.
``PYTHONPATH=. python docs/analysis/s21-nab/explore.py`` (~1 min with ``NAB_RAW_CACHE``)."""
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import cached_raw, corpus, cv, horizon, line, load, suppress  # noqa: E402

from streams.lab.scoring.nab import rest_rows  # noqa: E402

file_loss = load("s20_loss", "s20-nab/loss.py").file_loss


def is_quiet(quiet: float | str | None, t: int, onsets: list[int], rest: int) -> bool:
    """No confirmation needed: ``quiet`` rests since the previous raw onset, or none before
    (``None``: always needed; ``"own"``: fewer than 2 onsets before, or a gap since the last
    longer than the mean gap between them)."""
    if quiet is None:
        return False
    if quiet == "own":
        k = len(onsets)
        return k < 2 or t - onsets[-1] > (onsets[-1] - onsets[0]) / (k - 1)
    return not onsets or t - onsets[-1] >= float(quiet) * rest


def confirmed(raw: np.ndarray, h: Any, any_novelty: bool, quiet: float | str | None = None,
              order: int = 3, alarm: float = 0.75) -> np.ndarray:
    """The suppressor with ``hold`` and a partial onset confirmed within ``h``: by the next raw
    onset, or (``any_novelty``) by a raw score over the share of contexts the onset implies;
    ``quiet``: :func:`is_quiet`."""
    rest, hh = rest_rows(raw.size), horizon(h, raw.size)
    out, onsets, pend, t0 = np.empty(raw.size), [], None, -1
    for t, r in enumerate(raw):
        sc = r if not onsets else r * min(1.0, (t - onsets[-1]) / rest)
        o = sc
        if pend is not None and t - t0 <= hh:
            floor = max(0.0, (order - (t - t0)) / (order + 1)) if any_novelty else alarm - 1e-12
            if r > floor:
                o, pend = max(sc, pend), None
        elif alarm <= r < 1.0 and not is_quiet(quiet, t, onsets, rest):
            o, pend, t0 = 0.0, sc, t
        if r >= alarm:
            onsets.append(t)
        out[t] = o
    return out


def at(c: Any, sc: dict[str, np.ndarray], threshold: float = 0.525) -> str:
    """Windows found, their first detections' mean sweep value, false-alarm rows (standard;
    round nine's ``file_loss``)."""
    found = fp = 0
    late = 0.0
    for n, s in sc.items():
        tp, _, rows, lost, *_ = file_loss(replace(c._prep["standard"][n], scores=s), threshold, 1.0)
        found, fp, late = found + tp, fp + rows, late + lost
    return f"    at {threshold}: windows {found}, mean sweep {1 - late / found:.3f}, FP rows {fp}"


VARIANTS: list[tuple[str, dict[str, Any]]] = [
    *[(f"next onset, h {h}", {"h": h, "any_novelty": False}) for h in ("rest", 4, 1, "rest/4")],
    *[(f"any novelty, h {h}", {"h": h, "any_novelty": True}) for h in ("rest", 4, 8, "rest/4")],
    *[(f"any novelty, h rest, quiet {q}", {"h": "rest", "any_novelty": True, "quiet": q})
      for q in (2.0, 5.0, 10.0, 20.0, float("inf"), "own")],
]


def main() -> None:
    c, values = corpus()
    raw = cached_raw("default", values)
    sc = {n: suppress(r) for n, r in raw.items()}
    print(line("default (hold)", cv(c, [{}], lambda _: sc)), flush=True)
    print(at(c, sc), flush=True)
    for label, kw in VARIANTS:
        sc = {n: confirmed(r, **kw) for n, r in raw.items()}
        print(line(label, cv(c, [{}], lambda _, s=sc: s)), flush=True)
        print(at(c, sc), flush=True)
        if kw.get("quiet") in (2.0, 5.0, 10.0):  # the grids' form: the lab's suppressor
            assert all(np.array_equal(sc[n], suppress(r, "rest", quiet=kw["quiet"]))
                       for n, r in raw.items())


if __name__ == "__main__":
    main()
