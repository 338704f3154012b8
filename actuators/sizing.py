"""Resource choice and sizing for the allocation engine: which resource a risk score asks for,
and how much of it.

Choice: the breach metric first, then the contributors by weight; the first metric that maps
(``metric_resources``, fnmatch patterns in order) to a resource the preference allows, within
its maxima and the host's capacity, gives the candidates, in the mapping's order.

Sizing: with ``c`` the component's allocation (baseline plus its lease), ``p`` the forecast peak
of the breach metric (the largest ``upper`` of its forecasts) and ``t`` the breach threshold,
the peak lands under the threshold, with a margin, when the allocation grows by::

    extra = c * min(max(p / t - 1, 0) + margin, max_growth)

rounded up to whole units and at least ``min_amount``. Without a forecast of that metric (or a
threshold), ``risk / risk_threshold`` stands in for ``p / t``. The lease is capped by the
preference's ``maxima[resource]`` and by ``max_component_share`` of the host's capacity (what
one component's risk can obtain, forged or not), and must fit the host's pool.

Pure: it reads the engine's config and pool, and changes neither.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Mapping
from typing import Any

from actuators.config import EngineConfig
from actuators.pool import EffectivePreference as Pref
from actuators.pool import Lease, Pool, ResourceSpec
from actuators.signal import signal

EPS = 1e-9  # amounts closer than this are equal


class Sizer:
    """The engine's resource choice and sizing, over its ``config`` and (read-only) ``pool``."""

    def __init__(self, config: EngineConfig, pool: Pool) -> None:
        self.config = config
        self.pool = pool

    def candidates(self, risk: Mapping[str, Any], pref: Pref,
                   host: str) -> list[tuple[str, str]]:
        """(resource, metric) to try, in order: the first metric that maps to a usable one."""
        metrics = [str(risk["breach"]["metric"])] if risk.get("breach") else []
        weights = risk.get("contributors") or {}
        metrics += [m for m, w in sorted(weights.items(), key=lambda kv: (-kv[1], kv[0])) if w > 0]
        for metric in metrics:
            usable = [r for r in self.mapped(metric) if self.usable(r, pref, host)]
            if usable:
                return [(r, metric) for r in usable]
        return []

    def mapped(self, metric: str) -> tuple[str, ...]:
        """The resources ``metric_resources`` maps a metric to (first matching pattern)."""
        return next((rs for pattern, rs in self.config.metric_resources
                     if fnmatch.fnmatchcase(metric, pattern)), ())

    def usable(self, resource: str, pref: Pref, host: str) -> bool:
        spec = self.config.resources.get(resource)
        if spec is None or (pref.allowed is not None and resource not in pref.allowed):
            return False
        share = self.config.max_component_share * self.pool.capacity(host, resource)
        return min(pref.maxima.get(resource, math.inf), share) >= spec.min_amount

    def pressure(self, risk: Mapping[str, Any], metric: str) -> float:
        """The forecast peak over the breach threshold, or risk over its threshold."""
        breach = risk.get("breach")
        if breach and breach["metric"] == metric and breach["threshold"] > 0:
            uppers = [f["upper"] for f in risk.get("forecasts") or () if f["metric"] == metric]
            uppers = [u for u in uppers if not math.isnan(u)]
            if uppers:
                return float(max(uppers)) / float(breach["threshold"])
        return signal(risk)[0] / self.config.risk_threshold

    def extra(self, spec: ResourceSpec, current: float, risk: Mapping[str, Any],
              metric: str) -> float:
        """How much to add to an allocation of ``current`` (see the module docstring)."""
        cfg = self.config
        growth = min(max(self.pressure(risk, metric) - 1.0, 0.0) + cfg.margin, cfg.max_growth)
        return spec.round_up(max(current * growth, spec.min_amount))

    def cap(self, resource: str, pref: Pref, amount: float, host: str | None = None) -> float:
        """``amount`` within the preference's maximum and, on ``host``, within
        ``max_component_share`` of the host's capacity; rounded down to whole units."""
        spec = self.config.resources[resource]
        most = pref.maxima.get(resource, math.inf)
        if host is not None:
            most = min(most, self.config.max_component_share * self.pool.capacity(host, resource))
        return spec.round_down(min(amount, most))

    def new_amount(self, resource: str, metric: str, risk: Mapping[str, Any],
                   pref: Pref, host: str | None = None) -> float:
        """The lease a first grant asks for (on ``host``: within its share cap)."""
        spec = self.config.resources[resource]
        return self.cap(resource, pref, self.extra(spec, spec.baseline, risk, metric), host)

    def renewal(self, lease: Lease, risk: Mapping[str, Any], metric: str, pref: Pref) -> float:
        """The lease a renewal asks for: it grows into the host's free capacity only."""
        spec = self.config.resources[lease.resource]
        want = lease.amount + self.extra(spec, spec.baseline + lease.amount, risk, metric)
        room = lease.amount + self.pool.free(lease.host, lease.resource)
        return self.cap(lease.resource, pref, min(want, room), lease.host)
