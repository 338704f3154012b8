"""The grids of :mod:`streams.lab.cv`: every parameter of the detectors chosen on labels, with
the values tried (``docs/modelling.md`` lists them with their cross-validated scores).

The first value of each is the shipped default, so the default configuration is a grid's first
(and wins ties)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

# Every parameter of the NAB detectors that was chosen on labels, with the values tried. The
# first value of each is the shipped default, so the default configuration is the grid's first
# (and wins ties). "probation" sets a parameter per series from NAB's probationary rows of that
# file: warm = those rows, rest = a fifth of them (as NAB's harness sets CAD OSE's rest period).
# Not chosen on labels, so a single value: bins = 8 (CAD OSE's numNormValueBits = 3), alarm =
# 0.75 (CAD OSE's baseThreshold), rest per series (CAD OSE's rule); tail_min = 100 (HTM's
# estimationSamples) is left at ContextNovelty's default.
NOVELTY_GRID: dict[str, tuple[Any, ...]] = {
    "warm": (250, 150, 400, "probation"),
    "bins": (8,),
    "order": (3, 2, 4),
    "margin": (0.25, 0.5),
    "rest": ("probation",),
    "alarm": (0.75,),
    "s_lo": (3.0, 2.0),
    "s_hi": (6.0, 8.0),
}
# Issue #15, s16: the same with the second, coarser context resolution (ContextNovelty's
# ``coarse``: levels // coarse); 4 first (the value proposed), then the others tried.
# Issue #15, s19: ``hold`` (the rest restarts at every raw onset; one value, set before it was
# scored: docs/modelling.md, "NAB round eight"), the pipeline's default since s19.
# s20: the grids' names follow the pipeline's configuration: "novelty" is the default's
# (``hold``), "novelty-coarse" the ``anomaly_coarse`` option under it; the suppressor before
# s19 is named explicitly ("-nohold": rounds four to seven's figures); "novelty-hold" is kept
# for s19's commands (the same grid as "novelty").
NOVELTY_NOHOLD_GRID = NOVELTY_GRID
NOVELTY_HOLD_GRID: dict[str, tuple[Any, ...]] = {**NOVELTY_GRID, "hold": (True,)}
# s21: a partial onset confirmed (processors.noveltyconfirm; ``confirm``: the horizon,
# "probation" = the file's rest; ``quiet``: rests after the previous raw onset past which none
# is needed), off first, quiet's values in the order tried; measured, not adopted (lab only:
# docs/modelling.md, "NAB round ten").
NOVELTY_CONFIRM_GRID: dict[str, tuple[Any, ...]] = {
    **NOVELTY_HOLD_GRID, "confirm": (0, "probation"), "quiet": (10.0, 5.0, 2.0)}
# s23: the same with ``quiet`` from the series ("record": no confirmation past the longest gap
# between earlier raw onsets; no value), off first (docs/modelling.md, "NAB round eleven").
NOVELTY_RECORDGAP_GRID: dict[str, tuple[Any, ...]] = {
    **NOVELTY_HOLD_GRID, "confirm": (0, "probation"), "quiet": ("record",)}
# s24: the same with ``floor`` (a confirmation needs more than ``floor`` contexts new: 1 = a raw
# 0.25 no longer confirms; docs/modelling.md, "NAB round twelve"), 0 first; :func:`expand`
# leaves out ``floor`` without ``confirm`` (the same scores as ``floor`` 0): 288 configurations.
NOVELTY_FLOOR_GRID: dict[str, tuple[Any, ...]] = {**NOVELTY_RECORDGAP_GRID, "floor": (0, 1)}
NOVELTY_COARSE_NOHOLD_GRID: dict[str, tuple[Any, ...]] = {**NOVELTY_GRID, "coarse": (4, 2, 3, 8)}
NOVELTY_COARSE_GRID: dict[str, tuple[Any, ...]] = {**NOVELTY_COARSE_NOHOLD_GRID, "hold": (True,)}
# Before issue #15's third round: six parameters on labels, rest a constant (docs/modelling.md).
NOVELTY_TUNED_GRID: dict[str, tuple[Any, ...]] = {
    "warm": (250, 150, 400, "probation"),
    "bins": (8, 6, 12),
    "order": (3, 2, 4),
    "margin": (0.25, 0.5),
    "rest": (150, 100, 200),
    "alarm": (0.75, 0.6),
}
LIKELIHOOD_GRID: dict[str, tuple[Any, ...]] = {
    "warm": (250,), "bins": (8,), "order": (3,), "margin": (0.25,),
    "short": (10, 5, 20),
    "rate": (0.001, 0.0003, 0.003),
    "rest": (0, 75, 150),
    "alarm": (0.5, 0.3, 0.7),
}
GRIDS = {"novelty": NOVELTY_HOLD_GRID, "novelty-coarse": NOVELTY_COARSE_GRID,
         "novelty-nohold": NOVELTY_NOHOLD_GRID,
         "novelty-coarse-nohold": NOVELTY_COARSE_NOHOLD_GRID,
         "novelty-hold": NOVELTY_HOLD_GRID, "novelty-confirm": NOVELTY_CONFIRM_GRID,
         "novelty-recordgap": NOVELTY_RECORDGAP_GRID, "novelty-floor": NOVELTY_FLOOR_GRID,
         "novelty-tuned": NOVELTY_TUNED_GRID,
         "likelihood": LIKELIHOOD_GRID}


def per_series(value: Any, rows: int, rule: Callable[[int], int]) -> Any:
    """A grid value, or, for ``"probation"``, the per-series value ``rule(rows)`` of a series
    of ``rows`` rows (NAB's probationary rows for ``warm``, a fifth of them for ``rest``).

    >>> from streams.lab.scoring.nab import probation_rows, rest_rows
    >>> per_series(150, 4032, rest_rows), per_series("probation", 4032, probation_rows)
    (150, 604)
    >>> per_series("probation", 4032, rest_rows)
    120
    """
    return rule(rows) if value == "probation" else value


# SMD's multivariate model (processors.multivariate.JointDeviation); first = default.
JOINT_GRID: dict[str, tuple[Any, ...]] = {
    "alpha": (0.0001, 0.0003, 0.001),
    "k": (1, 2, 3, 5),  # 1 was added after a first run over both machines (docs/modelling.md)
    "smooth": (0.1, 0.05, 0.2, 0.3),
    # added in issue #15's second round, after trying 0.5-8 on both machines (docs/modelling.md)
    "freeze": (1.0, 0.5, 2.0, 0.0),
    # round four: each metric's |z| in units of its usual extremes, learnt over 3,000 windows
    # (not tuned: one value, set before it was scored; docs/modelling.md)
    "calibrate": (3000,),
}


def expand(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination, the first key varying slowest; a ``floor`` without ``confirm`` (inert:
    the same scores as ``floor`` 0) is left out.

    >>> len(expand(NOVELTY_FLOOR_GRID)), len(expand(NOVELTY_RECORDGAP_GRID))
    (288, 192)
    """
    keys = list(grid)
    combos = (dict(zip(keys, vals, strict=True)) for vals in itertools.product(*grid.values()))
    return [c for c in combos if not (c.get("floor") and not c.get("confirm"))]
