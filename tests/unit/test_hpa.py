"""The HorizontalPodAutoscaler baseline (actuators/hpa.py) against the Kubernetes docs' rule."""

from __future__ import annotations

import math

import pytest

from actuators.hpa import HorizontalAutoscaler, HPAConfig, desired_replicas
from schemas.errors import ConfigError


def _s(ts_s: int, cpu: float, comp: str = "web-1") -> dict[str, object]:
    return {"component": comp, "host": comp, "ts": ts_s * 1000, "metrics": {"cpu.util": cpu}}


def test_the_docs_formula_by_hand() -> None:
    # desiredReplicas = ceil[currentReplicas * (currentMetricValue / desiredMetricValue)]
    assert desired_replicas(3, 3, 0.9, 0.7) == math.ceil(3 * 0.9 / 0.7) == 4
    assert desired_replicas(10, 10, 0.35, 0.7) == 5  # 50m of 100m: halved
    assert desired_replicas(50, 50, 0.9, 0.75) == 60  # the v1.33 tolerance post's example
    assert desired_replicas(10, 10, 0.76, 0.7) == 10  # ratio 1.086: inside the 10 % tolerance
    assert desired_replicas(10, 10, 0.78, 0.7) == 12  # ratio 1.114: outside


def test_pods_still_starting_count_as_idle_for_a_scale_up() -> None:
    # 2 of 4 ready at 100 %: over all 4, 0.5 / 0.7 < 1: a reversal, no change
    assert desired_replicas(4, 2, 1.0, 0.7) == 4
    # 3 of 4 ready at 100 %: 0.75 / 0.7 = 1.07, within tolerance: no change
    assert desired_replicas(4, 3, 1.0, 0.7) == 4
    # 1 of 2 ready at 100 %: 0.5/0.7 < 1; 2 of 2: ceil(2/0.7) = 3
    assert desired_replicas(2, 1, 1.0, 0.7) == 2 and desired_replicas(2, 2, 1.0, 0.7) == 3


def test_scale_up_at_once_down_only_after_five_minutes() -> None:
    hpa = HorizontalAutoscaler()
    up = hpa.on_sample(_s(0, 1.0))
    assert [(c["resource"], c["action"], c["amount"]) for c in up] == [("REPLICAS", "GRANT", 1.0)]
    assert hpa.on_sample(_s(15, 1.0)) == []  # in flight
    hpa.on_outcome({"command_id": up[0]["command_id"], "status": "APPLIED"})
    assert hpa.replicas() == {"web-1": 2}
    assert hpa.on_sample(_s(20, 1.0), ready=1) == []  # the new pod is starting: wait
    assert hpa.on_sample(_s(40, 0.1), ready=2) == []  # a dip: the 5-min window holds it
    down = []
    for t in range(60, 400, 20):
        down += hpa.on_sample(_s(t, 0.1), ready=2)
    assert [c["action"] for c in down] == ["RELEASE"]  # back to min_replicas
    assert down[0]["ts"] >= (20 + 300) * 1000


def test_scale_up_rate_and_bounds() -> None:
    hpa = HorizontalAutoscaler(HPAConfig(max_replicas=6), min_replicas={"web-1": 2})
    first = hpa.on_sample(_s(0, 1.0))  # 2 pods at 100 %: ceil(2 / 0.7) = 3
    assert first[0]["amount"] == 1.0
    hpa.on_outcome({"command_id": first[0]["command_id"], "status": "REJECTED"})
    assert hpa.replicas() == {"web-1": 2}  # a rejected command changes nothing
    hpa2 = HorizontalAutoscaler(HPAConfig(targets={"cpu.util": 0.1}, max_replicas=6))
    cmd = hpa2.on_sample(_s(0, 1.0))[0]  # ceil(10) = 10, but +4 pods / 15 s and at most 6
    assert cmd["amount"] == 4.0


def test_commands_are_deterministic_and_config_validated() -> None:
    a, b = HorizontalAutoscaler(), HorizontalAutoscaler()
    assert a.on_sample(_s(0, 1.0)) == b.on_sample(_s(0, 1.0))
    for bad in ({"targets": {"cpu.util": 1.5}}, {"tolerance": 1.0}, {"sync_s": 0},
                {"max_replicas": 0}):
        with pytest.raises(ConfigError):
            HPAConfig(**bad)  # type: ignore[arg-type]
