"""Risk learnt online from delayed labels, per component and fleet-wide.

The health stream labels every scored window for free, later: a window ending at ``ts`` is
positive when a FAIL onset (the pipeline's ``risk_target="onset"``; or any FAIL status, for
``"fail"``) is seen at some sample in ``(ts, ts + horizon_s]``, and negative once its event
time has passed ``ts + horizon_s`` without one. :class:`PendingLabels`
keeps each component's unlabelled windows (at most ``horizon_s / window_s + 1``, plus the few a
late window adds), with the evidence they were scored on, until their label is known.

A :class:`RiskLearner` is the pair that scores and learns: a :class:`~processors.bayesnet.
BayesNet` over the discretised metric states, and a logistic combiner
(:class:`~processors.risk.LogisticRisk`, plain SGD with a pull back towards its priors) over
the evidence — breach probability, WARN / FAIL status, anomaly, the network's log-odds and
the growth pattern. Both learn from the same labels; nothing here draws a random number, so
the same stream gives the same weights, bit for bit.

Cold start: the pipeline keeps one learner per component and one for the whole fleet (all its
components' labels). A component's own learner speaks once it has ``min_labels`` labelled
windows; before that the fleet's does (``model.source`` says which).

>>> q = PendingLabels(horizon_ms=300_000)
>>> q.add(60_000, {"breach": 0.0}, {})
>>> q.add(120_000, {"breach": 0.2}, {})
>>> [(x["breach"], y) for x, _, y in q.resolve(now_ms=400_000, positive=True)]
[(0.0, False), (0.2, True)]
"""

from __future__ import annotations

import copy
import functools
import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from processors.bayesnet import BayesNet, unexplained
from processors.bincalibrator import BinCalibrator
from processors.nativeattr import mypyc_attr
from processors.pendingrows import Row, end_of, pack, unpack
from processors.risk import PRIOR_BIAS, PRIORS, Assessment, LogisticRisk

BN_SCALE = 5.0  # the network's log-odds enter the combiner divided by this, clipped to +/-2
EXTRA_PRIORS: dict[str, float] = {"bn": 0.5, "growth": 0.5, "context": 4.5}
# For "a new FAIL within the horizon", being FAIL already says little by itself.
ONSET_PRIORS: dict[str, float] = {**PRIORS, "fail": 1.0, **EXTRA_PRIORS}
_FAIL_PRIORS: dict[str, float] = {**PRIORS, **EXTRA_PRIORS}  # the "fail" target's (read only)

Evidence = dict[str, float]
States = dict[str, int]


def explained(x: Evidence) -> Evidence:
    """The evidence with what the FAIL under way explains taken out: while the component is
    in FAIL (``x["fail"] > 0``), an anomalous window is what that FAIL looks like, not a sign
    of a *new* FAIL, so ``anomaly`` reads 0 (issue #15, round three: in the seasonal
    scenarios the anomaly of a held peak kept risk over the alarm point through the FAIL).

    >>> explained({"fail": 1.0, "anomaly": 0.7})["anomaly"], explained({"anomaly": 0.7})
    (0.0, {'anomaly': 0.7})
    """
    if x.get("fail", 0.0) > 0.0 and x.get("anomaly", 0.0) != 0.0:
        return {**x, "anomaly": 0.0}
    return x


def held(risk: float, previous: float, elapsed_s: float, horizon_s: float) -> float:
    """The risk to emit: at least the previous window's, decayed by the share of its horizon
    that has passed (issue #15, s13). The previous window said "a new FAIL within
    ``(t - w, t - w + h]``" with probability ``previous``; with no onset in the window since,
    all but ``w`` of that horizon lies inside this window's, so, the hazard spread evenly over
    it, this window's risk is at least ``previous * (h - w) / h`` unless new evidence says
    otherwise (a fresh score above it wins). Nothing is learnt from it: the model learns from
    the window's evidence, as before. A risk that flickers across the alarm point while the
    evidence wavers stays one alarm episode, and falls below the alarm point only after
    about a third of a horizon (from 0.5 to 1/3: 6 windows of 60 s at 900 s). ``elapsed_s``
    is the time since the previous window (``w``): after a gap of a whole horizon nothing
    is held. The previous window's risk is the one it emitted (itself held), so the rule is
    what makes the emitted sequence consistent with its own meaning. Measured, the held tail
    is followed less often than this bound says (a breach that a high risk foretells comes
    early in the horizon): per window the held risk reads 0.06-0.11 high in 0.3-0.6
    (docs/modelling.md, "Breach round five").

    >>> round(held(0.1, 0.6, 60, 900), 3), held(0.7, 0.6, 60, 900)
    (0.56, 0.7)
    """
    return max(risk, previous * max(0.0, 1.0 - elapsed_s / horizon_s))


