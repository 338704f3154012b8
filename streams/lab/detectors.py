"""Reference detectors for univariate series (NAB baselines), River-style.

Every detector follows one small contract (:class:`UnivariateDetector`): ``score_one(x)``
returns an anomaly score in ``[0, 1]`` and never changes state; ``learn_one(x)`` updates state
and returns ``None``. Run them score-then-learn, as :func:`run_detector` does. Constructor
parameters are stored unchanged, and all state is plain attributes, so a detector pickles and
can be rebuilt from its parameters.

* :class:`NullDetector` — always 0 (NAB's null baseline; normalised score 0 by construction).
* :class:`RandomDetector` — uniform noise, deterministic in ``(seed, row index)``.
* :class:`WindowedGaussian` — NAB's ``windowedGaussian`` detector.
* :class:`HSTDetector` — River's ``HalfSpaceTrees`` with its defaults, on the value scaled
  online to ``[0, 1]``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
from river import anomaly


@runtime_checkable
class UnivariateDetector(Protocol):
    """Score one value (no side effects), then learn it."""

    def learn_one(self, x: float) -> None: ...

    def score_one(self, x: float) -> float: ...


def run_detector(detector: UnivariateDetector, values: Iterable[float]) -> npt.NDArray[np.float64]:
    """Scores of ``values`` in order, scoring each before learning it."""
    out: list[float] = []
    for x in values:
        value = float(x)
        out.append(detector.score_one(value))
        detector.learn_one(value)
    return np.asarray(out, dtype=np.float64)


class NullDetector:
    """Always 0."""

    def learn_one(self, x: float) -> None:
        return None

    def score_one(self, x: float) -> float:
        return 0.0


_MASK64 = (1 << 64) - 1


def _splitmix64(z: int) -> int:
    z = (z + 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


class RandomDetector:
    """A uniform ``[0, 1)`` score that is a pure function of ``(seed, rows learned so far)``.

    Hashing the row index (SplitMix64) instead of advancing an RNG keeps ``score_one`` free of
    side effects: scoring twice gives the same number, and only ``learn_one`` moves on.
    """

    def __init__(self, seed: int = 42) -> None:
        self.seed = seed
        self._n = 0

    def learn_one(self, x: float) -> None:
        self._n += 1

    def score_one(self, x: float) -> float:
        key = _splitmix64((self.seed & _MASK64) ^ _splitmix64(self._n))
        return (key >> 11) / float(1 << 53)


class WindowedGaussian:
    """NAB's ``windowedGaussian``: ``1 - Q(|x - mean| / std)`` over a sliding window.

    The window fills one value at a time up to ``window`` (mean and std refit after each);
    then it slides by ``step`` values at once, refitting after each slide. ``std`` is the
    population standard deviation, replaced by ``1e-6`` when zero. The first value scores 0.
    Scores lie in ``[0.5, 1)`` once a value has been seen, as in NAB.
    """

    def __init__(self, window: int = 6400, step: int = 100) -> None:
        if not 1 <= step <= window:
            raise ValueError(f"need 1 <= step ({step}) <= window ({window})")
        self.window = window
        self.step = step
        self._data = np.zeros(window, dtype=np.float64)  # the first _n slots are the window
        self._n = 0
        self._pending: list[float] = []
        self._mean = 0.0
        self._std = 1.0

    def score_one(self, x: float) -> float:
        if self._n == 0:
            return 0.0
        z = abs(x - self._mean) / self._std
        return 1.0 - 0.5 * math.erfc(z / math.sqrt(2.0))

    def learn_one(self, x: float) -> None:
        if self._n < self.window:
            self._data[self._n] = x
            self._n += 1
            self._refit()
            return
        self._pending.append(x)
        if len(self._pending) == self.step:
            keep = self.window - self.step
            self._data[:keep] = self._data[self.step :]
            self._data[keep:] = self._pending
            self._pending = []
            self._refit()

    def _refit(self) -> None:
        arr = self._data[: self._n]
        self._mean = float(np.mean(arr))
        std = float(np.std(arr))
        self._std = std if std != 0.0 else 1e-6


class HSTDetector:
    """River's ``HalfSpaceTrees`` (``n_trees=10, height=8, window_size=250``, River's defaults)
    on ``x`` scaled to ``[0, 1]`` by the running min and max of the values learned so far.

    Scores are 0 for River's first window of ``window_size`` values. Values outside the range
    seen are clipped to it when scored. Cost: each call walks every tree in pure Python,
    roughly tens of microseconds per value.
    """

    def __init__(
        self, n_trees: int = 10, height: int = 8, window_size: int = 250, seed: int = 42
    ) -> None:
        self.n_trees = n_trees
        self.height = height
        self.window_size = window_size
        self.seed = seed
        self._model = anomaly.HalfSpaceTrees(
            n_trees=n_trees, height=height, window_size=window_size, seed=seed
        )
        self._min = math.inf
        self._max = -math.inf

    def _scaled(self, x: float) -> dict[str, float]:
        span = self._max - self._min
        if not span > 0.0:
            return {"x": 0.5}
        return {"x": min(1.0, max(0.0, (x - self._min) / span))}

    def score_one(self, x: float) -> float:
        return float(self._model.score_one(self._scaled(x)))

    def learn_one(self, x: float) -> None:
        self._min = min(self._min, x)
        self._max = max(self._max, x)
        self._model.learn_one(self._scaled(x))
