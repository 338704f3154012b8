"""The Page-Hinkley drift test of a metric's outlook, slotted (#14 memory).

The arithmetic of River's ``drift.PageHinkley`` (0.21-0.22), step for step and in the same
order, so every float is the same bit for bit; River's object held its fading mean in a
``stats.Mean``, a bound method for its test and an instance dict (~550 bytes a metric with
its floats), this one holds the same numbers in one slotted object (~270 bytes). The state
format writes it with the fields and bytes River's was written with
(:mod:`processors.stateschema`, tag ``PageHinkley``); :meth:`PageHinkley.from_river` takes a
River object over (a format-2 pickle holds one).

>>> ph = PageHinkley(min_instances=3, delta=0.0, threshold=1.0, alpha=1.0, mode="up")
>>> [(ph.update(x), ph.drift_detected)[1] for x in (0.0, 0.0, 0.0, 5.0, 5.0)]
[False, False, False, True, False]
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["MODES", "PageHinkley"]

MODES = ("up", "down", "both")


class PageHinkley:
    """Two-sided (or one-sided) Page-Hinkley test on a fading mean (see the module doc)."""

    __slots__ = ("min_instances", "delta", "threshold", "alpha", "mode", "n", "mean",
                 "sum_increase", "sum_decrease", "min_increase", "max_decrease",
                 "drift_detected")

    def __init__(self, min_instances: int = 30, delta: float = 0.005, threshold: float = 50.0,
                 alpha: float = 1 - 0.0001, mode: str = "both") -> None:
        if mode not in MODES:
            raise ValueError(f"Invalid 'mode'. Valid values are: {list(MODES)}")
        self.min_instances = min_instances
        self.delta = delta
        self.threshold = threshold
        self.alpha = alpha
        self.mode = mode
        self._reset()

    def _reset(self) -> None:
        self.drift_detected = False
        self.n: float = 0  # River's Mean: an int 0, then a float count
        self.mean = 0.0
        self.sum_increase = 0.0
        self.sum_decrease = 0.0
        self.min_increase = math.inf
        self.max_decrease: float = -1

    def update(self, x: float) -> None:
        """Take one value; ``drift_detected`` says whether it showed a change."""
        if self.drift_detected:
            self._reset()
        self.n += 1.0
        self.mean += (1.0 / self.n) * (x - self.mean)
        dev = x - self.mean
        self.sum_increase = self.alpha * self.sum_increase + dev - self.delta
        self.sum_decrease = self.alpha * self.sum_decrease + dev + self.delta
        if self.sum_increase < self.min_increase:
            self.min_increase = self.sum_increase
        if self.sum_decrease > self.max_decrease:
            self.max_decrease = self.sum_decrease
        if self.n >= self.min_instances:
            up = self.sum_increase - self.min_increase > self.threshold
            down = self.max_decrease - self.sum_decrease > self.threshold
            self.drift_detected = (up if self.mode == "up" else down if self.mode == "down"
                                   else up or down)

    @classmethod
    def from_river(cls, ph: Any) -> PageHinkley:
        """The same test, taken over from River's ``drift.PageHinkley`` ``ph``."""
        out = cls(ph.min_instances, ph.delta, ph.threshold, ph.alpha, ph.mode)
        out.n, out.mean = ph._x_mean.n, ph._x_mean._mean
        out.sum_increase, out.sum_decrease = ph._sum_increase, ph._sum_decrease
        out.min_increase, out.max_decrease = ph._min_increase, ph._max_decrease
        out.drift_detected = bool(ph._drift_detected)
        return out