# How far a parent's trouble reaches this component (issue #15, s14), learnt per component:
# of its windows whose parents stood at WARN or worse (context >= REACH_AT), the share
# followed by a new FAIL of its own within the horizon, against its rate after any window
# (the lift; full weight from REACH_LIFT on), from a prior of REACH_PRIOR windows (one
# horizon of 60 s windows) at that full lift: an edge is trusted until it is seen not to
# propagate. Counts halve past REACH_CAP windows (recent edges weigh more). All four set a
# priori, not on labels.
REACH_AT = 0.5
REACH_PRIOR = 15.0
REACH_LIFT = 2.0
REACH_CAP = 2000.0

RELEASE_FRACTION = 0.5  # a grant is released once risk stays below this share of the alarm


def alarm_threshold(miss_cost_ratio: float) -> float:
    """The risk at which acting is worth it, for a calibrated risk ``p`` = P(a new FAIL within
    the horizon): alarm when the expected cost of staying put, ``p * C_miss``, exceeds that of
    acting, ``(1 - p) * C_false_alarm``, i.e. ``p > 1 / (1 + C_miss / C_false_alarm)``.

    >>> alarm_threshold(2.0), alarm_threshold(1.0)
    (0.3333333333333333, 0.5)
    """
    if not (math.isfinite(miss_cost_ratio) and miss_cost_ratio > 0):
        raise ValueError(f"miss_cost_ratio must be a positive number, not {miss_cost_ratio!r}")
    return 1.0 / (1.0 + miss_cost_ratio)


def release_threshold_for(risk_threshold: float) -> float:
    """The release point that moves with the alarm point (``RELEASE_FRACTION`` of it)."""
    return RELEASE_FRACTION * risk_threshold


def combiner_priors(target: str = "onset") -> dict[str, float]:
    """The combiner's starting weights for a risk target (``"onset"`` or ``"fail"``)."""
    return dict(ONSET_PRIORS if target == "onset" else _FAIL_PRIORS)


