"""The allocators people use instead, each from its published description: ``static``, HPA
(``reactive``), the VPA recommender (``vpa``) and Google Autopilot's recommenders (``autopilot``).
The same objects run in ``forewarn backtest trace`` and live (see :mod:`actuators.rightsize`)."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np

from actuators.sizerbase import DAY, HOUR, KB_PER_MB, MHZ_PER_CORE, DecayingHistogram, Sizer
from schemas.errors import ConfigError


def percentiles_rows(hists: Sequence[DecayingHistogram], ps: np.ndarray) -> np.ndarray:
    """``np.stack([h.percentiles(p) for h, p in zip(hists, ps)])`` at once, the same floats, for
    histograms built alike (one set of bucket starts): the running sums row by row, and
    searchsorted (left) as the count of sums under each threshold (the sums never decrease:
    the weights stay >= 0, ``subtract`` taking at most a bucket's weight)."""
    cum = np.cumsum(np.stack([h.weights for h in hists]), axis=1)
    last = cum[:, -1:]
    idx = np.count_nonzero(cum[:, None, :] < (ps * last - 1e-12 * last)[:, :, None], axis=2)
    ends: np.ndarray = hists[0].starts[np.minimum(idx, cum.shape[1] - 1) + 1]
    empty = np.array([h.empty() for h in hists])
    return np.where(empty[:, None], 0.0, ends)


class StaticSizer(Sizer):
    """The trace's provisioned capacity (times the knob): what the fleet actually had."""

    policy = "static"

    def observe(self, ts: int, usage: float, allocated: np.ndarray | None = None) -> None:
        """Demand plays no part: the size is the provisioned one (``observe_capacity``)."""

    def recommend(self, ts: int) -> np.ndarray:
        return self.knobs * self.capacity


class HpaSizer(Sizer):
    """Kubernetes HorizontalPodAutoscaler's rule (``pkg/controller/podautoscaler``, v2
    defaults) applied to one resource's size: ``desired = allocated * utilisation / target``
    (= usage / target); no change while ``utilisation / target`` is within ``tolerance`` (0.1)
    of 1; a scale-up acts at once; a scale-down goes only to the largest recommendation of the
    last ``stabilisation_s`` (300 s, the default scale-down stabilisation window). Knob: the
    target utilisation (0.7). As ``actuators/reactive.py`` does on the simulator's pools."""

    policy = "reactive"

    def __init__(self, *args: Any, tolerance: float = 0.1, stabilisation_s: int = 300,
                 **kw: Any) -> None:
        super().__init__(*args, **kw)
        if np.any(self.knobs <= 0) or np.any(self.knobs > 1):
            raise ConfigError("reactive: target utilisation within (0, 1]")
        self.tolerance = tolerance
        self.window = stabilisation_s
        self.recs: deque[tuple[int, np.ndarray]] = deque()

    def observe(self, ts: int, usage: float, allocated: np.ndarray | None = None) -> None:
        cur = self.alloc if allocated is None else allocated
        util = np.divide(usage, cur, out=np.full(cur.size, np.inf), where=cur > 0)
        ratio = util / self.knobs
        rec = np.where(np.abs(ratio - 1.0) <= self.tolerance, cur, usage / self.knobs)
        rec = np.maximum(rec, self.floor)
        self.recs.append((ts, rec))
        while self.recs and self.recs[0][0] < ts - self.window:
            self.recs.popleft()
        stab = np.max(np.stack([r for _, r in self.recs]), axis=0)
        self.alloc = np.where(rec > cur, rec, np.minimum(cur, stab))


class VpaSizer(Sizer):
    """The Kubernetes Vertical Pod Autoscaler (``vertical-pod-autoscaler/pkg/recommender``,
    ``logic/recommender.go``, ``model/aggregate_container_state.go``; updater
    ``pkg/updater/priority``), with its defaults:

    * CPU: every usage sample into a decaying histogram (first bucket 0.01 cores, ratio 1.05,
      24 h half-life); memory: the *peak* of each 24 h aggregation interval (first bucket
      10 MB, ratio 1.05, 24 h half-life), a new peak replacing the interval's old one.
    * target = the knob's percentile (``targetCPUPercentile`` = 0.9, memory peaks 0.9) times
      1 + ``safetyMarginFraction`` (0.15), at least 25 millicores / 250 MB (pod minima);
      lower bound = P50, upper bound = P95 (same margin) scaled by the confidence
      multipliers ``(1 + 0.001/c) ** -2`` and ``(1 + 1/c)``, with ``c`` the history in days
      (``min(lifespan, samples/1440)``, samples at one a minute).
    * OOM (memory demand over the allocation in effect): a memory sample of
      ``max(1.2 * limit, limit + 100 MB)`` (``OOMBumpUpRatio``, ``OOMMinBumpUp``), and the
      pod restarts with the new target.
    * the updater applies the target when the allocation in effect is outside
      [lower bound, upper bound], or differs from the target by over 10 % and the last update
      is 12 h old (``podLifetimeUpdateThreshold``, ``defaultUpdateThreshold``).

    Knob: the target percentile; each knob value is a VPA of its own (memory: its own
    histogram, so one knob's OOMs are no sample of another's; shared until 2026-12-05 s17,
    when a sweep's low percentiles' OOMs lifted its 0.9 point). Samples weigh 1 each (VPA
    weighs CPU samples by the pod's request, at least 0.1 core: an allocation-dependent
    weight left out here)."""

    policy = "vpa"

    def __init__(self, *args: Any, margin: float = 0.15, half_life_s: int = DAY,
                 **kw: Any) -> None:
        super().__init__(*args, **kw)
        if np.any(self.knobs <= 0) or np.any(self.knobs > 1):
            raise ConfigError("vpa: target percentile within (0, 1]")
        self.margin = margin
        self.is_mem = self.resource == "mem"
        unit = KB_PER_MB * 10.0 if self.is_mem else 0.01 * MHZ_PER_CORE
        most = 1e12 / 1024.0 if self.is_mem else 1000.0 * MHZ_PER_CORE
        # memory: one histogram per knob value, as each is a VPA of its own: an OOM bump-up is
        # a sample of that one's state (shared, one knob's OOMs moved every other's target)
        n = self.knobs.size if self.is_mem else 1
        self.hists = [DecayingHistogram(unit, 1.05, most, half_life_s) for _ in range(n)]
        self.hist = self.hists[0]
        self.minimum = 250.0 * KB_PER_MB if self.is_mem else 0.025 * MHZ_PER_CORE
        self.first_ts: int | None = None
        self.samples = 0.0
        self.interval_start: int | None = None
        self.peak = np.zeros(n)  # per knob: the aggregation interval's peak (memory)
        self.last_update = np.full(self.knobs.size, -np.inf)
        self.ps = np.concatenate([self.knobs, [0.5, 0.95]])

    def _add(self, ts: int, value: float, which: Sequence[int] | np.ndarray) -> None:
        """A memory sample into the histograms of the knobs ``which`` (CPU: the one)."""
        if not self.is_mem:
            self.hist.add(value, 1.0, ts)
            return
        if self.interval_start is None or ts >= self.interval_start + DAY:
            self.interval_start = ts
            self.peak[:] = 0.0
        for i in which:
            if value > self.peak[i]:
                if self.peak[i] > 0:
                    self.hists[i].subtract(float(self.peak[i]), 1.0, self.interval_start)
                self.hists[i].add(value, 1.0, self.interval_start)
                self.peak[i] = value

    def _estimates(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per knob: the target, P50 and P95, with the margin and the minimum."""
        if self.is_mem:
            ps = np.stack([self.knobs, np.full(self.knobs.size, 0.5),
                           np.full(self.knobs.size, 0.95)], axis=1)
            est = np.maximum(percentiles_rows(self.hists, ps) * (1.0 + self.margin), self.minimum)
            return est[:, 0], est[:, 1], est[:, 2]
        flat = np.maximum(self.hist.percentiles(self.ps) * (1.0 + self.margin), self.minimum)
        return flat[:-2], flat[-2], flat[-1]

    def observe(self, ts: int, usage: float, allocated: np.ndarray | None = None) -> None:
        cur = self.alloc if allocated is None else allocated
        if self.first_ts is None:
            self.first_ts = ts
        self.samples += self.step_s / 60.0
        self._add(ts, usage, range(self.peak.size))
        oom = np.zeros(self.knobs.size, dtype=bool)
        if self.is_mem:
            oom = usage > cur
            for i in np.flatnonzero(oom):  # each knob's own OOM, at its own limit
                limit = float(cur[i])
                self._add(ts, max(1.2 * limit, limit + 100.0 * KB_PER_MB), (int(i),))
        target, lower, upper = self._estimates()
        days = max(min((ts - self.first_ts) / DAY, self.samples / 1440.0), 1e-9)
        lower = lower * (1.0 + 0.001 / days) ** -2
        upper = upper * (1.0 + 1.0 / days)
        outside = (cur < lower) | (cur > upper)
        drift = (np.abs(target - cur) > 0.1 * np.maximum(cur, 1e-12)) & \
            (ts - self.last_update >= 12 * HOUR)
        update = outside | drift | oom
        self.last_update = np.where(update, ts, self.last_update)
        self.alloc = np.where(update, target, cur)


class AutopilotSizer(Sizer):
    """Google Autopilot's vertical recommenders (K. Rzadca et al., "Autopilot: workload
    autoscaling at Google", EuroSys 2020, sections 3.2 and 3.3), on 5-minute samples:

    * moving-window recommenders: CPU, a percentile of the usage samples under exponentially
      decaying weights (P95, half-life 12 h, for a serving job); memory, the max of the peaks
      in a window (the last 24 h... S_max); the limit is the recommendation times
      ``1 + margin`` (the knob, 0.1);
    * the choice among window models by cost (section 3.3): several models (half-lives and
      percentiles for CPU, window lengths and a P98 for memory) run side by side; each is
      charged, under exponential decay (half-life 12 h), ``w_o`` per unit of usage over its
      limit (overrun) and ``w_u`` per unit under it (underrun); the cheapest model gives the
      limit, a change of model only when it is at least ``switch`` (10 %) cheaper than the
      current one. ``w_o = 10``, ``w_u = 1`` are ours: the paper gives no values.
    """

    policy = "autopilot"

    CPU_MODELS = ((12 * HOUR, 0.95), (12 * HOUR, 0.99), (2 * HOUR, 0.95), (48 * HOUR, 0.98))
    MEM_MODELS = ((DAY, 1.0), (2 * DAY, 1.0), (6 * HOUR, 1.0), (2 * DAY, 0.98))

    def __init__(self, *args: Any, choose: bool = True, w_over: float = 10.0,
                 w_under: float = 1.0, switch: float = 0.1, **kw: Any) -> None:
        super().__init__(*args, **kw)
        if np.any(self.knobs < 0):
            raise ConfigError("autopilot: margin >= 0")
        self.is_mem = self.resource == "mem"
        self.models: tuple[tuple[int, float], ...] = (
            self.MEM_MODELS if self.is_mem else self.CPU_MODELS)
        if not choose:
            self.models = self.models[:1]
        unit = 1.0 if self.is_mem else 0.01 * MHZ_PER_CORE
        self.w_over, self.w_under, self.switch = w_over, w_under, switch
        self.hists: list[tuple[DecayingHistogram, float] | None] = []
        self.windows: list[deque[tuple[int, float]]] = []
        for span, p in self.models:
            if self.is_mem and p >= 1.0:
                self.hists.append(None)
                self.windows.append(deque())
            else:
                first = max(unit, 1e-9) if not self.is_mem else KB_PER_MB
                self.hists.append((DecayingHistogram(first, 1.05, max(self.capacity, 1.0) * 1e3,
                                                     span), p))
                self.windows.append(deque())
        self.limits = np.full(len(self.models), self.capacity)
        self.by_hist = [i for i, h in enumerate(self.hists) if h is not None]
        self.hist_rows = [h[0] for h in self.hists if h is not None]
        self.hist_ps = np.array([[h[1]] for h in self.hists if h is not None])
        self.cost = np.zeros(len(self.models))
        self.chosen = 0
        self.last_ts: int | None = None

    def observe(self, ts: int, usage: float, allocated: np.ndarray | None = None) -> None:
        # charge each model's limit (the one it gave for this step) first, then learn
        if self.last_ts is not None:
            decay = 2.0 ** (-(ts - self.last_ts) / (12 * HOUR))
            over = np.maximum(usage - self.limits, 0.0)
            under = np.maximum(self.limits - usage, 0.0)
            self.cost = self.cost * decay + self.w_over * over + self.w_under * under
        self.last_ts = ts
        for i, (span, _p) in enumerate(self.models):
            h = self.hists[i]
            if h is None:
                win = self.windows[i]
                while win and win[-1][1] <= usage:
                    win.pop()
                win.append((ts, usage))
                while win[0][0] <= ts - span:
                    win.popleft()
                self.limits[i] = win[0][1]
            else:
                h[0].add(usage, 1.0, ts)
        if self.by_hist:  # each histogram model's percentile, all at once
            self.limits[self.by_hist] = percentiles_rows(self.hist_rows, self.hist_ps)[:, 0]
        best = int(np.argmin(self.cost))
        if best != self.chosen and self.cost[best] < (1.0 - self.switch) * self.cost[self.chosen]:
            self.chosen = best
        self.alloc = np.maximum(self.limits[self.chosen] * (1.0 + self.knobs), self.floor)
