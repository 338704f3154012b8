"""Right-sizing: the allocation of one resource of one component, step by step, from its demand.

One object per (component, resource) and policy. The same objects run in ``forewarn backtest
trace`` (``streams/lab/trace/``) and under ``forewarn actuate`` (``RightSizing`` below turns
samples into AllocationCommands). Each object serves a vector of values of its policy's one
knob at once (a backtest sweeps them over one pass; live, a vector of one)::

    sz = make_sizer("forewarn", knobs=(0.99,), capacity=8_218_624.0, step_s=300, delay_s=300)
    sz.observe(ts_s, usage, allocated)   # a new demand sample; the allocation(s) then in effect
    sz.on_risk(risk)                     # a RiskScore dict from the Pipeline (forewarn only)
    sz.recommend(ts_s)                   # np.ndarray: the allocation to ask for now, per knob

``usage`` is absolute demand (MHz, KB, ...), never a utilisation, so a change of allocation is
not read as a change of demand. ``capacity`` is the component's provisioned size (what
``static`` keeps, and every policy's allocation before its first decision takes effect).

Policies (each cites what it follows; its knob and default in ``KNOBS``):

* ``static``  — the provisioned capacity, times the knob (1.0).
* ``reactive`` — Kubernetes' HorizontalPodAutoscaler rule on one resource: target utilisation
  (knob, 0.7), 10 % tolerance, scale-down to the largest recommendation of the last 300 s.
* ``vpa`` — the Kubernetes Vertical Pod Autoscaler recommender and updater (knob: the target
  percentile, 0.9); see :class:`VpaSizer`.
* ``autopilot`` — Google Autopilot's moving-window recommenders and its choice among window
  models by cost (Rzadca et al., EuroSys 2020; knob: the safety margin, 0.1); see
  :class:`AutopilotSizer`.
* ``forewarn`` — an upper quantile (knob, 0.99) of *forecast demand* over the next delay plus
  decision interval, learnt per component; the pipeline's risk overrides it; see
  :class:`ForewarnSizer`.

Pure: no clock, no I/O, no Kafka; event time only (``ts`` in seconds).
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from schemas.errors import ConfigError

__all__ = ["DEFAULT_KNOB", "KNOBS", "POLICIES", "AutopilotSizer", "DecayingHistogram",
           "ForewarnSizer", "HpaSizer", "InEffect", "RightSizing", "Sizer", "StaticSizer",
           "VpaSizer", "make_sizer"]

Record = dict[str, Any]

POLICIES = ("static", "reactive", "vpa", "autopilot", "forewarn")
# each policy's knob: (name, default, the sweep of ``backtest trace --policy all``)
KNOBS: dict[str, tuple[str, float, tuple[float, ...]]] = {
    "static": ("scale", 1.0, (0.1, 0.2, 0.35, 0.5, 0.75, 1.0)),
    "reactive": ("target", 0.7, (0.3, 0.45, 0.6, 0.7, 0.8, 0.9)),
    "vpa": ("percentile", 0.9, (0.5, 0.7, 0.8, 0.9, 0.95, 0.99)),
    "autopilot": ("margin", 0.1, (0.0, 0.1, 0.25, 0.5, 1.0, 2.0)),
    "forewarn": ("lambda", 0.01, (3.0, 1.0, 0.5, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001)),
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


class Sizer:
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

    def observe(self, ts: int, usage: float, allocated: np.ndarray | None = None) -> None:
        raise NotImplementedError

    def on_risk(self, risk: Mapping[str, Any]) -> None:  # noqa: B027 (optional hook)
        """A RiskScore of the component (only ``forewarn`` uses it)."""

    def recommend(self, ts: int) -> np.ndarray:
        return self.alloc.copy()


class StaticSizer(Sizer):
    """The trace's provisioned capacity (times the knob): what the fleet actually had."""

    policy = "static"

    def observe(self, ts: int, usage: float, allocated: np.ndarray | None = None,
                capacity: float | None = None) -> None:
        if capacity is not None and capacity > 0:
            self.capacity = float(capacity)

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

    Knob: the target percentile. Samples weigh 1 each (VPA weighs CPU samples by the pod's
    request, at least 0.1 core: an allocation-dependent weight left out here)."""

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
        self.hist = DecayingHistogram(unit, 1.05, most, half_life_s)
        self.minimum = 250.0 * KB_PER_MB if self.is_mem else 0.025 * MHZ_PER_CORE
        self.first_ts: int | None = None
        self.samples = 0.0
        self.interval_start: int | None = None
        self.peak = 0.0
        self.last_update = np.full(self.knobs.size, -np.inf)
        self.ps = np.concatenate([self.knobs, [0.5, 0.95]])

    def _add(self, ts: int, value: float) -> None:
        if not self.is_mem:
            self.hist.add(value, 1.0, ts)
            return
        if self.interval_start is None or ts >= self.interval_start + DAY:
            self.interval_start, self.peak = ts, 0.0
        if value > self.peak:
            if self.peak > 0:
                self.hist.subtract(self.peak, 1.0, self.interval_start)
            self.hist.add(value, 1.0, self.interval_start)
            self.peak = value

    def observe(self, ts: int, usage: float, allocated: np.ndarray | None = None) -> None:
        cur = self.alloc if allocated is None else allocated
        if self.first_ts is None:
            self.first_ts = ts
        self.samples += self.step_s / 60.0
        self._add(ts, usage)
        oom = np.zeros(self.knobs.size, dtype=bool)
        if self.is_mem:
            oom = usage > cur
            if oom.any():
                limit = float(np.max(cur[oom]))
                self._add(ts, max(1.2 * limit, limit + 100.0 * KB_PER_MB))
        est = self.hist.percentiles(self.ps) * (1.0 + self.margin)
        est = np.maximum(est, self.minimum)
        target, lower, upper = est[:-2], est[-2], est[-1]
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
                hist, p = h
                hist.add(usage, 1.0, ts)
                self.limits[i] = float(hist.percentiles(np.array([p]))[0])
        best = int(np.argmin(self.cost))
        if best != self.chosen and self.cost[best] < (1.0 - self.switch) * self.cost[self.chosen]:
            self.chosen = best
        self.alloc = np.maximum(self.limits[self.chosen] * (1.0 + self.knobs), self.floor)


class ForewarnSizer(Sizer):
    """forewarn's sizing: the allocation that covers the forecast demand over the time it will
    be in effect, ``[now + delay, now + delay + step)``, learnt per component.

    * **forecast distributions**: each of up to three forecasters keeps, per component, a
      decaying histogram (half-life ``spread_half_life_s``) of what then happened — the
      largest demand in that window, plus ``u`` (1 % of the provisioned size, so an idle
      component has a scale) — as a ratio to its own point forecast ``b``, recorded once the
      window has passed:

      - ``level``: ``b`` = the larger of the recent level (EWMA, half-life
        ``level_half_life_s``) and the last sample (demand that wanders, CPU);
      - ``window``: ``b`` = ``u``: the distribution of demand itself, as VPA's and
        Autopilot's histograms (demand that is noise around a level, memory);
      - ``peak``: ``b`` = the component's peak of the last day;

    * **combination**: the forecast distribution is the mixture of the forecasters', weighted
      by how well each predicted this component lately (Bayesian model averaging: weights
      proportional to ``exp`` of each one's log predictive density of what happened,
      summed under exponential decay with half-life ``score_half_life_s``);
    * **sizing**: over the candidate allocations (the histograms' bucket ends times their
      ``b``), the one that minimises ``P(demand > a) + lambda * a``: capacity is added while
      one more core (cpu) or GiB (mem) still cuts the probability of a violation by
      ``lambda`` (the knob, 0.01: 1 % per core / GiB). A large component gets a lower quantile
      than a small one, as a fleet that pays for capacity wants. ``cost=False`` reads the knob
      as a plain quantile of the mixture instead;
    * **cold start**: the provisioned size until ``warm`` outcomes are in;
    * **override**: when the pipeline's risk is at or over ``risk_threshold``, or its anomaly
      at or over ``anomaly_threshold``, the allocation is at least the pipeline's forecast upper
      bound of the demand (its ``cpu.util`` / ``mem.used_pct`` forecast times the provisioned
      size) and the largest demand of the last hour, until ``override_s`` after the risk.
    """

    policy = "forewarn"
    METRIC = {"cpu": ("cpu.util", 1.0), "mem": ("mem.used_pct", 0.01)}
    FORECASTERS = ("level", "window", "peak")

    def __init__(self, *args: Any, level_half_life_s: int = 900,
                 spread_half_life_s: int = 7 * DAY, score_half_life_s: int = 3 * DAY,
                 warm: int = 24, risk_threshold: float = 0.6, anomaly_threshold: float = 0.9,
                 override_s: int = HOUR, cost: bool = True,
                 forecasters: Sequence[str] = FORECASTERS, combine: str = "cost",
                 **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.cost = cost
        if cost and np.any(self.knobs <= 0):
            raise ConfigError("forewarn: lambda > 0")
        if not cost and (np.any(self.knobs <= 0) or np.any(self.knobs >= 1)):
            raise ConfigError("forewarn: quantile within (0, 1)")
        bad = [f for f in forecasters if f not in self.FORECASTERS]
        if bad or not forecasters:
            raise ConfigError(f"forewarn: forecasters among {self.FORECASTERS}, not {bad}")
        if combine not in ("cost", "mixture"):
            raise ConfigError("forewarn: combine is 'cost' or 'mixture'")
        self.combine = combine
        per = GIB_KB if self.resource == "mem" else MHZ_PER_CORE
        self.lam = self.knobs[:, None] / per
        self.level_hl = level_half_life_s
        self.unit = max(0.01 * self.capacity, 1e-6)
        self.names = tuple(forecasters)
        # ratio * 100 of what happened over each forecaster's b: up to 10^4 times b
        self.hists = [DecayingHistogram(0.01, 1.02, 1e6, spread_half_life_s)
                      for _ in self.names]
        self.widths = np.diff(self.hists[0].starts) / 100.0  # bucket widths, in ratio
        self.score = np.zeros(len(self.names))  # decayed log predictive density
        # per knob and forecaster: decayed violations + lambda * allocation of its own sizing
        self.costs = np.zeros((self.knobs.size, len(self.names)))
        self.score_hl = score_half_life_s
        self.score_ts: int | None = None
        self.resolved = 0
        self.warm = warm
        self.level: float | None = None
        self.last_ts: int | None = None
        self.last = 0.0
        # (decision ts, each forecaster's b, each one's allocation per knob or None)
        self.pending: deque[tuple[int, np.ndarray, np.ndarray | None]] = deque()
        self.hist_ts: list[int] = []  # about a day of demand, for the windows
        self.hist_v: list[float] = []
        self.peak: deque[tuple[int, float]] = deque()  # max of the last day (monotone)
        self.risk_threshold, self.anomaly_threshold = risk_threshold, anomaly_threshold
        self.override_s = override_s
        self.override_until = -1
        self.override_level = 0.0

    def _max_between(self, start: int, end: int) -> float | None:
        i = bisect.bisect_left(self.hist_ts, start)
        j = bisect.bisect_left(self.hist_ts, end)
        return max(self.hist_v[i:j]) if j > i else None

    def weights(self) -> np.ndarray:
        """Each forecaster's weight in the mixture (they sum to 1)."""
        w = np.exp(self.score - self.score.max())
        weights: np.ndarray = w / w.sum()
        return weights

    def observe(self, ts: int, usage: float, allocated: np.ndarray | None = None) -> None:
        if self.level is None or self.last_ts is None:
            self.level = usage
        else:
            a = 1.0 - 2.0 ** (-(ts - self.last_ts) / self.level_hl)
            self.level += a * (usage - self.level)
        self.last_ts, self.last = ts, usage
        self.hist_ts.append(ts)
        self.hist_v.append(usage)
        if len(self.hist_ts) > 4096:  # keep about a day and a bit
            cut = bisect.bisect_left(self.hist_ts, ts - DAY - 2 * HOUR)
            del self.hist_ts[:cut], self.hist_v[:cut]
        while self.peak and self.peak[-1][1] <= usage:
            self.peak.pop()
        self.peak.append((ts, usage))
        while self.peak[0][0] <= ts - DAY:
            self.peak.popleft()
        span = self.delay_s + self.step_s
        while self.pending and ts >= self.pending[0][0] + span:
            t0, bases, own = self.pending.popleft()
            got = self._max_between(t0 + self.delay_s, t0 + span)
            if got is not None:
                self._learn(ts, got + self.unit, bases, own)

    def _learn(self, ts: int, got: float, bases: np.ndarray, own: np.ndarray | None) -> None:
        if self.score_ts is not None and len(self.names) > 1:
            decay = 2.0 ** (-(ts - self.score_ts) / self.score_hl)
            self.score *= decay
            self.costs *= decay
        self.score_ts = ts
        if own is not None:
            self.costs += (got > own) + self.lam * own
        for i, h in enumerate(self.hists):
            ratio = 100.0 * got / bases[i]
            if len(self.names) > 1 and not h.empty():
                j = h.index(ratio)
                density = h.weights[j] / h.total / (self.widths[j] * bases[i])
                self.score[i] += math.log(max(density * self.unit, 1e-9))
            h.add(ratio, 1.0, ts)
        self.resolved += 1

    def on_risk(self, risk: Mapping[str, Any]) -> None:
        r, an = float(risk.get("risk") or 0.0), float(risk.get("anomaly") or 0.0)
        if r < self.risk_threshold and an < self.anomaly_threshold:
            return
        ts = int(risk["ts"]) // 1000
        metric, scale = self.METRIC.get(self.resource, ("", 0.0))
        want = self._max_between(ts - HOUR, ts + 1) or 0.0
        horizon = self.delay_s + self.step_s
        for f in risk.get("forecasts") or ():
            if f.get("metric") == metric and f.get("horizon_s", 0) <= max(horizon, 300):
                upper = f.get("upper")
                if isinstance(upper, int | float) and math.isfinite(upper):
                    want = max(want, float(upper) * scale * self.capacity)
        if ts > self.override_until:
            self.override_level = 0.0
        self.override_until = ts + self.override_s
        self.override_level = max(want, self.override_level)

    def _bases(self) -> np.ndarray:
        out = []
        for name in self.names:
            if name == "level":
                out.append(max(self.level or 0.0, self.last) + self.unit)
            elif name == "window":
                out.append(self.unit)
            else:
                out.append((self.peak[0][1] if self.peak else self.last) + self.unit)
        return np.asarray(out)

    def _one(self, i: int, base: float) -> np.ndarray:
        """Forecaster ``i``'s own allocation (plus ``u``) per knob."""
        h = self.hists[i]
        amounts = base * h.starts[1:] / 100.0
        surv = 1.0 - np.cumsum(h.weights) / h.total
        if not self.cost:
            idx = np.searchsorted(-surv, -(1.0 - self.knobs))
            at_q: np.ndarray = amounts[np.minimum(idx, amounts.size - 1)]
            return at_q
        best: np.ndarray = amounts[np.argmin(surv[None, :] + self.lam * amounts[None, :], axis=1)]
        return best

    def _size(self, bases: np.ndarray) -> np.ndarray:
        """The allocation (plus ``u``) per knob under the weighted mixture."""
        w = self.weights()
        amounts = [b * h.starts[1:] / 100.0 for b, h in zip(bases, self.hists, strict=True)]
        survs = [1.0 - np.cumsum(h.weights) / h.total for h in self.hists]
        if len(amounts) == 1:
            grid, surv = amounts[0], survs[0]
        else:
            grid = np.unique(np.concatenate(amounts))
            surv = np.zeros(grid.size)
            for wi, a, s in zip(w, amounts, survs, strict=True):
                if wi < 1e-4:
                    continue
                i = np.searchsorted(a, grid, side="right") - 1  # survival is a step function
                surv += wi * np.where(i >= 0, s[np.maximum(i, 0)], 1.0)
        if not self.cost:
            idx = np.searchsorted(-surv, -(1.0 - self.knobs))  # first a with surv <= 1 - q
            at_q: np.ndarray = grid[np.minimum(idx, grid.size - 1)]
            return at_q
        j = np.argmin(surv[None, :] + self.lam * grid[None, :], axis=1)
        best: np.ndarray = grid[j]
        return best

    def recommend(self, ts: int) -> np.ndarray:
        if self.level is None:
            return self.alloc.copy()
        bases = self._bases()
        own = None
        if self.resolved < self.warm:
            self.alloc = np.full(self.knobs.size, max(self.capacity, float(bases[0])))
        elif self.combine == "cost" and len(self.names) > 1:
            own = np.stack([self._one(i, b) for i, b in enumerate(bases)], axis=1)
            best = np.argmin(self.costs, axis=1)
            self.alloc = np.maximum(own[np.arange(self.knobs.size), best] - self.unit,
                                    self.floor)
        else:
            self.alloc = np.maximum(self._size(bases) - self.unit, self.floor)
        if own is None and len(self.names) > 1 and self.combine == "cost" and \
                self.resolved >= self.warm:
            own = None
        self.pending.append((ts, bases, own))
        if ts <= self.override_until:
            self.alloc = np.maximum(self.alloc, self.override_level)
        return self.alloc.copy()