@mypyc_attr(serializable=True)
@dataclass(slots=True)
class RiskLearner:
    """A Bayesian network and a logistic combiner on top of it, learnt from labels: the
    pipeline's :class:`~processors.risk.RiskModel`."""

    lr: float = 0.05
    l2: float = 0.002  # pull towards the priors per update (keeps a quiet history from
    # talking the weights of rare evidence down to nothing)
    target: str = "onset"
    calibrate: bool = True
    bn: BayesNet = field(default_factory=BayesNet)
    calibrator: BinCalibrator = field(default_factory=lambda: BinCalibrator())
    combiner: LogisticRisk = field(default_factory=LogisticRisk)
    labels: int = 0
    positives: int = 0
    reach_n: float = 0.0  # windows with a parent in trouble (see :meth:`reach`)
    reach_k: float = 0.0  # of which a new FAIL of this component followed within the horizon
    # the alarm's own calibration (``alarm_learner``, s21; lean since s22): learns the evidence
    # as the records weighed it (:meth:`learn_pair`); ``None``: as this learner (not kept)
    alarm: AlarmHead | None = None

    def __post_init__(self) -> None:
        if self.labels == 0:  # a new learner starts from the target's priors
            self.combiner = (_priors_combiner(self.target) if self.lr == 0.0 else
                             LogisticRisk(weights=combiner_priors(self.target), bias=PRIOR_BIAS))

    def evidence(self, base: Mapping[str, float], states: Mapping[str, int]) -> Evidence:
        """The combiner's inputs: ``base`` plus the network's scaled log-odds; for the onset
        target, no anomaly while the component is in FAIL (see :func:`explained`)."""
        return self._evidence(base, self.bn.log_odds(states))

    def _evidence(self, base: Mapping[str, float], log_odds: float) -> Evidence:
        x = {**base, "bn": max(-2.0, min(2.0, log_odds / BN_SCALE))}
        return explained(x) if self.target == "onset" else x

    def score_one(self, base: Mapping[str, float], states: Mapping[str, int]) -> float:
        return self.assess(base, states).risk

    def assess(self, base: Mapping[str, float], states: Mapping[str, int]) -> Assessment:
        """The calibrated risk, the combiner's terms and the network's drivers, in one pass
        (the network's ratios are computed once)."""
        return self.assess_by(base, self.bn.explain(states))

    def assess_by(self, base: Mapping[str, float], drivers: dict[str, float],
                  head: AlarmHead | None = None) -> Assessment:
        """:meth:`assess` from the network's ratios ``drivers`` (``bn.explain`` of the window's
        states: the alarm's and ``act``'s read them once, s22), by ``head``'s combiner and
        calibration (``None``: this learner's)."""
        x = self._evidence(base, self.bn.log_odds_of(drivers))
        c = self.combiner if head is None or head.combiner is None else head.combiner
        terms = c.terms(x)
        raw = c.score_terms(terms)
        if not self.calibrate:
            return Assessment(raw, terms, drivers)
        cal = self.calibrator if head is None else head.calibrator
        return Assessment(cal.score_one(raw), terms, drivers)

    def calibrated(self, raw: float) -> float:
        return self.calibrator.score_one(raw) if self.calibrate else raw

    def learn_one(self, base: Mapping[str, float], states: Mapping[str, int], y: bool) -> None:
        self.learn_with(base, states, y, self.bn.log_odds(states))

    def learn_with(self, base: Mapping[str, float], states: Mapping[str, int], y: bool,
                   log_odds: float) -> None:
        """:meth:`learn_one`, given the network's log-odds of ``states`` before this label."""
        _fit(self, self.combiner, self.calibrator, self._evidence(base, log_odds), y)
        self.bn.learn_one(states, y)
        self.labels += 1
        self.positives += int(y)
        self.learn_reach(base.get("parent", 0.0), y)
        return None

    def learn_pair(self, act: Mapping[str, float], weighed: Mapping[str, float],
                   states: Mapping[str, int], y: bool, explain: bool = False) -> None:
        """One labelled window for this learner (``act``: the evidence unweighed) and the
        alarm's head (``weighed``: as the alarm read it; with ``explain``, in FAIL, the network
        less its nodes past FAIL), the network read once; the head learns first, from the
        network before the label. A learner without one starts it from its own calibration."""
        head = self.alarm
        if head is None:
            head = self.alarm = AlarmHead(self.calibrator.copy(),
                                          copy.deepcopy(self.combiner) if self.lr > 0 else None)
        drivers = self.bn.explain(states)
        log_odds = self.bn.log_odds_of(drivers)
        x = self._evidence(weighed, self.bn.log_odds_of(unexplained(drivers, states)) if explain
                           and weighed.get("fail", 0.0) > 0.0 else log_odds)  # alarm_explain
        if head.combiner is None:  # the weights stay at their priors: the calibration learns
            head.calibrator.learn_one(self.combiner.score_one(x), y)
        else:
            _fit(self, head.combiner, head.calibrator, x, y)
        self.learn_with(act, states, y, log_odds)

    def reach(self) -> float:
        """How much of a parent's trouble counts as evidence here, 0..1, from its lift: the
        rate of a new FAIL of this component within the horizon after windows whose parents
        stood at WARN or worse, over the component's rate after any window. A lift of 1 (the
        parent's trouble does not raise the rate) counts nothing, a lift of ``REACH_LIFT`` or
        more counts in full. The rate starts from ``REACH_PRIOR`` windows at that full lift
        (an edge is trusted until it is seen not to propagate). The pipeline scales the
        ``context`` evidence by it: a parent whose trouble never reaches the component stops
        raising its risk; an edge that cascades keeps its full weight.

        >>> r = RiskLearner(labels=998, positives=9)
        >>> r.reach()
        1.0
        >>> for _ in range(45):
        ...     r.learn_reach(1.0, False)
        >>> round(r.reach(), 3)
        0.0
        """
        rate = (self.positives + 1.0) / (self.labels + 2.0)
        after = (self.reach_k + REACH_PRIOR * REACH_LIFT * rate) / (self.reach_n + REACH_PRIOR)
        return min(1.0, max(0.0, (after / rate - 1.0) / (REACH_LIFT - 1.0)))

    def learn_reach(self, parent: float, y: bool) -> None:
        """One labelled window: ``parent`` is the raw context it was scored with (0..1)."""
        if parent < REACH_AT:
            return None
        self.reach_n += 1.0
        self.reach_k += float(y)
        if self.reach_n > REACH_CAP:
            self.reach_n, self.reach_k = self.reach_n / 2.0, self.reach_k / 2.0
        return None


