"""``forewarn actuate --sizing fleet``'s loop on the real embedded broker: a simulated web's
samples in through ``forewarn.metrics``; out on ``forewarn.allocations``, the very commands
``backtest fleet --policy forewarn``'s code (actuators.fleetsizing.FleetSizing) decides on the
same samples, outcomes fed back the same way."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from actuators.backends.dryrun import DryRunBackend
from schemas.codec import Codec
from streams.runtime.sizing import SizingActuator, make_sizing
from streams.settings import Settings
from streams.sim.simulator import Fleet, scenario
from tests.kafkautil import producer, read_all

pytestmark = pytest.mark.integration
codec = Codec()


def test_live_fleet_sizing_makes_the_backtest_decisions(settings: Settings,
                                                        tmp_path: Path) -> None:
    sc = scenario("flash_crowd", seed=42)
    web = next(c for c in sc.components if c.id == "web-01")
    workloads = tmp_path / "workloads.json"
    workloads.write_text(json.dumps([{"id": web.id, "host": web.host, "cores": web.cores,
                                      "mem_gib": web.mem_gib, "link_mbit": web.link_mbit}]))
    fleet = Fleet(sc)
    sent = [s for _ in range(400) for s in fleet.step() if s["component"] == web.id]
    offline, backend = make_sizing("fleet", None, 240, 60, workloads), DryRunBackend(
        hosts=("web-*",))
    want = []
    for s in sent:
        for c in offline.on_sample(s):
            offline.on_outcome(backend.apply(c))
            want.append(c)
    assert {c["resource"] for c in want} >= {"REPLICAS", "CPU_WEIGHT"}

    act = SizingActuator(settings, DryRunBackend(hosts=("web-*",)),
                         make_sizing("fleet", None, 240, 60, workloads))
    stop = threading.Event()
    thread = threading.Thread(target=act.run, args=(stop,), daemon=True)
    thread.start()
    try:
        p = producer(settings)
        for s in sent:
            p.produce(settings.topic("metrics"), key=web.id.encode(),
                      value=codec.encode("MetricSample", s))
        p.flush(10)
        deadline = time.monotonic() + 60
        while act.stats.samples < len(sent):
            assert time.monotonic() < deadline, f"only {act.stats.samples} samples read"
            time.sleep(0.1)
        got = read_all(settings, "allocations", codec=codec,
                       until=lambda rs: len(rs) >= len(want), timeout_s=60)
    finally:
        stop.set()
        thread.join(30)
        act.close()
    assert [r[3]["command_id"] for r in got] == [c["command_id"] for c in want]
    assert [r[3]["amount"] for r in got] == [c["amount"] for c in want]


def test_a_bad_workloads_file_is_one_clear_error(tmp_path: Path) -> None:
    from schemas.errors import ConfigError

    bad = tmp_path / "w.json"
    bad.write_text('[{"id": "x"}]')
    with pytest.raises(ConfigError, match="workloads file"):
        make_sizing("fleet", None, 240, 60, bad)
    with pytest.raises(ConfigError, match="needs a workloads file"):
        make_sizing("fleet", None, 240, 60)
