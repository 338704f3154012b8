"""A worker over its ``max_components`` checkpoints the least recently seen component, evicts
it, and when that component is seen again restores it from the checkpoint it parked: on the
real embedded broker, what each component's own state decides in its risk events is exactly
what one uninterrupted pipeline gives (issues #12 "an evicted component returns cold", #14)."""

from __future__ import annotations

import pytest

from processors.pipeline import Pipeline
from streams.runtime.worker import pipeline_config
from streams.settings import Settings
from tests.conftest import fresh_settings
from tests.integration.test_checkpoint import (
    assert_same_as_reference,
    codec,
    sample,
    scrape,
    start,
    wait_risk,
)
from tests.kafkautil import producer

pytestmark = pytest.mark.integration

# (component, steps): a and b, then c alone (a or b evicted), then a and b again (each
# returning one evicts another): every component is evicted at least once and comes back
PHASES = [(("ev-a", "ev-b"), range(0, 60)), (("ev-c",), range(0, 60)),
          (("ev-a", "ev-b"), range(60, 120))]


def feed() -> list[dict]:
    return [sample(c, i) for comps, steps in PHASES for i in steps for c in comps]


def reference(s: Settings) -> dict[str, dict[int, dict]]:
    pipe = Pipeline(pipeline_config(s))
    out: dict[str, dict[int, dict]] = {c: {} for c in ("ev-a", "ev-b", "ev-c")}
    for smp in feed():
        for r in pipe.ingest(smp).risk:
            out[r["component"]][r["ts"]] = codec.decode(codec.encode("RiskScore", r))[1]
    return out


def test_evicted_components_come_back_warm(broker, tmp_path, monkeypatch) -> None:
    s = fresh_settings(broker, tmp_path)
    monkeypatch.setenv("FOREWARN_MAX_COMPONENTS", "2")
    w, port = start(s, "w", tmp_path, monkeypatch)
    try:
        p = producer(s)
        for smp in feed():
            p.produce(s.topic("metrics"), key=smp["component"].encode(),
                      value=codec.encode("MetricSample", smp))
        assert p.flush(10) == 0
        ref = reference(s)
        got = wait_risk(s, ref, timeout_s=60)
        m = scrape(port)
    finally:
        assert w.stop() == 0
    evicted = sum(v for k, v in m.items() if k.startswith("forewarn_components_evicted_total"))
    assert evicted >= 3, m  # a, b and c each evicted at least once
    assert m["forewarn_worker_components"] <= 2
    assert_same_as_reference(got, ref)  # samples_seen, warm, forecasts: none came back cold
