"""Forged events on a real broker, against a live actuator (issue #12, "anyone who can write
to the topics steers the fleet"): each was an attack that worked, and must not any more."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from actuators.backends.dryrun import DryRunBackend
from schemas.codec import Codec
from streams.runtime.actuator import Actuator
from streams.settings import Settings
from streams.sim.examples import risk_event
from tests.kafkautil import producer, read_all

pytestmark = pytest.mark.integration
codec = Codec()
MIN = 60_000


@pytest.fixture
def running(settings: Settings) -> Iterator[tuple[Settings, Actuator]]:
    s = settings.replace(owned="web-*")
    actuator = Actuator(s, DryRunBackend(hosts=("web-*",)))
    stop = threading.Event()
    thread = threading.Thread(target=actuator.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield s, actuator
    finally:
        stop.set()
        thread.join(30)
        actuator.close()


def wait_for(cond, what: str, timeout_s: float = 30) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout_s
    while not cond():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_one_forged_risk_stamped_ahead_releases_no_other_lease(running) -> None:
    s, actuator = running
    now = int(time.time() * 1000)
    lease_s = actuator.engine.config.lease_s
    start = now - lease_s * 1000 + 10 * MIN  # the leases end 10 minutes from now
    p = producer(s)
    for i in range(5):
        comp = f"web-{i}/app"
        p.produce(s.topic("risk"), key=comp.encode(),
                  value=codec.encode("RiskScore", risk_event(comp, start)))
    p.flush(10)
    wait_for(lambda: len(actuator.engine.leases()) == 5, "the five grants never came")
    # one forged score, risk 0, stamped 59 minutes ahead (within the actuator's 60 min bound)
    forged = risk_event("web-9/forged", now + 59 * MIN, value=0.0)
    p.produce(s.topic("risk"), key=b"web-9/forged", value=codec.encode("RiskScore", forged))
    p.flush(10)
    wait_for(lambda: actuator.stats.risks >= 6, "the forged score was never read")
    time.sleep(2.5)  # ticks, and the fleet's time recomputed (once a second)
    # before per-component clocks: the engine's one clock jumped, every lease ended (RELEASE)
    assert len(actuator.engine.leases()) == 5
    cmds = read_all(s, "allocations", codec=codec)
    assert [c[3]["action"] for c in cmds if c[3]["component"] != "web-9/forged"] == ["GRANT"] * 5


def test_a_preference_stamped_2_to_the_53_cannot_override_later_ones(running) -> None:
    s, actuator = running
    now = int(time.time() * 1000)
    p = producer(s)

    def pref(ts: int, paused: bool) -> bytes:
        return codec.encode("Preference", {"selector": "web-1/*", "ts": ts, "criticality": 5,
                                           "allowed_resources": None, "maxima": {},
                                           "paused": paused})

    p.produce(s.topic("preferences"), key=b"web-1/*", value=pref(2**53, True))
    p.flush(10)
    dead = read_all(s, "deadletter", until=lambda r: len(r) >= 1, codec=codec)
    assert dead[0][3]["stage"] == "validate" and "preference ts" in dead[0][3]["reason"]
    p.produce(s.topic("preferences"), key=b"web-1/*", value=pref(now, True))
    p.flush(10)
    wait_for(lambda: actuator.engine.preference("web-1/app")["paused"], "pause never arrived")
    p.produce(s.topic("preferences"), key=b"web-1/*", value=pref(now + 1000, False))  # resume
    p.flush(10)
    wait_for(lambda: not actuator.engine.preference("web-1/app")["paused"],
             "the resume did not take: the forged preference still wins")


def test_forged_risk_1_for_ten_minutes_gets_at_most_the_component_share(running) -> None:
    s, actuator = running
    now = int(time.time() * 1000)
    comp = "web-1/app"
    p = producer(s)
    for i in range(61):  # risk 1.0 every 10 s of event time for 10 minutes, up to now
        forged = risk_event(comp, now - 10 * MIN + i * 10_000, value=1.0)
        forged["forecasts"][0].update(mean=3.0, upper=5.0)  # asks for all the growth it may
        p.produce(s.topic("risk"), key=comp.encode(), value=codec.encode("RiskScore", forged))
    p.flush(10)
    wait_for(lambda: actuator.stats.risks >= 61, "the forged scores were never all read")
    share = actuator.engine.config.max_component_share
    cap = share * actuator.engine.capacity("web-1", "CPU_WEIGHT")

    def grants(records: list) -> list[dict]:
        return [r[3] for r in records if r[3]["component"] == comp and r[3]["action"] == "GRANT"]

    got = grants(read_all(s, "allocations", codec=codec,
                          until=lambda r: any(g["amount"] >= cap for g in grants(r))))
    assert len(got) >= 2 and {g["resource"] for g in got} == {"CPU_WEIGHT"}, got
    # before the cap: 63 % of the host's CPU_WEIGHT within these 10 minutes
    assert max(g["amount"] for g in got) == cap, got


def test_forged_hosts_are_capped_live_with_a_counter(settings: Settings) -> None:
    from actuators.engine import AllocationEngine, EngineConfig

    s = settings.replace(owned="web-*")
    engine = AllocationEngine(EngineConfig(holdout=0.0, max_new_hosts=2, new_host_window_s=60))
    actuator = Actuator(s, DryRunBackend(hosts=("web-*",)), engine=engine)
    now = int(time.time() * 1000)
    p = producer(s)

    def send_and_read(events: list[tuple[str, int]], total: int) -> None:
        for comp, ts in events:
            p.produce(s.topic("risk"), key=comp.encode(),
                      value=codec.encode("RiskScore", risk_event(comp, ts, value=1.0)))
        p.flush(10)
        deadline = time.monotonic() + 30
        while actuator.stats.risks < total and time.monotonic() < deadline:
            actuator.poll_once()

    try:
        send_and_read([("web-real/app", now - 10 * MIN)], 1)  # opens the first window
        # 5 minutes later in event time: past the first (uncapped) window of 60 s
        send_and_read([(f"web-forged-{i}/x", now - 5 * MIN) for i in range(8)], 9)
    finally:
        actuator.close()
    assert actuator.stats.risks == 9
    hosts = {lease["host"] for lease in engine.leases()}
    assert "web-real" in hosts and len(hosts) == 3, hosts  # two forged hosts got in
    assert engine.refused_hosts == 6
    assert actuator.metrics.refused_new.labels("host")._value.get() == 6