class InEffect:
    """Which decided allocation is in effect when: a decision made at ``ts`` acts from the
    first sample at or after ``ts + delay_s`` (never on the sample it was made on); before
    any, ``initial``. The backtest's loop and :class:`RightSizing` both keep time with it."""

    def __init__(self, initial: np.ndarray, delay_s: int) -> None:
        self.effect = initial
        self.delay_s = int(delay_s)
        self.decided: deque[tuple[int, np.ndarray]] = deque()

    def at(self, ts: int) -> np.ndarray:
        """The allocation in effect at ``ts`` (call before deciding on the sample at ``ts``)."""
        while self.decided and self.decided[0][0] + self.delay_s <= ts:
            self.effect = self.decided.popleft()[1]
        return self.effect

    def decide(self, ts: int, alloc: np.ndarray) -> None:
        self.decided.append((ts, alloc))


# resource -> (metric of demand, metric of the provisioned size, AllocationCommand resource)
SAMPLE_METRICS: dict[str, tuple[str, str, str]] = {
    "cpu": ("cpu.used_mhz", "cpu.capacity_mhz", "CPU_QUOTA"),
    "mem": ("mem.used_kb", "mem.capacity_kb", "MEMORY_HIGH"),
}
UNITS = {"cpu": "MHz", "mem": "KB"}


