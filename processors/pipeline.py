"""The processing core's one entry point: samples in, health signals and risk scores out.

The live Faust worker, the replay tool and the benchmarks all drive :class:`Pipeline`; it is
pure (no clock, no I/O) and deterministic: the same samples in the same order give the same
records, floats included. Per component it keeps event-time windows, health rule state, a
novelty detector (:mod:`processors.anomaly`), one forecaster per rule metric watched for drift
(:mod:`processors.metricoutlook`), and its own risk model (:mod:`processors.calibration`: a Bayesian
network over metric states and a calibrated logistic combiner) learnt from delayed labels;
that state moves between workers through :meth:`Pipeline.snapshot` / :meth:`Pipeline.restore`
(8-12 KB a component). One more risk model, the fleet's, learns from every component's labels
and speaks for components with fewer than ``fleet_min_labels`` labelled windows (a snapshot
carries a copy; restore keeps the copy that has learnt most).

* every accepted sample is judged by the health rules at once -> ``HealthSignal`` dicts;
* every closed window gives exactly one ``RiskScore`` dict (``ts`` = window end); its
  ``risk`` is P(a new FAIL within ``horizon_s``) (``risk_target="onset"``; ``"fail"``: P(FAIL
  status within it)), ``model.source`` says whether the component's model or the fleet's spoke;
* each sample's health labels the windows before it (see :class:`PendingLabels`), which are
  then learnt, by the component's model and the fleet's — except "no breach" under an action
  forewarn took (:meth:`Pipeline.on_action`);
* an unusable sample (no finite numeric metric, ``ts`` not an int, no component) or a late
  one comes back in ``Output.rejected`` with its reason; duplicates are counted, not echoed.
  Nothing a sample holds makes :meth:`Pipeline.ingest` raise.

Watermarks are per component: a window closes when that component's own event time has moved
``lateness_s`` past its end. :meth:`Pipeline.advance_to` moves every component to a partition's
stream time (so a silent component's last window closes); :meth:`Pipeline.flush` closes all.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from processors import actsignal, alarmstate, cascadepage, contextalarm
from processors.actsignal import act_record, acted, emitted, unheld
from processors.anomaly import detector_for, risk_anomaly
from processors.calibration import PendingLabels, RiskLearner
from processors.componentstate import ComponentState, restore, shared_statuses, snapshot
from processors.config import PipelineConfig
from processors.evidence import window_evidence
from processors.features import ACCEPTED, DUPLICATE, ClosedWindow, Windower, validate_sample
from processors.health import FAIL, PASS, STATUSES, WARN, HealthEvaluator, Rule
from processors.nativeattr import mypyc_attr
from processors.outlook import Ahead, Item
from processors.risk import RiskModel, contributors

__all__ = ["ComponentState", "Output", "Pipeline", "PipelineConfig"]


@dataclass(init=False)  # its own __init__: mypyc leaves a dataclass's interpreted (#14, s28)
class Output:
    health: list[dict[str, Any]]
    risk: list[dict[str, Any]]
    rejected: list[tuple[dict[str, Any], str]]  # (sample, reason)

    def __init__(self) -> None:
        self.health, self.risk, self.rejected = [], [], []

    def extend(self, other: Output) -> None:
        self.health += other.health
        self.risk += other.risk
        self.rejected += other.rejected


@mypyc_attr(allow_interpreted_subclasses=True)  # CheckpointedPipeline, tests (#14, s26)
class Pipeline:
    """Per-component windows, health, anomaly, forecasts and risk.

    >>> p = Pipeline(PipelineConfig())
    >>> def sample(ts_ms, used_pct):
    ...     return {"component": "web-1", "host": "web-1", "ts": ts_ms,
    ...             "metrics": {"disk.used_pct": used_pct}, "tags": {}}
    >>> [(s["metric"], s["status"]) for s in p.ingest(sample(10_000, 97.0)).health]
    [('disk.used_pct', 'FAIL')]
    >>> [(r["ts"], r["model"]["source"]) for r in p.ingest(sample(90_000, 97.0)).risk]
    [(60000, 'fleet')]
    >>> p.ingest(sample(5_000, 50.0)).rejected[0][1][:5]
    'late:'
    """

    def __init__(
        self, config: PipelineConfig | None = None, risk_model: RiskModel | None = None
    ) -> None:
        self.config = config if config is not None else PipelineConfig()
        # A model given here (any RiskModel: score_one / learn_one / assess on the window's
        # evidence and states) speaks for every component and learns their labels; otherwise
        # each component's own learnt model does, or the fleet's while it has too few labels.
        self.risk_model: RiskModel | None = risk_model
        self.fleet = self._new_learner()
        self._parents: dict[str, list[str]] = {}
        for child, parent in self.config.dependencies:
            self._parents.setdefault(child, []).append(parent)
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
        # component -> (ts, count) of the samples in a row beyond max_jump_s of its own time
        self._jumps: dict[str, tuple[int, int]] = {}
        self.jumps_refused = 0

    def components(self) -> list[str]:
        return sorted(self._states)

    def drop(self, component: str) -> bool:
        """Forget everything held for ``component`` (its partition went to another worker);
        whether there was anything. The fleet's learner keeps what it learnt from it."""
        self.evaluator.states.pop(component, None)
        self._jumps.pop(component, None)
        return self._states.pop(component, None) is not None

    def _accept(self, sample: Mapping[str, Any]
                ) -> tuple[Output, tuple[str, ComponentState, int, dict[str, float]] | None]:
        """The sample up to its window: a rejection's or duplicate's Output and None, or an
        empty Output and (component, state, ts, the metrics the window took)."""
        out = Output()
        reason, component, ts, metrics = validate_sample(sample)
        if reason:
            out.rejected.append((dict(sample) if isinstance(sample, Mapping) else {}, reason))
            return out, None
        if len(metrics) > self.config.max_metrics:
            out.rejected.append((dict(sample), f"invalid: {len(metrics)} metrics in one sample, "
                                 f"over max_metrics {self.config.max_metrics}"))
            return out, None
        st = self._state(component, sample.get("host"))
        far = self._far(component, st, ts)
        if far:
            out.rejected.append((dict(sample), far))
            return out, None
        status, taken = st.windower.add_clean(ts, metrics)
        if status == DUPLICATE:
            self.duplicates += 1
            return out, None
        if status != ACCEPTED:
            out.rejected.append((dict(sample), self._late_reason(st, ts)))
            return out, None
        return out, (component, st, ts, taken)

    def ingest(self, sample: Mapping[str, Any]) -> Output:
        """Take one MetricSample dict; never raises on what the sample holds."""
        out, got = self._accept(sample)
        if got is None:
            return out
        component, st, ts, taken = got
        return self._judged(component, st, ts, taken, st.windower.advance)

    def _judged(self, component: str, st: ComponentState, ts: int, taken: dict[str, float],
                closed: Callable[[], Iterable[ClosedWindow]],
                ahead: Sequence[tuple[list[Item], Ahead]] = ()) -> Output:
        """An accepted sample judged: its health, then the windows ``closed()`` gives (those
        it closed) scored, then the labels it resolves learnt. :meth:`ingest` and the batch
        pipeline both end here (the batch one with each window's outlook phase (a) ``ahead``,
        :mod:`processors.batch.outlook`)."""
        out = Output()
        st.samples_seen += 1
        out.health = self.evaluator.evaluate(component, ts, taken)
        if st.health.last_ts_ms == ts:  # judged in order: remember the status at this time
            start = st.windower.window_start(ts)
            # statuses change only with a non-heartbeat signal; otherwise the copy stands
            if start not in st.window_status or any(not h["heartbeat"] for h in out.health):
                st.window_status[start] = shared_statuses(st.health.statuses())
        for n, window in enumerate(closed()):
            out.risk.append(self._score(component, st, window, ahead[n] if ahead else None))
        if st.health.last_ts_ms == ts:
            positive = self._label_event(st, ts)
            if st.pending is not None:
                for base, states, y in st.pending.resolve(ts, positive):
                    self._learn(st, base, states, y)
        return out

    def on_action(self, component: str, start_ms: int, end_ms: int | None = None) -> None:
        """Forewarn acted on ``component`` over event time ``[start_ms, end_ms)`` (a grant was
        applied; ``end_ms=None`` while the lease holds, closed by a later call with the same
        start): windows whose horizon overlaps it are not learnt as "no breach" (the action
        may be why none came); a FAIL seen anyway is still learnt. Call it as the action is
        applied: labels already learnt are not revisited. The interval is part of the
        component's snapshot until no pending window can overlap it."""
        st = self._state(component, None)
        if st.pending is not None:
            st.pending.act(start_ms, end_ms)

    def on_feedback(self, component: str, ts_ms: int, true_positive: bool) -> bool:
        """An operator's verdict on the risk scored for the window of ``component`` ending at
        ``ts_ms``: if that window still waits for its label, the verdict is its label and the
        models learn it now (the health stream will not label it again). Whether it was
        learnt (False: unknown component, or the window was labelled already)."""
        st = self._states.get(component)
        if st is None or st.pending is None:
            return False
        got = st.pending.take(int(ts_ms))
        if got is None:
            return False
        self._learn(st, got[0], got[1], bool(true_positive))
        return True

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
        return snapshot(component, self.config.state_key(), self._states[component], self.fleet)

    def restore(self, component: str, blob: bytes) -> None:
        """Replace the component's state with a snapshot's. The bytes are data, never code
        (:mod:`processors.stateformat`): anything else is refused with a ContractError; a
        snapshot made under other parameters, with a ConfigError. The state of a rule no
        longer configured is dropped."""
        state, fleet = restore(component, blob, self.config.state_key(), self._rule_metric)
        self._states[component] = state
        self.evaluator.states[component] = state.health
        if fleet is not None and fleet.labels > self.fleet.labels:
            self.fleet = fleet

    # -- internals ----------------------------------------------------------------------------

    def _state(self, component: str, host: object) -> ComponentState:
        st = self._states.get(component)
        if st is None:
            c = self.config
            st = ComponentState(
                host=host if isinstance(host, str) else "",
                windower=Windower(c.window_s, c.lateness_s),
                detector=detector_for(c, component),
                pending=PendingLabels(c.horizon_s * 1000) if c.learn_risk else None,
                learner=self._new_learner(),
            )
            self._states[component] = st
            self.evaluator.states[component] = st.health
        elif isinstance(host, str) and host:
            st.host = host
        return st

    def _far(self, component: str, st: ComponentState, ts: int) -> str:
        """Why ``ts`` is refused as too far from the component's own event time ('' if not).

        One sample more than ``max_jump_s`` ahead of the watermark (a year-3000 stamp), or
        behind a watermark that a single such sample set, is refused alone; ``jump_confirm``
        such samples in a row, each within ``max_jump_s`` of the one before, mean the
        component's clock really moved (a restart after a long gap, a corrected clock): the
        last is taken, and when the time moved back the component's windows restart from it
        (the open windows of the old time are dropped: they hold what its bad clock said).
        """
        c = self.config
        wm = st.windower.state.watermark_ms
        far_ms = c.max_jump_s * 1000
        if not far_ms or wm is None or abs(ts - wm) <= far_ms:
            self._jumps.pop(component, None)
            return ""
        prev = self._jumps.get(component)
        n = prev[1] + 1 if prev is not None and abs(ts - prev[0]) <= far_ms else 1
        if n >= c.jump_confirm:
            self._jumps.pop(component, None)
            if ts < wm:
                st.windower = Windower(c.window_s, c.lateness_s)
            return ""
        self._jumps[component] = (ts, n)
        self.jumps_refused += 1
        side = "ahead of" if ts > wm else "behind"
        return (
            f"time: ts {ts} is {abs(ts - wm) // 1000} s {side} the component's own event time "
            f"(watermark {wm}), over max_jump_s {c.max_jump_s}; refused alone unless "
            f"{c.jump_confirm} samples in a row agree ({n} so far)"
        )

    def _late_reason(self, st: ComponentState, ts: int) -> str:
        start = st.windower.window_start(ts)
        return (
            f"late: ts {ts} falls in window [{start}, {start + self.config.window_s * 1000}) "
            f"which has closed (watermark {st.windower.state.watermark_ms}, "
            f"lateness {self.config.lateness_s} s)"
        )

    def _score(self, component: str, st: ComponentState, window: ClosedWindow,
               ahead: tuple[list[Item], Ahead] | None = None) -> dict[str, Any]:
        """The RiskScore of one closed window: anomaly, forecasts and breaches, then risk."""
        c = self.config
        st.windows_seen += 1
        statuses = st.statuses_at(window.start_ms)
        anomaly = st.detector.step(window.features)  # score, then learn, in one pass
        failed = st.failed_lately(window.end_ms, c.horizon_s * 1000, self._rule_metric)
        ev = window_evidence(window, st.outlooks, self._rules_by_metric, statuses, failed,
                             self._grid, c, ahead, st.pending)
        parent, seen = self._context(component, window.end_ms)
        context = actsignal.context_of(parent, st.learner, ev.states, c)
        worst = STATUSES[max(statuses.values(), default=PASS)]  # Status(...), cheaper
        base = {
            "breach": ev.p_new if c.risk_target == "onset" else ev.p_any,
            "warn": ev.warn if worst == WARN else 0.0,
            "fail": 1.0 if worst == FAIL else 0.0,
            "anomaly": risk_anomaly(st.detector, anomaly),
            "growth": 1.0 if ev.growing else 0.0,
            "context": context or 0.0,
        }
        if parent is not None and (c.context_reach or c.alarm_reach):
            base["parent"] = parent  # what the learner's reach learns from
        model, source = self._model_for(st)
        alarm = contextalarm.alarm_base(base, seen, st.learner, c)  # context_alarm
        judged = actsignal.judge(model, alarm, ev.states, c)
        at_worst = sorted({self._rule_metric[n] for n, s in statuses.items()
                           if s == worst > PASS and n in self._rule_metric})
        shares = contributors(judged.terms, ev.breach_p, at_worst, ev.patterns,
                              {WARN: "warn", FAIL: "fail"}.get(worst),
                              bn_nodes=judged.drivers, growth_metrics=ev.growing)
        raw = _clip01(judged.risk)
        act, act_risk = acted(st, model, base, ev, worst == WARN, raw, window.end_ms, c,
                              judged.drivers, alarm is not base)
        risk, act_risk = actsignal.gated(emitted(st, raw, window.end_ms, st.last_risk, c),
                                         st.last_risk, act_risk, base, ev.states, c, failed)
        st.last_risk = risk
        st.last_act = None if act_risk is None or act_risk == risk else act_risk
        if st.pending is not None:  # the model learns the evidence unweighed (actsignal)
            st.pending.add(window.end_ms, actsignal.kept(base, act, c), ev.states)
        anomaly = _clip01(anomaly)
        risk, act_risk = cascadepage.floored(risk, act_risk, alarm, c,  # cascade_page
                                             self._parents.get(component, ()), self._states)
        return alarmstate.recorded(st, worst == FAIL, c, {  # the alarm state (alarm_hold_s)
            "component": component,
            "ts": window.end_ms,
            "risk": risk,
            "anomaly": anomaly,
            "horizon_s": c.horizon_s,
            "breach": ev.best.as_record() if ev.best is not None else None,
            "forecasts": ev.forecasts,
            "contributors": shares,
            "model": {
                "version": c.model_version,
                "samples_seen": st.samples_seen,
                "warm": st.windows_seen >= c.min_windows_warm,
                "source": source,
            },
            "act": act_record(risk, anomaly, act_risk, unheld(st.detector, anomaly)),
        })

    def _model_for(self, st: ComponentState) -> tuple[RiskModel, str]:
        """The risk model that speaks for the component, and its ``model.source``: a model
        given to the pipeline; else the component's own once it has ``fleet_min_labels``
        labels; else the fleet's."""
        if self.risk_model is not None:
            return self.risk_model, "component"
        if st.learner.labels >= self.config.fleet_min_labels:
            return st.learner, "component"
        return self.fleet, "fleet"

    def _new_learner(self) -> RiskLearner:
        c = self.config
        return RiskLearner(lr=c.risk_lr, target=c.risk_target, calibrate=c.risk_calibration)

    def _label_event(self, st: ComponentState, ts: int) -> bool:
        """Whether the sample at ``ts`` makes the windows before it positive
        (:meth:`ComponentState.label_event`)."""
        return st.label_event(ts, self.config.horizon_s * 1000, self.config.risk_target)

    def _learn(self, st: ComponentState, base: dict[str, float], states: dict[str, int],
               y: bool) -> None:
        """One labelled window: the component's model, the fleet's and a given model learn."""
        if self.risk_model is not None:
            self.risk_model.learn_one(actsignal.split(base)[0], states, y)
        for model in (st.learner, self.fleet):
            actsignal.learn_both(model, base, states, y, self.config)

    def _context(self, component: str, now_ms: int) -> tuple[float | None, float | None]:
        """How bad the components this one depends on stand, 0..1, at ``now_ms``, and the
        alarm's reading where it differs (:func:`~processors.contextalarm.standings`)."""
        parents = [self._states[p] for p in self._parents.get(component, []) if p in self._states]
        return contextalarm.standings(parents, now_ms, self.config.horizon_s * 1000, self.config)


def _clip01(x: float) -> float:
    return min(1.0, max(0.0, x)) if math.isfinite(x) else 0.0
