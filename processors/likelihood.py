"""HTM's anomaly likelihood over a raw score stream, and the NAB detector built on it
(moved out of :mod:`processors.univariate` in issue #15, s16, unchanged)."""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from processors.univariate import ContextNovelty, Suppressor


class AnomalyLikelihood:
    """HTM's anomaly likelihood over any raw score stream, as a score in [0, 1].

    The raw scores' moving average over the last ``short`` values is compared with a normal
    distribution fitted to the history of such averages: over the first ``learn`` values by
    their plain mean and variance (the score is 0 meanwhile), then by exponentially weighted
    ones (rate ``rate``: the last ~1/rate values). The mean is floored at ``mean_floor`` and the
    variance at ``var_floor`` (HTM's 0.03 and 0.0003), so a detector that has been silent does
    not make its first small blip a certainty. ``L = 1 - P(X >= average)`` is the likelihood.
    As in HTM, a tail below ``red`` right after another is lifted to ``yellow`` (a run of
    certainties alarms once). The score is HTM's log-likelihood, ``log(tail) / log(1e-10)``:
    0.3 at a tail of 1e-3, 0.5 at 1e-5, 1 at 1e-10, so one threshold means one tail
    probability on every series, whatever the raw score's own scale.
    """

    def __init__(
        self,
        short: int = 10,
        rate: float = 0.001,
        learn: int = 300,
        mean_floor: float = 0.03,
        var_floor: float = 0.0003,
        red: float = 1e-5,
        yellow: float = 1e-3,
    ) -> None:
        if short < 1 or learn < 1 or not 0 < rate < 1:
            raise ValueError("short and learn must be >= 1, rate in (0, 1)")
        self.short = short
        self.rate = rate
        self.learn = learn
        self.mean_floor = mean_floor
        self.var_floor = var_floor
        self.red = red
        self.yellow = yellow
        self.window: deque[float] = deque(maxlen=short)
        self.n = 0
        self.mean = 0.0
        self.var = 0.0  # a sum of squares while n < learn, the variance after
        self.prev_red = False

    def step(self, raw: float) -> float:
        """Score ``raw`` (its recent average's tail), then learn it; returns the score."""
        self.window.append(raw if math.isfinite(raw) else 0.0)
        avg = sum(self.window) / len(self.window)
        if self.n < self.learn:  # Welford
            self.n += 1
            d = avg - self.mean
            self.mean += d / self.n
            self.var += d * (avg - self.mean)
            if self.n == self.learn:
                self.var /= self.n
            return 0.0
        mu = max(self.mean, self.mean_floor)
        sd = math.sqrt(max(self.var, self.var_floor))
        tail = 0.5 * math.erfc((avg - mu) / sd / math.sqrt(2.0)) if avg > mu else 1.0
        if tail <= self.red:
            if self.prev_red:
                tail = self.yellow
            self.prev_red = True
        else:
            self.prev_red = False
        d = avg - self.mean
        self.mean += self.rate * d
        self.var = (1.0 - self.rate) * (self.var + self.rate * d * d)
        return max(0.0, min(1.0, math.log(tail + 1e-10) / math.log(1e-10)))


class LikelihoodDetector:
    """:class:`ContextNovelty`'s raw score through :class:`AnomalyLikelihood`, then a
    :class:`Suppressor` (``rest=0``: none), for one float series."""

    def __init__(
        self,
        rest: int = 150,
        alarm: float = 0.5,
        likelihood: dict[str, Any] | None = None,
        **novelty: Any,
    ) -> None:
        self.rest = rest
        self.alarm = alarm
        self.novelty = dict(novelty)
        self.model = ContextNovelty(**novelty)
        self.likelihood = AnomalyLikelihood(**(likelihood or {}))
        self.suppressor = Suppressor(rest, alarm)

    def step(self, x: float) -> float:
        """Score ``x``, then learn it; returns the score."""
        return self.suppressor.step(self.likelihood.step(self.model.step(x)))
