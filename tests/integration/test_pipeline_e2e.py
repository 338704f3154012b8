"""The foundation slice, end to end on the real embedded broker: metrics → Faust worker →
health / risk → actuator → allocations / outcomes, and the dead-letter path."""

from __future__ import annotations

import threading
from collections import defaultdict

import pytest

from actuators.backends.dryrun import DryRunBackend
from schemas.codec import Codec
from streams.api.server import ApiServer
from streams.runtime.actuator import Actuator
from streams.runtime.broker import free_port
from streams.settings import Settings
from tests.apiutil import call, wait_for
from tests.conftest import WorkerProcess
from tests.kafkautil import producer, read_all

pytestmark = pytest.mark.integration
BASE_MS = 1_767_571_200_000  # 2026-01-05T00:00Z
codec = Codec()


def sample(component: str, i: int, cpu: float) -> bytes:
    rec = {"component": component, "host": component.split("/")[0], "ts": BASE_MS + i * 10_000,
           "metrics": {"cpu.util": cpu, "mem.used_pct": 40.0}, "tags": {}}
    return codec.encode("MetricSample", rec)


def of(component: str, records: list) -> list:
    return [r for r in records if r[3]["component"] == component]


def test_ramp_gives_rising_risk_then_a_command_and_an_outcome(worker_env) -> None:
    s, _ = worker_env
    p = producer(s)
    for i in range(240):  # 40 minutes at 10 s: cpu 0.30 → 1.0
        p.produce(s.topic("metrics"), key=b"ramp-1", value=sample("ramp-1", i, 0.3 + 0.7 * i / 240))
        p.produce(s.topic("metrics"), key=b"flat-1", value=sample("flat-1", i, 0.3))
    p.flush(10)
    risks = read_all(s, "risk", until=lambda r: len(of("ramp-1", r)) >= 35, codec=codec)
    ramp = [r[3] for r in of("ramp-1", risks)]
    flat = [r[3] for r in of("flat-1", risks)]
    assert len(ramp) >= 35 and flat
    # Risk is P(a new FAIL within the horizon): it peaks before the breach, then falls once
    # the component is already failing.
    peak = max(range(len(ramp)), key=lambda i: ramp[i]["risk"])
    assert ramp[peak]["risk"] > 0.6 > max(r["risk"] for r in flat)
    assert ramp[peak]["risk"] > ramp[5]["risk"]
    breach = [r["breach"] for r in ramp if r["breach"]]
    assert breach and breach[0]["metric"] == "cpu.util"

    backend = DryRunBackend()
    actuator = Actuator(s, backend)
    stop = threading.Event()
    t = threading.Thread(target=actuator.run, args=(stop,), daemon=True)
    t.start()
    try:
        # the ramp's grant of more (flat-1 may be scaled down first: partitions are read in any
        # order; and the ramp's idle memory may be scaled down, a negative grant, before it)
        cmds = read_all(s, "allocations", codec=codec, until=lambda r: any(
            c[3]["component"] == "ramp-1" and c[3]["action"] == "GRANT" and c[3]["amount"] > 0
            for c in r))
        grants = [c[3] for c in cmds if c[3]["action"] == "GRANT"
                  and c[3]["component"] == "ramp-1" and c[3]["amount"] > 0]
        assert grants, cmds
        outs = read_all(s, "outcomes", codec=codec, until=lambda r: any(
            o[3]["command_id"] == grants[0]["command_id"] for o in r))
    finally:
        stop.set()
        t.join(30)
        actuator.close()
    assert grants[0]["amount"] > 0
    assert grants[0]["resource"] in ("CPU_WEIGHT", "CPU_QUOTA")
    assert {o[3]["command_id"] for o in outs} >= {grants[0]["command_id"]}
    assert all(o[3]["status"] == "APPLIED" for o in outs if o[3]["backend"] == "dryrun")
    # a quiet component may be scaled down (a negative grant), never given more
    flat_cmds = [c[3] for c in cmds if c[3]["component"] == "flat-1"]
    assert all(c["action"] != "GRANT" or c["amount"] < 0 for c in flat_cmds), flat_cmds
    issued = actuator.metrics.registry.get_sample_value(
        "forewarn_actuator_commands_total", {"action": "GRANT", "resource": grants[0]["resource"]}
    )
    assert issued is not None and issued >= 1
    page_in_the_api(s, ramp)


