"""processors.pagehinkley against River's drift.PageHinkley: the same floats, bit for bit."""

from __future__ import annotations

import random

import pytest
from river import drift

from processors.pagehinkley import PageHinkley


def _fields(ph: object) -> tuple[object, ...]:
    if isinstance(ph, PageHinkley):
        return (ph.n, ph.mean, ph.sum_increase, ph.sum_decrease, ph.min_increase,
                ph.max_decrease, ph.drift_detected)
    r: drift.PageHinkley = ph  # type: ignore[assignment]
    return (r._x_mean.n, r._x_mean._mean, r._sum_increase, r._sum_decrease, r._min_increase,
            r._max_decrease, r.drift_detected)


@pytest.mark.parametrize("mode", ["up", "down", "both"])
def test_every_step_equals_rivers_bit_for_bit(mode: str) -> None:
    rng = random.Random(7)
    ours = PageHinkley(min_instances=20, delta=0.005, threshold=15.0, alpha=0.99, mode=mode)
    theirs = drift.PageHinkley(min_instances=20, delta=0.005, threshold=15.0, alpha=0.99,
                               mode=mode)
    drifts = 0
    for i in range(5000):  # shifts up and down, so both sides drift and reset
        level = (4.0 if (i // 700) % 3 == 1 else -3.0 if (i // 700) % 3 == 2 else 0.0)
        x = min(10.0, abs(level + rng.gauss(0, 1)))
        ours.update(x)
        theirs.update(x)
        assert [repr(v) for v in _fields(ours)] == [repr(v) for v in _fields(theirs)]
        drifts += ours.drift_detected
    assert drifts >= 3
    took = PageHinkley.from_river(theirs)
    assert [repr(v) for v in _fields(took)] == [repr(v) for v in _fields(theirs)]


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="mode"):
        PageHinkley(mode="sideways")
