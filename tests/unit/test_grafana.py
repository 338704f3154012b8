"""The Grafana dashboard and its provisioning (deploy/grafana) stay true to what forewarn
exports, and docker-compose mounts what exists and scrapes what runs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from prometheus_client import CollectorRegistry

from streams.api.gauges import ReadModelCollector
from streams.api.model import ReadModel
from streams.telemetry import ActuatorMetrics, WorkerMetrics

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "forewarn.json"
METRIC = re.compile(r"\bforewarn_[a-z0-9_]+")


class _Held:
    def read(self, fn):  # type: ignore[no-untyped-def]
        m = ReadModel()
        m.apply("RiskScore", {"component": "c", "ts": 1, "risk": 0.5, "anomaly": 0.0,
                              "horizon_s": 900, "breach": {"metric": "cpu.util",
                                                           "threshold": 0.9, "eta_s": 60.0,
                                                           "probability": 0.5},
                              "forecasts": [], "contributors": {},
                              "model": {"version": "v", "samples_seen": 1, "warm": True,
                                        "source": "component"}})
        return fn(m)


def exported() -> set[str]:
    """Every sample name forewarn's exporters can produce."""
    names: set[str] = set()
    registries = [WorkerMetrics().registry, ActuatorMetrics().registry]
    api = CollectorRegistry()
    api.register(ReadModelCollector(_Held()))
    for registry in [*registries, api]:
        for family in registry.collect():
            names.add(family.name)
            for suffix in ("_total", "_bucket", "_count", "_sum", "_created"):
                names.add(family.name + suffix)
    return names


def test_every_panel_queries_a_metric_forewarn_exports() -> None:
    dash = json.loads(DASHBOARD.read_text())
    assert dash["uid"] == "forewarn" and dash["panels"]
    known = exported()
    used = {m for p in dash["panels"] for t in p["targets"] for m in METRIC.findall(t["expr"])}
    assert used and used <= known, used - known
    for family in ("forewarn_component_risk", "forewarn_component_breach_eta_seconds",
                   "forewarn_component_lease_amount", "forewarn_component_health",
                   "forewarn_components_alarm_firing"):
        assert family in used
    assert {p["datasource"]["uid"] for p in dash["panels"]} == {"forewarn-prometheus"}


def test_compose_provisions_grafana_and_scrapes_what_runs() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    for name in ("prometheus", "grafana"):
        for volume in services[name]["volumes"]:
            assert (ROOT / volume.split(":")[0]).exists(), volume
    ds = yaml.safe_load((ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml")
                        .read_text())
    assert ds["datasources"][0]["uid"] == "forewarn-prometheus"
    prom = yaml.safe_load((ROOT / "deploy/prometheus/compose.yml").read_text())
    env = compose["x-forewarn"]["environment"]
    targets = {}
    for job in prom["scrape_configs"]:
        for sd in job.get("dns_sd_configs", []):
            targets.update({n: sd["port"] for n in sd["names"]})
        for sc in job.get("static_configs", []):
            targets.update(dict(t.split(":") for t in sc["targets"]))
    assert int(targets["worker"]) == int(env["FOREWARN_METRICS_PORT"])
    assert int(targets["actuator"]) == int(env["FOREWARN_METRICS_PORT"])
    api_port = services["api"]["command"][services["api"]["command"].index("--port") + 1]
    assert int(targets["api"]) == int(api_port)
