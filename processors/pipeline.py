"""The processing core's one entry point: samples in, health signals and risk scores out.

The live Faust worker, the replay tool and the benchmarks all drive :class:`Pipeline`; it is
pure (no clock, no I/O) and deterministic: the same samples in the same order give the same
records, floats included. Per component it keeps event-time windows, health rule state, an
anomaly detector and one forecaster per rule metric; that state moves between workers through
:meth:`Pipeline.snapshot` / :meth:`Pipeline.restore` (about 8-15 KB a component).

* every accepted sample is judged by the health rules at once -> ``HealthSignal`` dicts;
* every closed window gives exactly one ``RiskScore`` dict (``ts`` = window end);
* an unusable sample (no finite numeric metric, ``ts`` not an int, no component) or a late
  one comes back in ``Output.rejected`` with its reason; duplicates are counted, not echoed.
  Nothing a sample holds makes :meth:`Pipeline.ingest` raise.

Watermarks are per component: a window closes when that component's own event time has moved
``lateness_s`` past its end. :meth:`Pipeline.advance_to` moves every component to a partition's
stream time (so a silent component's last window closes); :meth:`Pipeline.flush` closes all.
"""

from __future__ import annotations

import math
import pickle
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from processors.anomaly import AnomalyDetector, anomaly_features
from processors.features import (
    ACCEPTED,
    DUPLICATE,
    ClosedWindow,
    MetricFeatures,
    Windower,
    clean_metrics,
)
from processors.forecast import Forecaster, make_forecaster
from processors.health import HealthEvaluator, HealthState, Rule, Status, default_rules
from processors.risk import (
    BreachEstimate,
    LogisticRisk,
    RiskModel,
    contributors,
    estimate_breach,
    pattern_of,
)
from schemas.errors import ConfigError, ContractError

SNAPSHOT_FORMAT = 1
TS_LIMIT_MS = 2**53  # beyond any real clock, and where int64/float maths would start to bite


@dataclass(frozen=True)
class PipelineConfig:
    """Everything the core needs, read once at the entry point."""

    window_s: int = 60
    lateness_s: int = 30
    horizon_s: int = 900
    heartbeat_s: int = 60
    seed: int = 42
    model_version: str = "forewarn-0.1"
    rules: tuple[Rule, ...] = field(default_factory=default_rules)
    min_windows_warm: int = 5
    forecast_horizons_s: tuple[int, ...] = (60, 300, 900)
    forecaster: str = "trend"  # trend | snarimax
    trend_windows: int = 10  # windows in the trend fit
    anomaly_trees: int = 10
    anomaly_height: int = 6
    anomaly_window: int = 50  # HalfSpaceTrees reference window, in windows

    def __post_init__(self) -> None:
        problems = []
        if self.window_s <= 0 or self.lateness_s < 0 or self.horizon_s <= 0:
            problems.append("window_s and horizon_s must be > 0, lateness_s >= 0")
        if self.heartbeat_s <= 0 or self.min_windows_warm < 0 or self.trend_windows < 3:
            problems.append("heartbeat_s must be > 0, min_windows_warm >= 0, trend_windows >= 3")
        if not self.forecast_horizons_s or min(self.forecast_horizons_s) <= 0:
            problems.append("forecast_horizons_s must hold positive horizons")
        if self.forecaster not in ("trend", "snarimax"):
            problems.append(f"forecaster must be 'trend' or 'snarimax', not {self.forecaster!r}")
        if problems:
            raise ConfigError("PipelineConfig: " + "; ".join(problems))
        object.__setattr__(self, "rules", tuple(self.rules))
        object.__setattr__(
            self, "forecast_horizons_s", tuple(sorted(set(self.forecast_horizons_s)))
        )

    def state_key(self) -> dict[str, Any]:
        """The parameters a component's state is only valid under."""
        return {
            "window_s": self.window_s,
            "lateness_s": self.lateness_s,
            "seed": self.seed,
            "forecaster": self.forecaster,
            "anomaly": (self.anomaly_trees, self.anomaly_height, self.anomaly_window),
        }