def _fit(learner: RiskLearner, c: LogisticRisk, calibrator: BinCalibrator, x: Evidence,
         y: bool) -> None:
    """One label for a combiner (SGD at the learner's ``lr``, pulled to its priors by ``l2``)
    and the calibration of its output. At ``lr`` 0 (``risk_lr``, the default) the weights
    stay at their priors: s22 skips the update, which added zeros."""
    raw = c.score_one(x)
    calibrator.learn_one(raw, y)
    lr, l2 = learner.lr, learner.l2
    if lr == 0.0:
        return None
    g = float(y) - raw
    c.bias += lr * (g - l2 * (c.bias - PRIOR_BIAS))
    priors = ONSET_PRIORS if learner.target == "onset" else _FAIL_PRIORS  # read only
    for k in sorted(c.weights):
        prior = priors.get(k, 0.0)
        c.weights[k] += lr * (g * float(x.get(k, 0.0)) - l2 * (c.weights[k] - prior))


@mypyc_attr(serializable=True)
@dataclass(slots=True)
class AlarmHead:
    """The alarm's own learner (``alarm_learner``), lean (s22): the calibration, and the
    combiner where the weights learn (the learner's ``lr`` > 0), that learn the evidence as
    the records weighed it, over the network, counts and reach of the learner it belongs to.
    Those learn the same states and labels as s21's whole second :class:`RiskLearner` did,
    which held a copy of them equal count for count: the alarm's risk is the same."""

    calibrator: BinCalibrator
    combiner: LogisticRisk | None = None  # ``None``: the learner's (``lr`` 0: its priors)


def lean_alarm(fields: dict[str, Any]) -> None:
    """A learner's fields read from a snapshot (the state reader's ``before`` hook): s21's
    whole second learner as its alarm is read as its head; at ``lr`` 0, a combiner at the
    priors is the one every such learner shares."""
    old, lr = fields["alarm"], fields["lr"]
    if isinstance(old, RiskLearner):
        fields["alarm"] = AlarmHead(old.calibrator, old.combiner if lr > 0 else None)
    if lr == 0.0 and fields["combiner"] == _priors_combiner(fields["target"]):
        fields["combiner"] = _priors_combiner(fields["target"])


@functools.cache
def _priors_combiner(target: str) -> LogisticRisk:
    """The combiner at the target's priors, one for every learner whose weights do not learn
    (``lr`` 0, ``risk_lr``'s default; s22: ~0.5 KB a component). Read only: nothing updates
    a combiner at ``lr`` 0 (:func:`_fit`)."""
    return LogisticRisk(weights=combiner_priors(target), bias=PRIOR_BIAS)


