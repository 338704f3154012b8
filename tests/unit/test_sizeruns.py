"""forewarn's sizing by cost over the run-starting buckets only (``actuators.sizeruns``, session
22): the same allocation and P(demand > a), bit for bit, as over every bucket."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import actuators.forecast_sizing as fs
from actuators.rightsize import ForewarnSizer, make_sizer
from actuators.sizerbase import GIB_KB, MHZ_PER_CORE
from actuators.sizeruns import exact, keep, ones

KNOBS = (1.0, 0.3, 0.1, 0.03, 0.01, 3e-3, 1e-3, 3e-4, 1e-4, 1e-5, 1e-7)


def _demand(rng: np.random.Generator, steps: int, size: float) -> Iterator[float]:
    """Bursty demand: an idle level, bursts of a few hours, one-step spikes, some zeros."""
    level = 0.05 * size
    for i in range(steps):
        burst = (i // 36) % 5 == 0
        spike = rng.random() < 0.02
        idle = rng.random() < 0.01
        d = size * (0.6 if burst else 0.0) + level * rng.lognormal(0.0, 0.5)
        yield 0.0 if idle else d * (3.0 if spike else 1.0)


def _both(sz: ForewarnSizer, ts: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every forecaster's ``_one`` over every bucket; the same over the kept buckets, and all
    forecasters at once (``sizeruns.ones``): equal bytes."""
    bases = sz._bases()
    with monkeypatch.context() as m:
        m.setattr(fs, "exact", lambda *a: False)
        full = [sz._one(i, b, ts) for i, b in enumerate(bases)]
    for i, b in enumerate(bases):
        for x, y in zip(sz._one(i, b, ts), full[i], strict=True):
            assert x.tobytes() == y.tobytes()
    own, p = ones(sz, bases, ts)
    assert own.tobytes() == np.stack([a for a, _ in full], axis=1).tobytes()
    assert p.tobytes() == np.stack([q for _, q in full], axis=1).tobytes()


@pytest.mark.parametrize(("resource", "options"), [
    ("cpu", {}), ("mem", {}), ("mem", {"charge": 0.0}), ("cpu", {"charge": 2.5}),
    ("mem", {"prior": 0.0}), ("cpu", {"calibrate": 2.0, "charge": 0.5}),
    ("mem", {"most_risk": 0.5, "charge": 1.0}), ("cpu", {"charge": 3.0}),
    ("mem", {"forecasters": ("level", "window")}),
])
def test_kept_buckets_give_the_same_choice(resource: str, options: dict[str, Any],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    size = 8 * GIB_KB if resource == "mem" else 4 * MHZ_PER_CORE
    sz = make_sizer("forewarn", KNOBS, capacity=size, resource=resource, **options)
    assert isinstance(sz, ForewarnSizer)
    rng = np.random.default_rng(22)
    for i, d in enumerate(_demand(rng, 900, size)):
        ts = i * 300
        if i == 450:
            sz.observe_capacity(ts, 2.0 * size)  # resized: cap moves among the buckets
        sz.observe(ts, d)
        if i % 7 == 0 or i < 20:
            _both(sz, ts, monkeypatch)
        sz.recommend(ts)


def test_exact_only_where_the_argument_holds() -> None:
    assert exact(True, 1.0, 0.2, 0.0) and exact(True, 0.0, 1.0, 0.0)
    assert exact(True, 2.5, 0.2, 0.0) and not exact(True, 2.6, 0.2, 0.0)
    assert not exact(False, 1.0, 0.2, 0.0) and not exact(True, 1.0, 0.2, 2.0)
    assert exact(True, 0.5, 0.2, 2.0)


def test_keep_lists_the_run_starts() -> None:
    amounts = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    weights = np.array([0.0, 0.0, 1.0, 0.0, 0.0, 0.0])
    assert keep(amounts, weights, 4.5).tolist() == [0, 2, 4]
    assert keep(amounts, weights, 4.0).tolist() == [0, 2, 3]
    assert keep(amounts, weights, 0.5).tolist() == [0, 2]
    assert keep(amounts, weights, 9.0).tolist() == [0, 2]
