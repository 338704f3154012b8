"""Allocation commands → the pipeline's acted intervals (``streams/runtime/actions.py``)."""

from __future__ import annotations

from typing import Any

from processors.pipeline import Pipeline
from streams.runtime.actions import ActionTracker


class Recording(Pipeline):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, int, int | None]] = []

    def on_action(self, component: str, start_ms: int, end_ms: int | None = None) -> None:
        self.calls.append((component, start_ms, end_ms))
        super().on_action(component, start_ms, end_ms)


def cmd(component: str, ts: int, action: str, amount: float = 100.0) -> dict[str, Any]:
    return {"component": component, "ts": ts, "action": action, "amount": amount}


def test_an_interval_opens_at_the_first_grant_and_closes_at_release_or_preempt() -> None:
    pipe = Recording()
    tracker = ActionTracker(pipe)
    for c in (cmd("a", 10, "GRANT"), cmd("a", 20, "GRANT"), cmd("a", 30, "RELEASE"),
              cmd("b", 40, "GRANT", -25.0), cmd("b", 50, "PREEMPT"), cmd("c", 60, "RELEASE")):
        tracker.on_command(c)
    assert pipe.calls == [("a", 10, None), ("a", 10, 30), ("b", 40, None), ("b", 40, 50)]
    assert tracker.open == {} and tracker.told == 4


def test_components_this_worker_does_not_hold_are_left_alone() -> None:
    pipe = Recording()
    tracker = ActionTracker(pipe)
    tracker.on_command(cmd("elsewhere", 10, "GRANT"), known={"mine"})
    tracker.on_command(cmd("mine", 10, "GRANT"), known={"mine"})
    assert pipe.calls == [("mine", 10, None)]
    assert pipe.components() == ["mine"]
