"""Isotonic calibration by bins (:class:`BinCalibrator`), the risk learners' last step
(:mod:`processors.calibration`; its own module since s22).

>>> c = BinCalibrator()
>>> c.score_one(0.25)
0.25
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field

from processors.nativeattr import mypyc_attr


@mypyc_attr(serializable=True)
@dataclass(slots=True)
class BinCalibrator:
    """Isotonic calibration by bins, learnt from labels.

    ``bins`` equal-width bins of the raw probability; each holds its labels plus ``strength``
    pseudo-observations at its mid-point (so an empty bin keeps the raw value, and a few labels
    move it only a little); pool-adjacent-violators makes the bin values non-decreasing, and
    the output interpolates linearly between bin mid-points (and in proportion to the raw
    value beyond the outer ones). With no labels it is the identity. The counts and the table
    are ``array('d')`` (s22: ~0.3 KB less a calibrator than lists of floats), written in a
    snapshot as the lists they were.
    """

    bins: int = 10
    strength: float = 20.0
    n: array[float] = field(default_factory=lambda: _zeros(10))
    pos: array[float] = field(default_factory=lambda: _zeros(10))
    table: array[float] = field(default_factory=lambda: _identity(10))

    def __post_init__(self) -> None:
        if len(self.n) != self.bins:
            self.n, self.pos = _zeros(self.bins), _zeros(self.bins)
            self.table = _identity(self.bins)

    def __getstate__(self) -> tuple[None, dict[str, object]]:
        """Pickled with lists, as format 2 wrote them (``processors.legacy_state``)."""
        return None, {"bins": self.bins, "strength": self.strength, "n": list(self.n),
                      "pos": list(self.pos), "table": list(self.table)}

    def copy(self) -> BinCalibrator:
        return BinCalibrator(self.bins, self.strength, array("d", self.n),
                             array("d", self.pos), array("d", self.table))

    def score_one(self, p: float) -> float:
        if not math.isfinite(p):
            return 0.0
        u = p * self.bins - 0.5  # position in units of bins, 0 = the first mid-point
        if u <= 0:  # below the first mid-point, or above the last: in proportion to p
            return self.table[0] * max(0.0, p) * 2 * self.bins
        if u >= self.bins - 1:
            return min(1.0, self.table[-1] * p / (1.0 - 0.5 / self.bins))
        k = int(u)
        return self.table[k] + (u - k) * (self.table[k + 1] - self.table[k])

    def learn_one(self, p: float, y: bool) -> None:
        if not math.isfinite(p):
            return None
        k = min(self.bins - 1, max(0, int(p * self.bins)))
        self.n[k] += 1.0
        self.pos[k] += float(y)
        # pool adjacent violators over (weighted mean, weight, bins) blocks: each bin's block
        # merged into the ones before it while they stand higher (the same sums as merging
        # the last two blocks in turn; #14: no list per block)
        blocks: list[tuple[float, float, int]] = []
        bins, strength, n, pos = self.bins, self.strength, self.n, self.pos
        for j in range(bins):
            w = n[j] + strength
            m, c = (pos[j] + strength * ((j + 0.5) / bins)) / w, 1
            while blocks and blocks[-1][0] > m:
                m1, w1, c1 = blocks.pop()
                m, w, c = (m1 * w1 + m * w) / (w1 + w), w1 + w, c1 + c
            blocks.append((m, w, c))
        table, i = self.table, 0
        for m, _, c in blocks:
            for _ in range(c):
                table[i] = m
                i += 1
        return None


def _zeros(bins: int) -> array[float]:
    return array("d", bytes(8 * bins))


def _identity(bins: int) -> array[float]:
    """Each bin's mid-point: the table of a calibrator with no labels."""
    return array("d", [(k + 0.5) / bins for k in range(bins)])
