"""Prometheus gauges per component, from the read model, with bounded cardinality.

Label set (documented in docs/api.md): ``component`` (at most ``max_series`` of them: pages
firing first, then the highest risk, ties by id), ``metric`` (the breach metric: the health
rules' metric names), ``resource`` (the 8 AllocationCommand resources). Families:

- ``forewarn_component_risk{component}``: latest risk (0..1)
- ``forewarn_component_breach_eta_seconds{component,metric}``: forecast time to breach
- ``forewarn_component_lease_amount{component,resource}``: amount leased now (over baseline)
- ``forewarn_component_health{component}``: worst health, 0 PASS, 1 WARN, 2 FAIL
- ``forewarn_component_alarm{component}``: the page (RiskScore's ``alarm``), 1 firing, 0 not;
  no sample where it is unknown (events written before s29, or ``alarm_hold_s`` 0)
- ``forewarn_components`` / ``forewarn_components_exported``: known / exported components
- ``forewarn_components_alarm_firing``: components whose page fires, all of them (not capped)

Cardinality: at most ``max_series * (3 + 1 + 8)`` series.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from streams.api.model import HEALTH_RANK, ReadModel
from streams.api.views import paging_first

DEFAULT_MAX_SERIES = 500


class ReadModelCollector(Collector):
    """Collects the gauges above from ``live`` (anything with ``read(fn)``) at scrape time."""

    def __init__(self, live: Any, max_series: int = DEFAULT_MAX_SERIES) -> None:
        self.live = live
        self.max_series = max_series

    def collect(self) -> Iterator[GaugeMetricFamily]:
        return iter(self.live.read(self._families))

    def _families(self, m: ReadModel) -> list[GaugeMetricFamily]:
        risk = GaugeMetricFamily("forewarn_component_risk", "latest risk of a FAIL within the "
                                 "horizon", labels=["component"])
        eta = GaugeMetricFamily("forewarn_component_breach_eta_seconds", "forecast seconds "
                                "until the breach metric crosses its threshold",
                                labels=["component", "metric"])
        lease = GaugeMetricFamily("forewarn_component_lease_amount", "amount leased now, over "
                                  "the baseline", labels=["component", "resource"])
        health = GaugeMetricFamily("forewarn_component_health", "worst health: 0 PASS, 1 WARN, "
                                   "2 FAIL", labels=["component"])
        alarm = GaugeMetricFamily("forewarn_component_alarm", "the page (RiskScore's alarm): "
                                  "1 firing, 0 not; absent where unknown", labels=["component"])
        scored = [c for c in m.components_.values() if c.risk is not None]
        scored.sort(key=paging_first)
        chosen = scored[: self.max_series]
        for c in chosen:
            r = c.risk
            assert r is not None
            risk.add_metric([c.id], float(r["risk"]))
            if r["breach"]:
                eta.add_metric([c.id, r["breach"]["metric"]], float(r["breach"]["eta_s"]))
            for ls in m.leases_now(c):
                lease.add_metric([c.id, ls["resource"]], float(ls["amount"]))
            health.add_metric([c.id], float(HEALTH_RANK[c.health_state()]))
            if (page := c.alarm()) is not None:
                alarm.add_metric([c.id], 1.0 if page else 0.0)
        total = GaugeMetricFamily("forewarn_components", "components in the read model",
                                  value=len(m.components_))
        exported = GaugeMetricFamily("forewarn_components_exported", "components with "
                                     "per-component series (capped)", value=len(chosen))
        firing = GaugeMetricFamily("forewarn_components_alarm_firing", "components whose page "
                                   "(alarm) fires now, all of them", value=len(m.paging))
        return [risk, eta, lease, health, alarm, total, exported, firing]


class Forward(Collector):
    """Another registry's metrics, collected at scrape time."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterator[Metric]:
        return iter(self.registry.collect())
