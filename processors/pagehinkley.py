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
from typing import Any, NamedTuple

from processors.nativeattr import mypyc_attr
from processors.sharedparams import pickled, shared

__all__ = ["MODES", "PageHinkley"]

MODES = ("up", "down", "both")


class PageHinkleyParams(NamedTuple):
    """A :class:`PageHinkley`'s constant parameters, one object per configuration (#14 s17:
    :mod:`processors.sharedparams`)."""

    min_instances: int = 30
    delta: float = 0.005
    threshold: float = 50.0
    alpha: float = 1 - 0.0001
    mode: str = "both"


@mypyc_attr(serializable=True)
class PageHinkley:
    """Two-sided (or one-sided) Page-Hinkley test on a fading mean (see the module doc)."""

    __slots__ = ("p", "n", "mean", "sum_increase", "sum_decrease", "min_increase",
                 "max_decrease", "drift_detected")
    p: PageHinkleyParams

    def __init__(self, min_instances: int = 30, delta: float = 0.005, threshold: float = 50.0,
                 alpha: float = 1 - 0.0001, mode: str = "both") -> None:
        if mode not in MODES:
            raise ValueError(f"Invalid 'mode'. Valid values are: {list(MODES)}")
        self.p = shared(PageHinkleyParams(min_instances, delta, threshold, alpha, mode))
        self._reset()

    def __getstate__(self) -> tuple[None, dict[str, Any]]:
        return pickled(self)  # the parameters as fields (no parameter tuple in a pickle)

    def _reset(self) -> None:
        self.drift_detected = False
        self.n: int | float = 0  # River's Mean: an int 0, then a float count
        self.mean = 0.0
        self.sum_increase = 0.0
        self.sum_decrease = 0.0
        self.min_increase = math.inf
        self.max_decrease: int | float = -1

    def update(self, x: float) -> None:
        """Take one value; ``drift_detected`` says whether it showed a change."""
        if self.drift_detected:
            self._reset()
        p = self.p
        self.n += 1.0
        self.mean += (1.0 / self.n) * (x - self.mean)
        dev = x - self.mean
        self.sum_increase = p.alpha * self.sum_increase + dev - p.delta
        self.sum_decrease = p.alpha * self.sum_decrease + dev + p.delta
        if self.sum_increase < self.min_increase:
            self.min_increase = self.sum_increase
        if self.sum_decrease > self.max_decrease:
            self.max_decrease = self.sum_decrease
        if self.n >= p.min_instances:
            up = self.sum_increase - self.min_increase > p.threshold
            down = self.max_decrease - self.sum_decrease > p.threshold
            self.drift_detected = (up if p.mode == "up" else down if p.mode == "down"
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

    # the parameters, read from ``p`` and set by replacing it with the shared copy
    # (processors.sharedparams; written out, not added by ``expose``: a mypyc class, s22)
    @property
    def min_instances(self) -> int:
        return self.p.min_instances

    @min_instances.setter
    def min_instances(self, value: int) -> None:
        base = self.p if hasattr(self, "p") else PageHinkleyParams()
        self.p = shared(base._replace(min_instances=value))

    @property
    def delta(self) -> float:
        return self.p.delta

    @delta.setter
    def delta(self, value: float) -> None:
        base = self.p if hasattr(self, "p") else PageHinkleyParams()
        self.p = shared(base._replace(delta=value))

    @property
    def threshold(self) -> float:
        return self.p.threshold

    @threshold.setter
    def threshold(self, value: float) -> None:
        base = self.p if hasattr(self, "p") else PageHinkleyParams()
        self.p = shared(base._replace(threshold=value))

    @property
    def alpha(self) -> float:
        return self.p.alpha

    @alpha.setter
    def alpha(self, value: float) -> None:
        base = self.p if hasattr(self, "p") else PageHinkleyParams()
        self.p = shared(base._replace(alpha=value))

    @property
    def mode(self) -> str:
        return self.p.mode

    @mode.setter
    def mode(self, value: str) -> None:
        base = self.p if hasattr(self, "p") else PageHinkleyParams()
        self.p = shared(base._replace(mode=value))
