"""``forewarn actuate --sizing``'s loop on the real embedded broker: a real VM's samples in
through ``forewarn.metrics``; out on ``forewarn.allocations``, the very commands the backtest's
code (RightSizing, the sizers of ``backtest trace``) decides on the same samples."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from actuators.backends.dryrun import DryRunBackend
from actuators.rightsize import RightSizing
from schemas.codec import Codec
from streams.runtime.sizing import SizingActuator
from streams.settings import Settings
from streams.sim.traces import read_bitbrains, samples
from tests.kafkautil import producer, read_all

pytestmark = pytest.mark.integration
codec = Codec()
DATA = Path("/work/shared/data/bitbrains/rnd/2013-7/3.csv.gz")


@pytest.mark.skipif(not DATA.exists(), reason="the shared Bitbrains subset is not here")
@pytest.mark.parametrize("policy", ["vpa", "forewarn"])
def test_live_sizing_makes_the_backtest_decisions(settings: Settings, policy: str) -> None:
    trace = read_bitbrains(DATA, component="vm-3")
    sent = list(samples(trace))[:400]
    offline = RightSizing(policy, delay_s=300, step_s=300)
    want = [c for s in sent for c in offline.on_sample(s)]
    assert want, "the sizing changes the allocation on these samples"

    act = SizingActuator(settings, DryRunBackend(hosts=("vm-*",)),
                         RightSizing(policy, delay_s=300, step_s=300))
    stop = threading.Event()
    thread = threading.Thread(target=act.run, args=(stop,), daemon=True)
    thread.start()
    try:
        p = producer(settings)
        for s in sent:
            p.produce(settings.topic("metrics"), key=b"vm-3",
                      value=codec.encode("MetricSample", s))
        p.produce(settings.topic("metrics"), key=b"vm-3", value=b"\x00 not a sample")
        p.flush(10)
        deadline = time.monotonic() + 60
        while act.stats.samples < len(sent) or act.stats.dead < 1:
            assert time.monotonic() < deadline, f"only {act.stats.samples} samples read"
            time.sleep(0.1)
        got = read_all(settings, "allocations", codec=codec,
                       until=lambda rs: len(rs) >= len(want), timeout_s=60)
        outcomes = read_all(settings, "outcomes", codec=codec,
                            until=lambda rs: len(rs) >= len(want), timeout_s=60)
        dead = read_all(settings, "deadletter", codec=codec, until=lambda rs: len(rs) >= 1,
                        timeout_s=30)
    finally:
        stop.set()
        thread.join(30)
        act.close()
    assert [r[3]["command_id"] for r in got] == [c["command_id"] for c in want]
    assert [r[3]["amount"] for r in got] == [c["amount"] for c in want]
    assert {r[3]["status"] for r in outcomes} == {"APPLIED"}
    assert len(dead) == 1 and dead[0][3]["reason"]  # the garbage, dead-lettered with why