class RightSizing:
    """The fleet face ``forewarn actuate`` drives: one :class:`Sizer` per (component, resource)
    of one policy at one knob, fed ``MetricSample`` dicts (demand ``cpu.used_mhz``,
    ``mem.used_kb``; the provisioned size ``cpu.capacity_mhz``, ``mem.capacity_kb``, as
    ``streams.sim.traces.samples`` writes them) and ``RiskScore`` dicts; out come
    ``AllocationCommand`` GRANTs whenever a sizing changes: ``amount`` = the new allocation
    minus the provisioned size (negative: under it), in the demand's unit, ``lease_s`` 0
    (it holds until the next), the allocation itself in ``reason``. A component's sizer starts
    on its first sample that gives its provisioned size. The backtest
    (``streams/lab/trace/loop.py``) calls the same sizers with the same :class:`InEffect`
    timing, so the same samples give the same decisions."""

    def __init__(self, policy: str, knob: float | None = None, *, delay_s: int = 300,
                 step_s: int = 300, resources: Sequence[str] = ("cpu", "mem"),
                 options: Mapping[str, Any] | None = None) -> None:
        if policy not in POLICIES:
            raise ConfigError(f"unknown policy {policy!r}; known: {', '.join(POLICIES)}")
        self.policy = policy
        self.knob = DEFAULT_KNOB[policy] if knob is None else float(knob)
        self.delay_s, self.step_s = int(delay_s), int(step_s)
        self.resources = tuple(resources)
        self.options = dict(options or {})
        self.sizers: dict[tuple[str, str], Sizer] = {}
        self.timing: dict[tuple[str, str], InEffect] = {}
        self.capacity: dict[tuple[str, str], float] = {}
        self.sent: dict[tuple[str, str], float] = {}
        self.decisions: dict[tuple[str, str], list[tuple[int, float]]] = {}
        self.risk: dict[str, float] = {}

    def on_risk(self, risk: Mapping[str, Any]) -> None:
        comp = str(risk.get("component", ""))
        self.risk[comp] = float(risk.get("risk") or 0.0)
        for res in self.resources:
            sz = self.sizers.get((comp, res))
            if sz is not None:
                sz.on_risk(risk)

    def on_sample(self, sample: Mapping[str, Any]) -> list[Record]:
        comp = str(sample["component"])
        host = str(sample.get("host") or comp.split("/", 1)[0])
        ts = int(sample["ts"]) // 1000
        metrics = sample.get("metrics") or {}
        out: list[Record] = []
        for res in self.resources:
            used_m, cap_m, resource = SAMPLE_METRICS[res]
            usage = metrics.get(used_m)
            if not isinstance(usage, int | float) or not math.isfinite(usage):
                continue
            key = (comp, res)
            if key not in self.sizers:
                cap = metrics.get(cap_m)
                if not isinstance(cap, int | float) or not cap > 0:
                    continue
                self.capacity[key] = float(cap)
                self.sizers[key] = make_sizer(self.policy, (self.knob,), capacity=float(cap),
                                              step_s=self.step_s, delay_s=self.delay_s,
                                              resource=res, **self.options)
                self.timing[key] = InEffect(np.array([float(cap)]), self.delay_s)
                self.sent[key] = float(cap)
            sz, timing = self.sizers[key], self.timing[key]
            effect = timing.at(ts)
            if isinstance(sz, StaticSizer):
                cap = metrics.get(cap_m)
                sz.observe(ts, float(usage), effect,
                           capacity=float(cap) if isinstance(cap, int | float) else None)
            else:
                sz.observe(ts, float(usage), effect)
            alloc = sz.recommend(ts)
            timing.decide(ts, alloc)
            amount = float(alloc[0])
            self.decisions.setdefault(key, []).append((ts, amount))
            if amount != self.sent[key]:
                self.sent[key] = amount
                out.append(self._command(comp, host, ts, res, resource, amount))
        return out

    def _command(self, comp: str, host: str, ts: int, res: str, resource: str,
                 amount: float) -> Record:
        from actuators.contract import command_id, make_command

        extra = amount - self.capacity[(comp, res)]
        cid = command_id(comp, resource, "GRANT", f"rightsize|{self.policy}|{ts}")
        return make_command(cid, comp, host, ts * 1000, resource, "GRANT", extra, UNITS[res], 0,
                            f"rightsize {self.policy} {KNOBS[self.policy][0]}={self.knob:g}: "
                            f"allocation {amount:.6g} {UNITS[res]}", self.risk.get(comp, 0.0),
                            0)


_CLASSES: dict[str, type[Sizer]] = {"static": StaticSizer, "reactive": HpaSizer,
                                    "vpa": VpaSizer, "autopilot": AutopilotSizer,
                                    "forewarn": ForewarnSizer}


def make_sizer(policy: str, knobs: Sequence[float] | None = None, *, capacity: float,
               step_s: int = 300, delay_s: int = 300, resource: str = "cpu",
               **options: Any) -> Sizer:
    """A :class:`Sizer` of ``policy`` for ``knobs`` (default: the policy's default knob)."""
    if policy not in _CLASSES:
        raise ConfigError(f"unknown policy {policy!r}; known: {', '.join(POLICIES)}")
    knobs = (DEFAULT_KNOB[policy],) if knobs is None else tuple(knobs)
    return _CLASSES[policy](knobs, capacity, step_s=step_s, delay_s=delay_s, resource=resource,
                            **options)