@dataclass
class Output:
    health: list[dict[str, Any]] = field(default_factory=list)
    risk: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[tuple[dict[str, Any], str]] = field(default_factory=list)  # (sample, reason)

    def extend(self, other: Output) -> None:
        self.health += other.health
        self.risk += other.risk
        self.rejected += other.rejected


@dataclass
class ComponentState:
    """One component's whole state (a value; pickled by :meth:`Pipeline.snapshot`)."""

    host: str
    windower: Windower
    detector: AnomalyDetector
    health: HealthState = field(default_factory=HealthState)
    forecasters: dict[str, Forecaster] = field(default_factory=dict)
    window_status: dict[int, dict[str, int]] = field(default_factory=dict)  # start -> statuses
    last_status: dict[str, int] = field(default_factory=dict)
    samples_seen: int = 0
    windows_seen: int = 0


class Pipeline:
    """Per-component windows, health, anomaly, forecasts and risk.

    >>> p = Pipeline(PipelineConfig())
    >>> def sample(ts_ms, used_pct):
    ...     return {"component": "web-1", "host": "web-1", "ts": ts_ms,
    ...             "metrics": {"disk.used_pct": used_pct}, "tags": {}}
    >>> [(s["metric"], s["status"]) for s in p.ingest(sample(10_000, 97.0)).health]
    [('disk.used_pct', 'FAIL')]
    >>> [(r["ts"], r["risk"] > 0.95) for r in p.ingest(sample(90_000, 97.0)).risk]
    [(60000, True)]
    >>> p.ingest(sample(5_000, 50.0)).rejected[0][1][:5]
    'late:'
    """

    def __init__(
        self, config: PipelineConfig | None = None, risk_model: RiskModel | None = None
    ) -> None:
        self.config = config if config is not None else PipelineConfig()
        self.risk_model: RiskModel = risk_model if risk_model is not None else LogisticRisk()
        self.evaluator = HealthEvaluator(self.config.rules, self.config.heartbeat_s)
        self._rules_by_metric: dict[str, list[Rule]] = {}
        for rule in self.config.rules:
            self._rules_by_metric.setdefault(rule.metric, []).append(rule)
        self._rule_metric = {r.name: r.metric for r in self.config.rules}
        c = self.config
        step = c.window_s
        self._grid = sorted(
            {
                *range(0, c.horizon_s + 1, step),
                *(h for h in c.forecast_horizons_s if h <= c.horizon_s),
                c.horizon_s,
            }
        )
        self._states: dict[str, ComponentState] = {}
        self.duplicates = 0

    # -- public API -------------------------------------------------------------------------

    def components(self) -> list[str]:
        return sorted(self._states)

    def ingest(self, sample: Mapping[str, Any]) -> Output:
        """Take one MetricSample dict; never raises on what the sample holds."""
        out = Output()
        record = dict(sample) if isinstance(sample, Mapping) else {}
        reason, component, ts, metrics = _validate(sample)
        if reason:
            out.rejected.append((record, reason))
            return out
        st = self._state(component, record.get("host"))
        status, taken = st.windower.add(ts, metrics)
        if status == DUPLICATE:
            self.duplicates += 1
            return out
        if status != ACCEPTED:
            out.rejected.append((record, self._late_reason(st, ts)))
            return out
        st.samples_seen += 1
        out.health = self.evaluator.evaluate(component, ts, taken)
        if st.health.last_ts_ms == ts:  # judged in order: remember the status at this time
            start = st.windower.window_start(ts)
            # statuses change only with a non-heartbeat signal; otherwise the copy stands
            if start not in st.window_status or any(not h["heartbeat"] for h in out.health):
                st.window_status[start] = {k: int(v) for k, v in st.health.statuses().items()}
        for window in st.windower.advance():
            out.risk.append(self._score(component, st, window))
        return out

    def advance_to(self, watermark_ms: int, component: str | None = None) -> Output:
        """Move watermarks forward to ``watermark_ms`` (a partition's stream time)."""
        out = Output()
        for name in [component] if component is not None else self.components():
            st = self._states.get(name)
            if st is not None:
                out.risk += [self._score(name, st, w) for w in st.windower.advance(watermark_ms)]
        return out

    def flush(self, component: str | None = None) -> Output:
        """Close every open window (of one component, or of all in name order)."""
        out = Output()
        for name in [component] if component is not None else self.components():
            st = self._states.get(name)
            if st is not None:
                out.risk += [self._score(name, st, w) for w in st.windower.flush()]
        return out

    def snapshot(self, component: str) -> bytes:
        """The component's state as bytes, valid for a pipeline with the same parameters."""
        if component not in self._states:
            raise KeyError(f"no state for component {component!r}")
        payload = {
            "format": SNAPSHOT_FORMAT,
            "component": component,
            "key": self.config.state_key(),
            "state": self._states[component],
        }
        return zlib.compress(pickle.dumps(payload, protocol=5), 6)

    def restore(self, component: str, blob: bytes) -> None:
        """Replace the component's state with a snapshot's (trusted bytes: it is a pickle)."""
        try:
            payload = pickle.loads(zlib.decompress(blob))
        except Exception as exc:  # any corruption surfaces as one error type
            raise ContractError(
                f"checkpoint for component {component!r} is unreadable: {exc}"
            ) from exc
        if not isinstance(payload, dict) or payload.get("format") != SNAPSHOT_FORMAT:
            raise ContractError(f"checkpoint for component {component!r}: unknown format")
        if payload.get("key") != self.config.state_key():
            raise ConfigError(
                f"checkpoint for component {component!r} was made under {payload.get('key')}, "
                f"this pipeline runs {self.config.state_key()}; replay instead of restoring"
            )
        state: ComponentState = payload["state"]
        # rules may have changed since: the state of a rule no longer configured is dropped
        known = set(self._rule_metric)
        state.health.rules = {n: r for n, r in state.health.rules.items() if n in known}
        state.last_status = {n: v for n, v in state.last_status.items() if n in known}
        for start, statuses in state.window_status.items():
            state.window_status[start] = {n: v for n, v in statuses.items() if n in known}
        self._states[component] = state
        self.evaluator.states[component] = state.health

    # -- internals ----------------------------------------------------------------------------

    def _state(self, component: str, host: object) -> ComponentState:
        st = self._states.get(component)
        if st is None:
            c = self.config
            seed = (c.seed ^ zlib.crc32(component.encode())) & 0x7FFFFFFF  # per component, stable
            st = ComponentState(
                host=host if isinstance(host, str) else "",
                windower=Windower(c.window_s, c.lateness_s),
                detector=AnomalyDetector(c.anomaly_trees, c.anomaly_height, c.anomaly_window, seed),
            )
            self._states[component] = st
            self.evaluator.states[component] = st.health
        elif isinstance(host, str) and host:
            st.host = host
        return st

    def _late_reason(self, st: ComponentState, ts: int) -> str:
        start = st.windower.window_start(ts)
        return (
            f"late: ts {ts} falls in window [{start}, {start + self.config.window_s * 1000}) "
            f"which has closed (watermark {st.windower.state.watermark_ms}, "
            f"lateness {self.config.lateness_s} s)"
        )

    def _statuses_at(self, st: ComponentState, window: ClosedWindow) -> dict[str, int]:
        """Rule statuses as they stood at the window's end (no look-ahead into later samples)."""
        done = [s for s in st.window_status if s <= window.start_ms]
        if done:
            st.last_status = st.window_status[max(done)]
            for s in done:
                del st.window_status[s]
        return st.last_status

    def _score(self, component: str, st: ComponentState, window: ClosedWindow) -> dict[str, Any]:
        """The RiskScore of one closed window: anomaly, forecasts and breaches, then risk."""
        c = self.config
        st.windows_seen += 1
        statuses = self._statuses_at(st, window)

        x = anomaly_features(window.features)
        anomaly = st.detector.score_one(x)  # score, then learn
        st.detector.learn_one(x)

        forecasts: list[dict[str, Any]] = []
        best: BreachEstimate | None = None
        breach_p: dict[str, float] = {}
        patterns: dict[str, str] = {}
        for metric, f in window.features.items():
            if metric not in self._rules_by_metric:
                continue
            records, estimates, pattern = self._outlook(st, metric, f, window.end_ms, statuses)
            forecasts += records
            if pattern:
                patterns[metric] = pattern
            for est in estimates:
                breach_p[metric] = max(breach_p.get(metric, 0.0), est.probability)
                if best is None or (est.probability, -est.eta_s) > (best.probability, -best.eta_s):
                    best = est

        worst = Status(max(statuses.values(), default=Status.PASS))
        evidence = {
            "breach": best.probability if best is not None else 0.0,
            "warn": 1.0 if worst == Status.WARN else 0.0,
            "fail": 1.0 if worst == Status.FAIL else 0.0,
            "anomaly": anomaly,
        }
        risk = self.risk_model.score_one(evidence)
        at_worst = sorted(
            {
                self._rule_metric[n]
                for n, s in statuses.items()
                if s == worst > Status.PASS and n in self._rule_metric
            }
        )
        status_term = {Status.WARN: "warn", Status.FAIL: "fail"}.get(worst)
        terms = self.risk_model.terms(evidence)
        return {
            "component": component,
            "ts": window.end_ms,
            "risk": _clip01(risk),
            "anomaly": _clip01(anomaly),
            "horizon_s": c.horizon_s,
            "breach": best.as_record() if best is not None else None,
            "forecasts": forecasts,
            "contributors": contributors(terms, breach_p, at_worst, patterns, status_term),
            "model": {
                "version": c.model_version,
                "samples_seen": st.samples_seen,
                "warm": st.windows_seen >= c.min_windows_warm,
                "source": "component",
            },
        }

    def _outlook(
        self,
        st: ComponentState,
        metric: str,
        f: MetricFeatures,
        origin_ms: int,
        statuses: Mapping[str, int],
    ) -> tuple[list[dict[str, Any]], list[BreachEstimate], str | None]:
        """One rule metric: learn its window mean, forecast it, estimate breaches, name it."""
        c = self.config
        fc = st.forecasters.get(metric)
        if fc is None:
            fc = st.forecasters[metric] = make_forecaster(c.forecaster, c.window_s, c.trend_windows)
        fc.learn_one(f.ts_mean_ms, f.mean)
        points = fc.forecast(self._grid, origin_ms=origin_ms)
        by_h = {p.horizon_s: p for p in points}
        records = []
        for h in c.forecast_horizons_s:
            p = by_h.get(h) or next(iter(fc.forecast([h], origin_ms=origin_ms)), None)
            if p is not None:
                records.append(
                    {
                        "metric": metric,
                        "horizon_s": h,
                        "mean": p.mean,
                        "lower": p.lower,
                        "upper": p.upper,
                    }
                )
        estimates = []
        pattern = None
        fit = fc.trend()
        for rule in self._rules_by_metric[metric]:
            est = estimate_breach(metric, rule.fail, rule.sign, points, f.volatility)
            if est is not None:
                estimates.append(est)
            failing = statuses.get(rule.name) == Status.FAIL
            peak = f.max if rule.sign > 0 else f.min
            pattern = pattern or pattern_of(
                fit, rule.sign, f.growth, f.volatility, f.mean, peak, failing
            )
        return records, estimates, pattern


def _validate(sample: object) -> tuple[str, str, int, dict[str, float]]:
    """``(reason, component, ts, clean metrics)``; ``reason`` is empty when usable."""
    if not isinstance(sample, Mapping):
        return f"invalid: a sample must be a mapping, not {type(sample).__name__}", "", 0, {}
    component = sample.get("component")
    if not isinstance(component, str) or not component:
        return "invalid: component must be a non-empty string", "", 0, {}
    ts = sample.get("ts")
    if not isinstance(ts, int) or isinstance(ts, bool):
        return (
            f"invalid: ts must be an int of epoch milliseconds, not {type(ts).__name__}",
            component,
            0,
            {},
        )
    if not -TS_LIMIT_MS < ts < TS_LIMIT_MS:
        return f"invalid: ts {ts} is out of range for epoch milliseconds", component, 0, {}
    metrics = clean_metrics(sample.get("metrics"))
    if not metrics:
        return "invalid: no finite numeric metric in the sample", component, ts, {}
    return "", component, ts, metrics


def _clip01(x: float) -> float:
    return min(1.0, max(0.0, x)) if math.isfinite(x) else 0.0