def page_in_the_api(s: Settings, ramp: list[dict]) -> None:
    """The worker's page (RiskScore's ``alarm``) as the API shows it: the ramp ends in a FAIL,
    where the page is never released, so it is firing since its run's first window."""
    fired = [i for i, r in enumerate(ramp) if r["alarm"]]
    assert fired and ramp[-1]["alarm"] is True, [(r["risk"], r["alarm"]) for r in ramp]
    start = fired[-1]
    while start > 0 and ramp[start - 1]["alarm"]:
        start -= 1
    server = ApiServer(s, port=free_port()).start()
    try:
        got = wait_for(lambda: call("GET", f"{server.url}v1/components?alarm=true")[1])
        assert [(c["id"], c["alarm_since_ms"]) for c in got] == [("ramp-1", ramp[start]["ts"])]
        text = call("GET", f"{server.url}metrics")[1]
        assert 'forewarn_component_alarm{component="ramp-1"} 1.0' in text
    finally:
        server.close()


def test_malformed_message_is_dead_lettered_and_the_next_one_still_processed(worker_env) -> None:
    s, _ = worker_env
    p = producer(s)
    p.produce(s.topic("metrics"), key=b"dl-1", value=b"\x00\x01 not an event")
    p.produce(s.topic("metrics"), key=b"dl-1", value=b'{"component": "dl-1"}')
    for i in range(20):  # enough to close a window after the bad messages
        p.produce(s.topic("metrics"), key=b"dl-1", value=sample("dl-1", i, 0.4))
    p.flush(10)
    dead = read_all(s, "deadletter", until=lambda r: len(of_dl("dl-1", r)) >= 2, codec=codec)
    mine = of_dl("dl-1", dead)
    assert [d["stage"] for d in mine] == ["decode", "decode"]
    assert mine[0]["original"] == b"\x00\x01 not an event"
    assert "metrics[" in mine[0]["reason"] and "@" in mine[0]["reason"]
    assert "does not fit" in mine[1]["reason"]
    risks = read_all(s, "risk", until=lambda r: len(of("dl-1", r)) >= 1, codec=codec)
    assert of("dl-1", risks), "the good messages after the bad ones were not processed"


def of_dl(key: str, records: list) -> list:
    return [r[3] for r in records if r[2] == key.encode()]


def test_order_per_component_is_kept_across_three_partitions(worker_env) -> None:
    s, _ = worker_env
    comps = [f"ord-{n}/svc" for n in range(12)]
    p = producer(s)
    for i in range(60):
        for c in comps:
            p.produce(s.topic("metrics"), key=c.encode(), value=sample(c, i, 0.2 + (i % 7) / 20))
    p.flush(10)
    keys = {c.encode() for c in comps}
    metrics = read_all(s, "metrics", until=lambda r: sum(x[2] in keys for x in r) >= 720)
    metrics_part = {r[2].decode(): r[0] for r in metrics if r[2] in keys}
    risks = read_all(
        s, "risk",
        until=lambda r: all(len(of(c, r)) >= 8 for c in comps),
        codec=codec,
    )
    assert len({metrics_part[c] for c in comps}) == 3, "12 keys should cover 3 partitions"
    seen: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    for part, offset, _, rec in risks:
        if rec["component"] in comps:
            seen[rec["component"]].append((part, offset, rec["ts"]))
    for c in comps:
        parts = {x[0] for x in seen[c]}
        assert parts == {metrics_part[c]}, f"{c}: risk on {parts}, metrics on {metrics_part[c]}"
        by_offset = sorted(seen[c], key=lambda x: x[1])
        ts = [x[2] for x in by_offset]
        assert ts == sorted(ts) and len(set(ts)) == len(ts), f"{c}: windows out of order"


def test_worker_stops_cleanly(broker, tmp_path) -> None:
    from tests.conftest import fresh_settings

    s = fresh_settings(broker, tmp_path)
    w = WorkerProcess(s, tmp_path / "w.log")
    p = producer(s)
    for i in range(12):
        p.produce(s.topic("metrics"), key=b"stop-1", value=sample("stop-1", i, 0.5))
    p.flush(10)
    read_all(s, "health", until=lambda r: len(r) >= 1, codec=codec)
    assert w.stop() == 0
