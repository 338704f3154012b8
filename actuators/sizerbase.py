"""The pieces every right-sizing policy shares: the policies' knobs and units, the decaying
histogram (VPA's and forewarn's), and the :class:`Sizer` seam (see :mod:`actuators.rightsize`)."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from schemas.errors import ConfigError

Record = dict[str, Any]

POLICIES = ("static", "reactive", "vpa", "autopilot", "forewarn")
# each policy's knob: (name, default, the sweep of ``backtest trace --policy all``)
KNOBS: dict[str, tuple[str, float, tuple[float, ...]]] = {
    "static": ("scale", 1.0, (0.1, 0.2, 0.35, 0.5, 0.75, 1.0)),
    "reactive": ("target", 0.7, (0.3, 0.45, 0.6, 0.7, 0.8, 0.9)),
    "vpa": ("percentile", 0.9, (0.5, 0.7, 0.8, 0.9, 0.95, 0.99)),
    "autopilot": ("margin", 0.1, (0.0, 0.1, 0.25, 0.5, 1.0, 2.0)),
    "forewarn": ("lambda", 0.01, (1.0, 0.3, 0.2, 0.15, 0.1, 0.05, 0.03, 0.01, 0.003, 0.001,
                                  5e-4, 3e-4, 2e-4, 1.5e-4, 1e-4, 3e-5, 1e-5, 1e-6, 1e-7)),
}
DEFAULT_KNOB = {p: k[1] for p, k in KNOBS.items()}
HOUR = 3600
DAY = 86400
# CPU in the trace is in MHz; VPA's and Autopilot's constants are in cores: GWA-T-12's
# provisioned MHz per core (5851.9989 MHz / 2 cores on VM 1, the most common size).
MHZ_PER_CORE = 2926.0
KB_PER_MB = 1000.0 * 1000.0 / 1024.0  # VPA's "MB" are 10^6 bytes
GIB_KB = 1024.0 * 1024.0


class DecayingHistogram:
    """Kubernetes VPA's decaying histogram (``pkg/recommender/util``): exponential buckets
    (bucket ``i`` starts at ``first * (ratio**i - 1) / (ratio - 1)``), each sample weighted
    ``w * 2 ** ((ts - ref) / half_life)`` so that older samples weigh half as much per
    half-life; a percentile is the *end* of the bucket where the cumulative weight reaches it."""

    def __init__(self, first: float, ratio: float, most: float, half_life_s: float) -> None:
        if first <= 0 or ratio <= 1 or most <= first or half_life_s <= 0:
            raise ConfigError("DecayingHistogram: need first > 0, ratio > 1, most > first, "
                              "half_life_s > 0")
        self.first, self.ratio, self.half_life = first, ratio, float(half_life_s)
        n = int(math.ceil(math.log(most * (ratio - 1) / first + 1) / math.log(ratio))) + 1
        self.starts = first * (ratio ** np.arange(n + 1) - 1) / (ratio - 1)
        self.weights = np.zeros(n)
        self.ref: float | None = None  # reference timestamp of the weights (s)
        self.total = 0.0
        self._log_ratio = math.log(ratio)

    def index(self, value: float) -> int:
        if value < self.first:
            return 0
        i = int(math.log(value * (self.ratio - 1) / self.first + 1) / self._log_ratio)
        return min(i, self.weights.size - 1)

    def add(self, value: float, weight: float, ts: float) -> None:
        if self.ref is None:
            self.ref = ts
        exponent = (ts - self.ref) / self.half_life
        if exponent > 60:  # keep the numbers finite: move the reference forward
            self.weights *= 2.0 ** -exponent
            self.total *= 2.0 ** -exponent
            self.ref, exponent = ts, 0.0
        w = weight * 2.0 ** exponent
        self.weights[self.index(value)] += w
        self.total += w

    def subtract(self, value: float, weight: float, ts: float) -> None:
        if self.ref is None:
            return
        i = self.index(value)
        w = min(weight * 2.0 ** ((ts - self.ref) / self.half_life), self.weights[i])
        self.weights[i] -= w
        self.total -= w

    def empty(self) -> bool:
        return self.total <= 1e-12

    def percentiles(self, ps: np.ndarray) -> np.ndarray:
        """The end of the bucket where the cumulative weight reaches each ``p``; 0 if empty."""
        if self.empty():
            return np.zeros(len(ps))
        cum = np.cumsum(self.weights)
        idx = np.searchsorted(cum, np.asarray(ps) * cum[-1] - 1e-12 * cum[-1])
        idx = np.minimum(idx, self.weights.size - 1)
        ends: np.ndarray = self.starts[idx + 1]
        return ends


class Sizer(ABC):
    """One (component, resource) under one policy, for a vector of knob values."""

    policy = ""

    def __init__(self, knobs: Sequence[float], capacity: float, step_s: int = 300,
                 delay_s: int = 300, resource: str = "cpu") -> None:
        if not knobs:
            raise ConfigError(f"{self.policy}: at least one knob value")
        if resource not in ("cpu", "mem", "disk", "net"):
            raise ConfigError(f"unknown resource {resource!r}")
        self.knobs = np.asarray(knobs, dtype=np.float64)
        self.capacity = float(capacity) if capacity > 0 else 0.0
        self.step_s = int(step_s)
        self.delay_s = int(delay_s)
        self.resource = resource
        self.floor = 0.01 * self.capacity  # no policy sizes a resource to nothing
        self.alloc = np.full(self.knobs.size, self.capacity)  # what it last asked for

    @abstractmethod
    def observe(self, ts: int, usage: float, allocated: np.ndarray | None = None) -> None:
        """Learn one demand sample (each policy its own way)."""

    def observe_capacity(self, ts: int, capacity: float) -> None:
        """The provisioned size as of ``ts`` (the capacity metric that comes with each sample;
        it can change, e.g. a VM resized from 1.3 to 4 GB): what ``static`` keeps, the 1 %
        floor, and forewarn's unit and prior follow it. Ignored unless positive."""
        if capacity > 0 and capacity != self.capacity:
            self.capacity = float(capacity)
            self.floor = 0.01 * self.capacity

    def on_risk(self, risk: Mapping[str, Any]) -> None:  # noqa: B027 (optional hook)
        """A RiskScore of the component (only ``forewarn`` uses it)."""

    def recommend(self, ts: int) -> np.ndarray:
        return self.alloc.copy()
