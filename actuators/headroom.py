"""Headroom: what a component's forecast says about an allocation other than the one it has.

The forecasts of a RiskScore are measured under the allocation in force. For a capacity-like
resource, utilisation scales inversely with the allocation, so with ``c`` the allocation now
(baseline plus lease) and ``p`` the forecast peak, the peak at another allocation ``c2`` is
about ``p * c / c2``. The engine keeps a lease unless the peak *without* it stays under the
threshold with ``margin`` to spare (low risk measured under a grant does not mean the component
is safe without it), steps a lease down in halves at most, and sizes scale-downs so the peak
at the reduced allocation lands under ``threshold * shrink_target`` (a utilisation target).

>>> from actuators.pool import DEFAULT_RESOURCES
>>> spec = DEFAULT_RESOURCES["CPU_WEIGHT"]  # baseline 100
>>> step_down(spec, 30.0, peak=0.73, threshold=0.9, margin=0.1, stepped=False)  # 0.95 at 100
18.0
>>> step_down(spec, 30.0, peak=0.5, threshold=0.9, margin=0.1, stepped=False)  # 0.65: release
0.0
>>> shrink_amount(spec, peak=0.3, threshold=0.95, target=0.75, max_shrink=0.25)
-25.0
>>> shrink_amount(spec, peak=0.3, threshold=0.95, target=0.75, max_shrink=0.6)  # 0.3 -> 0.71
-57.0
>>> shrink_amount(spec, peak=0.3, threshold=0.95, target=0.75, max_shrink=0.6, step=0.2)
-20.0
>>> shrink_amount(spec, peak=0.3, threshold=0.95, target=0.75, max_shrink=0.6, held=-40.0,
...               step=0.2)  # 40 -> 57 below the baseline
-57.0

Pure functions of their arguments.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Mapping
from typing import Any

from actuators.pool import ResourceSpec

EPS = 1e-9


def metric_peak(risk: Mapping[str, Any], metric: str) -> float | None:
    """The largest finite ``upper`` of the risk's forecasts of ``metric``; None without one."""
    uppers = [float(f["upper"]) for f in risk.get("forecasts") or () if f["metric"] == metric]
    uppers = [u for u in uppers if math.isfinite(u)]
    return max(uppers) if uppers else None


def metric_level(risk: Mapping[str, Any], metric: str) -> float | None:
    """The metric's level as the risk score saw it: the mean of its shortest-horizon forecast
    (the score carries no raw value); None without a finite one."""
    found = [(int(f["horizon_s"]), float(f["mean"])) for f in risk.get("forecasts") or ()
             if f["metric"] == metric and math.isfinite(float(f["mean"]))]
    return min(found)[1] if found else None


def capacity_threshold(patterns: tuple[tuple[str, float], ...], metric: str) -> float | None:
    """The configured threshold of a capacity metric (first matching fnmatch pattern)."""
    return next((float(t) for p, t in patterns if fnmatch.fnmatchcase(metric, p)), None)


def breach_threshold(risk: Mapping[str, Any], metric: str, fallback: float | None) -> float | None:
    """The risk's own breach threshold when its breach is about ``metric``, else ``fallback``."""
    breach = risk.get("breach")
    if breach and breach["metric"] == metric and float(breach["threshold"]) > 0:
        return float(breach["threshold"])
    return fallback


def at_allocation(peak: float, current: float, other: float) -> float:
    """The peak at allocation ``other`` of one measured at allocation ``current``."""
    return math.inf if other <= 0 else peak * current / other


def needs_lease(spec: ResourceSpec, amount: float, peak: float | None,
                threshold: float | None, margin: float) -> bool:
    """Whether the forecast says the component would pass ``threshold * (1 - margin)`` at its
    baseline, that is without its lease of ``amount``; False without a forecast to go by."""
    if peak is None or threshold is None:
        return False
    limit = threshold * (1.0 - margin)
    return at_allocation(peak, spec.baseline + amount, spec.baseline) > limit + EPS


def step_down(spec: ResourceSpec, amount: float, *, peak: float | None,
              threshold: float | None, margin: float, stepped: bool) -> float:
    """The lease to keep once risk has stayed low: 0 releases it, ``amount`` keeps it.

    With a forecast, release when the peak at the baseline stays under the threshold with the
    margin; otherwise keep what that needs, but give back at most half at a time. Without one,
    halve once, then release: no evidence either way, so go slowly.
    """
    half = spec.round_up(amount / 2.0)
    if peak is None or threshold is None:
        return 0.0 if stepped or half < spec.min_amount else half
    if not needs_lease(spec, amount, peak, threshold, margin):
        return 0.0
    limit = threshold * (1.0 - margin)
    need = spec.round_up(max(peak * (spec.baseline + amount) / limit - spec.baseline, 0.0))
    target = max(need, half)
    return target if amount - target >= spec.min_amount - EPS else amount


def shrink_amount(spec: ResourceSpec, *, peak: float, threshold: float, target: float,
                  max_shrink: float, held: float = 0.0, step: float = 1.0) -> float | None:
    """A scale-down (a negative amount) that keeps ``peak``, measured at the baseline, under
    ``threshold * target`` at the reduced allocation, by at most ``max_shrink`` of the
    baseline, and at most ``step`` of the baseline deeper than the scale-down ``held`` now
    (<= 0); None when that gives back less than ``min_amount`` more than ``held``."""
    if spec.baseline <= 0:
        return None
    aim = threshold * max(target, EPS)
    floor = max(peak * spec.baseline / aim, spec.baseline * (1.0 - max_shrink),
                spec.baseline * (1.0 - step) + held)
    give = spec.round_down(spec.baseline - floor)
    return -give if give + held >= spec.min_amount - EPS else None
