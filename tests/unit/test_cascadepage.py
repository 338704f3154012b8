"""``cascade_page`` (issue #15, s30): a child's emitted risk is at least the alarm point while a
parent pages, its context stands at or over that point and it is not in a rule FAIL; ``act``,
what is learnt and the parent's records are the option's off ones."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from actuators.signal import signal
from processors.cascadepage import floored
from processors.componentstate import ComponentState
from processors.config import PipelineConfig
from processors.pipeline import Pipeline
from tests.unit.test_alarmcascade import restores_under
from tests.unit.test_context_reach import db_failing_every
from tests.unit.test_pipeline import flat

T = 1 / 3
ON = PipelineConfig(cascade_page=True)
OFF = PipelineConfig(cascade_page=False)


def _state(hi_ms: int | None) -> ComponentState:
    return cast(ComponentState, SimpleNamespace(alarm_hi_ms=hi_ms))


def test_the_floor_needs_a_paging_parent_a_standing_context_and_no_own_fail() -> None:
    states = {"db": _state(60_000), "cache": _state(None)}
    ev = {"context": 0.4, "fail": 0.0}
    assert floored(0.05, None, ev, ON, ["cache", "db"], states) == (T, 0.05)
    assert floored(0.05, 0.6, ev, ON, ["db"], states) == (T, 0.6)  # act's own, kept
    assert floored(0.05, None, ev, OFF, ["db"], states) == (0.05, None)  # off
    assert floored(0.05, None, ev, ON, ["cache"], states) == (0.05, None)  # no parent pages
    assert floored(0.05, None, ev, ON, ["gone"], states) == (0.05, None)  # not held here
    assert floored(0.05, None, ev, ON, [], states) == (0.05, None)
    assert floored(0.05, None, {"context": 0.3, "fail": 0.0}, ON, ["db"], states) == (0.05, None)
    assert floored(0.05, None, {"context": 0.4, "fail": 1.0}, ON, ["db"], states) == (0.05, None)
    assert floored(0.7, None, ev, ON, ["db"], states) == (0.7, None)  # over the point


def _records(config: PipelineConfig) -> list[dict[str, Any]]:
    """db-1 failing every 40 minutes for 6 hours, its page held out throughout (its alarm
    state set before each sample: its own risk is about new FAILs and stays low here), and
    app-1, flat, depending on it."""
    samples = db_failing_every(40, 6) + flat(6 * 60, component="app-1")
    p = Pipeline(PipelineConfig(**{**config.__dict__, "dependencies": (("app-1", "db-1"),)}))
    out: list[dict[str, Any]] = []
    for s in sorted(samples, key=lambda s: (s["ts"], s["component"])):
        if "db-1" in p._states:  # noqa: SLF001
            p._states["db-1"].alarm_hi_ms = s["ts"]  # noqa: SLF001
        out += p.ingest(s).risk
    return out + p.flush().risk


def test_the_child_pages_with_its_parent_and_nothing_else_moves() -> None:
    off, on = _records(OFF), _records(ON)
    assert len(off) == len(on)
    lifted = 0
    for a, b in zip(off, on, strict=True):
        assert signal(b) == signal(a)  # what the allocators read
        if a["component"] == "db-1" or b["risk"] == a["risk"]:
            assert {**b, "alarm": None} == {**a, "alarm": None}
            continue
        assert b["risk"] == T > a["risk"] and b["alarm"]
        assert b["act"] == (a["act"] or {"risk": a["risk"], "anomaly": a["anomaly"]})
        lifted += 1
    assert lifted > 0


def test_a_checkpoint_without_it_restores_with_it() -> None:
    """No state and no state-key part."""
    restores_under(OFF, ON)