@mypyc_attr(serializable=True)
@dataclass
class PendingLabels:
    """A component's scored windows whose label is not known yet, oldest first.

    Acted intervals (:meth:`act`: forewarn applied a grant to the component from ``start_ms``
    to ``end_ms``) make the absence of a breach uninformative: a window whose horizon
    ``(end, end + horizon]`` overlaps one would have been labelled negative because of the
    action, not because the risk was low, so such negative labels are dropped (counted in
    ``skipped``). Positive labels are kept: a breach despite acting is real evidence. Only the
    intervals that can still overlap a pending or later window are kept (an open one, whose
    end is not known yet, until it is closed and has passed).
    """

    horizon_ms: int
    items: list[Row] = field(default_factory=list)  # processors.pendingrows: compact (#14)
    limit: int = 64
    acted: list[tuple[int, int | None]] = field(default_factory=list)  # [start, end), sorted
    skipped: int = 0  # negative labels dropped because an action covered their horizon
    last_end_ms: int | None = None  # the latest window added

    def __getstate__(self) -> dict[str, object]:
        """Pickled with each window as ``(end, evidence, states)``, as format 2 wrote them."""
        return {**self.__dict__, "items": deque(unpack(row) for row in self.items)}

    def __setstate__(self, state: dict[str, object]) -> None:
        # a checkpoint written before acted intervals were kept has none
        self.__dict__.update({"acted": [], "skipped": 0, "last_end_ms": None, **state})
        self.items = [pack(*row) for row in self.items]  # compact (#14)

    def add(self, end_ms: int, base: Evidence, states: States) -> None:
        self.items.append(pack(end_ms, base, states))
        self.last_end_ms = end_ms if self.last_end_ms is None else max(self.last_end_ms, end_ms)
        if len(self.items) > self.limit:  # never expected: horizons are a few windows
            del self.items[: len(self.items) - self.limit]

    def act(self, start_ms: int, end_ms: int | None = None) -> None:
        """An action on the component over ``[start_ms, end_ms)``; ``end_ms=None`` while it
        lasts. Reporting ``(start_ms, end)`` later closes the open interval of that start;
        reporting an interval again changes nothing."""
        if end_ms is not None and end_ms < start_ms:
            raise ValueError(f"acted interval ends before it starts: [{start_ms}, {end_ms})")
        acted = [i for i in self.acted if not (end_ms is not None and i == (start_ms, None))]
        if (start_ms, end_ms) not in acted:
            acted.append((start_ms, end_ms))
        acted.sort(key=lambda i: (i[0], math.inf if i[1] is None else i[1]))
        self.acted = acted[-self.limit :]
        self._prune()

    def take(self, end_ms: int) -> tuple[Evidence, States] | None:
        """Remove and return the pending window that ends at ``end_ms`` (None: not pending,
        e.g. already labelled): an operator's verdict labels it instead of the health stream."""
        for i, row in enumerate(self.items):
            if end_of(row) == end_ms:
                del self.items[i]
                return unpack(row)[1:]
        return None

    def under_action(self, end_ms: int) -> bool:
        """Whether an acted interval overlaps the horizon of the window ending at ``end_ms``."""
        last = end_ms + self.horizon_ms
        return any(a <= last and (b is None or b > end_ms) for a, b in self.acted)

    def resolve(self, now_ms: int, positive: bool) -> list[tuple[Evidence, States, bool]]:
        """Labels known at event time ``now_ms``, given whether what happens there makes the
        windows before it positive (a FAIL onset, say): windows whose horizon ended before
        ``now_ms`` are negative (they would have been labelled positive already), and if
        ``positive``, every window ending before ``now_ms`` (within its horizon) is. Negative
        labels of windows under an action are left out (see the class doc)."""
        out: list[tuple[Evidence, States, bool]] = []
        items = self.items
        done = 0  # the oldest ``done`` windows are labelled (removed at once: a list)
        while done < len(items) and end_of(items[done]) + self.horizon_ms < now_ms:
            end, x, s = unpack(items[done])
            done += 1
            if self.acted and self.under_action(end):
                self.skipped += 1
            else:
                out.append((x, s, False))
        if positive:
            while done < len(items) and end_of(items[done]) < now_ms:
                _, x, s = unpack(items[done])
                done += 1
                out.append((x, s, True))
        del items[:done]
        if self.acted:
            self._prune()
        return out

    def _prune(self) -> None:
        """Drop intervals that end before every window still to be labelled (pending, or
        scored later: those end after the latest one added) begins its horizon."""
        floor = end_of(self.items[0]) if self.items else self.last_end_ms
        if floor is not None:
            self.acted = [(a, b) for a, b in self.acted if b is None or b > floor]
