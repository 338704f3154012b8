"""A rule metric's record of its own warnings: how often its breach forecasts and its WARN
spells were followed by its FAIL.

The trend line reads every steep rise as growth towards a breach. Where a metric's rises stop
short of its FAIL threshold (an app's or a database's morning ramp, a cache's afternoon bump)
it forecasts a breach that never comes, every time, and each is a false alarm (issue #15,
breach round eight). :class:`ForecastRecord` counts, per rule metric, its *forecast episodes*
(the metric's breach probability reaches ``OPEN`` while it is out of FAIL) and how many of
them its own FAIL followed within the horizon; :func:`weigh` scales each metric's
breach probability by the record's posterior mean hit rate,
``(k + prior) / (n + prior)``: a Beta(``prior``, 0) prior, so a metric whose forecasts have
not yet missed is trusted in full, one whose forecasts missed once reads 2/3 at the prior of
2, twice 1/2. It is the per-metric exceedance calibration of the forecast's probability, in
the spirit of adaptive conformal inference (Gibbs & Candes 2021: a forecast's level is
corrected by its own record of misses), reduced to a scale on the probability.

The same record kept of the metric's WARN spells (a spell opens when the metric stands at
WARN, out of FAIL) weighs the ``warn`` evidence: with ``warn_trust``, a component at WARN
reads the largest trust among its metrics at WARN instead of 1, so a plateau at WARN that
never went on to FAIL (an app's afternoon at 0.8 CPU) weighs less each time it does not.

An open forecast episode steps every window, also while its metric forecasts no crossing (a
ramp levelling off under its FAIL: until s19 it waited for the next forecast, and a FAIL hours
later counted as a hit). One under an action of forewarn's (:meth:`processors.pipeline.
Pipeline.on_action`) that no FAIL followed is not counted as a miss: the action may be why the
crossing did not come (the rule the learnt risk's labels follow). With ``hover`` (issue #15,
breach round nine) neither is one during which the metric (``hover`` 1), or any rule metric of
its component (2), went over its FAIL threshold without its rule reaching FAIL (``for_s``,
hysteresis; :func:`mark_over`): the value crossed, as the scorer's breaches count crossings,
so the record has no opinion of it. A web hovering at its limit all afternoon is where such
episodes come (``weekly``'s Friday). Counts halve past ``CAP``
episodes, so an old record gives way to a new one. State: seven numbers a rule metric
(:class:`MetricRecord`), in the component's snapshot since s19 (``MetricOutlook.record``: a
restored component trusts its metrics as before the restore; a snapshot from before reads
as no record yet); a metric without a record (the options off, the default) writes a None.

>>> r = ForecastRecord()
>>> r.step(0, 0.9, False, 900_000, False); r.trust(2.0)  # an episode opens
1.0
>>> r.step(960_000, 0.1, False, 900_000, False); r.trust(2.0)  # no FAIL came: a miss
0.6666666666666666
>>> r.step(1_000_000, 0.8, False, 900_000, False); r.step(1_100_000, 0.0, True, 900_000, False)
>>> r.n, r.k, round(r.trust(2.0), 3)  # the next one came true
(2.0, 1.0, 0.75)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from processors.nativeattr import mypyc_attr

if TYPE_CHECKING:
    from processors.calibration import PendingLabels
    from processors.metricoutlook import MetricOutlook
    from processors.outlook import Item

__all__ = ["CAP", "OPEN", "ForecastRecord", "MetricRecord", "mark_over", "weigh"]

# a forecast episode opens when the metric's breach probability reaches OPEN ("more likely
# than not"); counts halve past CAP episodes. Both set a priori, not on labels
OPEN = 0.5
CAP = 100.0


@mypyc_attr(serializable=True)
class ForecastRecord:
    """One rule metric's episodes (``n`` resolved, ``k`` of them followed by its own FAIL
    within the horizon) and the start of the open one (``open_ms``; -1: none)."""

    __slots__ = ("n", "k", "open_ms")

    def __init__(self) -> None:
        self.n = 0.0
        self.k = 0.0
        self.open_ms = -1

    def step(self, ts_ms: int, p: float, failed: bool, horizon_ms: int, acted: bool) -> None:
        """The window ending at ``ts_ms``: its breach probability ``p`` (a WARN spell: 1 at
        WARN, else 0), whether the metric has been in FAIL within the horizon (``failed``),
        whether an action of forewarn's overlaps the open episode's horizon (``acted``: a
        miss is then not counted)."""
        if self.open_ms >= 0 and (failed or ts_ms - self.open_ms > horizon_ms):
            if failed or not acted:
                self.n += 1.0
                self.k += 1.0 if failed else 0.0
                if self.n > CAP:
                    self.n, self.k = self.n / 2.0, self.k / 2.0
            self.open_ms = -1
        if self.open_ms < 0 and not failed and p >= OPEN:
            self.open_ms = ts_ms

    def trust(self, prior: float) -> float:
        """The posterior mean share of episodes that came true (prior Beta(prior, 0): trusted
        in full until one misses)."""
        return (self.k + prior) / (self.n + prior)


@mypyc_attr(serializable=True)
class MetricRecord:
    """A rule metric's two records: its breach forecasts' and its WARN spells'; and the end
    of its latest window whose value went over its FAIL threshold (``over_ms``; -1: none)."""

    __slots__ = ("forecast", "warn", "over_ms")

    def __init__(self) -> None:
        self.forecast = ForecastRecord()
        self.warn = ForecastRecord()
        self.over_ms = -1


def _record(o: MetricOutlook) -> MetricRecord:
    rec: MetricRecord | None = getattr(o, "record", None)
    if rec is None:
        rec = o.record = MetricRecord()
    return rec


def _step(r: ForecastRecord, ts_ms: int, p: float, failed: bool, horizon_ms: int,
          pending: PendingLabels | None, over_ms: int = -1) -> None:
    """Steps ``r``; a miss is not counted under an action, nor where a value went over its
    FAIL threshold since the episode opened (``over_ms``, ``hover``; -1: not looked at)."""
    due = r.open_ms >= 0 and not failed and ts_ms - r.open_ms > horizon_ms
    acted = due and (over_ms >= r.open_ms or pending is not None and bool(pending.acted)
                     and pending.under_action(r.open_ms))
    r.step(ts_ms, p, failed, horizon_ms, acted)


def mark_over(items: Sequence[Item], end_ms: int) -> None:
    """Each rule metric of the window whose value went over a FAIL threshold in it (its max,
    or its min for a "below" rule), its rule's FAIL or not, records the window's end."""
    for _, f, o, rules in items:
        if any(r.sign * (f.max if r.sign > 0 else f.min) >= r.sign * r.fail for r in rules):
            _record(o).over_ms = end_ms


def _over(outlooks: Mapping[str, MetricOutlook], hover: int) -> int:
    """The latest ``over_ms`` of the component's rule metrics (``hover`` 2), else -1."""
    if hover != 2:
        return -1
    recs = [getattr(o, "record", None) for o in outlooks.values()]
    return max((r.over_ms for r in recs if r is not None), default=-1)


def weigh(
    outlooks: Mapping[str, MetricOutlook],
    breach_p: Mapping[str, float],
    at_warn: Mapping[str, bool],
    failed: set[str],
    ts_ms: int,
    horizon_ms: int,
    priors: tuple[float, float],
    pending: PendingLabels | None,
    hover: int = 0,
) -> tuple[float | None, float]:
    """The window's ``breach`` evidence (``p_new``: the largest breach probability of a
    metric not in FAIL lately, each scaled by its forecast record's trust; ``None`` where
    ``priors[0]`` is 0, off) and the weight of its ``warn`` evidence (the largest trust of
    the WARN records of the metrics at WARN, ``at_warn``: metric -> at WARN now, for every
    rule metric of the window; 1 where ``priors[1]`` is 0, or a metric at WARN was in FAIL
    lately). Every record steps on the window first. ``pending``: the component's pending
    labels, whose acted intervals say whether an action overlaps an episode's horizon.
    ``hover``: a miss during which the metric (1), or any rule metric of the component (2),
    went over its FAIL threshold (:func:`mark_over`, called first) is not counted."""
    p_new: float | None = None
    comp_over = _over(outlooks, hover)
    if priors[0] > 0:
        p_new = 0.0
        for metric, p in breach_p.items():
            o = outlooks.get(metric)
            if o is not None:
                rec = _record(o)
                r = rec.forecast
                _step(r, ts_ms, p, metric in failed, horizon_ms, pending,
                      rec.over_ms if hover == 1 else comp_over)
                if metric not in failed:
                    p_new = max(p_new, p * r.trust(priors[0]))
        for metric, o in outlooks.items():  # s19: an open episode whose metric forecasts no
            held: MetricRecord | None = getattr(o, "record", None)  # crossing now resolves
            if held is not None and held.forecast.open_ms >= 0 and metric not in breach_p:
                _step(held.forecast, ts_ms, 0.0, metric in failed, horizon_ms, pending,
                      held.over_ms if hover == 1 else comp_over)  # a horizon on all the same
    if priors[1] <= 0:
        return p_new, 1.0
    warn = -1.0
    for metric, warning in at_warn.items():
        rec = _record(outlooks[metric])
        r = rec.warn
        _step(r, ts_ms, 1.0 if warning else 0.0, metric in failed, horizon_ms, pending,
              rec.over_ms if hover == 1 else comp_over)
        if warning:
            warn = max(warn, 1.0 if metric in failed else r.trust(priors[1]))
    return p_new, 1.0 if warn < 0 else warn
