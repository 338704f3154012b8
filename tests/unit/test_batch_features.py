"""The batch window-feature kernel gives the per-component code's numbers, bit for bit."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from processors.batch.features import advance_all, batch_window_features
from processors.config import PipelineConfig
from processors.features import ClosedWindow, Windower, window_features
from streams.lab.replay import nab_samples
from streams.sim.examples import fleet_samples

NAB = Path("/work/shared/data/nab/data")
NAB_FILES = (
    "artificialWithAnomaly/art_daily_jumpsup.csv",
    "realKnownCause/ec2_request_latency_system_failure.csv",
    "realKnownCause/nyc_taxi.csv",
    "realTraffic/speed_7578.csv",
)


def _exact(closed: Sequence[ClosedWindow]) -> list[str]:
    """Every number as its repr (so -0.0 != 0.0 and the last bit counts)."""
    return [repr((c.start_ms, c.end_ms, c.n_samples, list(c.features.items()))) for c in closed]


def _replay(samples: list[dict[str, Any]], batch: int, window_s: int, lateness_s: int
            ) -> tuple[list[list[str]], list[list[str]], int]:
    """The samples in polls of ``batch``, through per-component windowers closed one by one
    and through copies closed by :func:`advance_all`; both sides' closed windows per poll."""
    one: dict[str, Windower] = {}
    many: dict[str, Windower] = {}
    got_one: list[list[str]] = []
    got_many: list[list[str]] = []
    closed = 0
    for i in range(0, len(samples), batch):
        for s in samples[i:i + batch]:
            for side in (one, many):
                w = side.setdefault(s["component"], Windower(window_s, lateness_s))
                w.add(s["ts"], s["metrics"])
        names = sorted(one)
        singles = [one[n].advance() for n in names]
        together = advance_all([many[n] for n in names])
        got_one.append([x for c in singles for x in _exact(c)])
        got_many.append([x for c in together for x in _exact(c)])
        closed += sum(len(c) for c in singles)
    for n in one:
        assert one[n].state.to_dict() == many[n].state.to_dict()
    return got_one, got_many, closed


def test_bench_data_same_windows_bit_for_bit() -> None:
    c = PipelineConfig()
    one, many, closed = _replay(fleet_samples(6_000), 600, c.window_s, c.lateness_s)
    assert closed > 900  # 50 components x ~20 windows
    assert many == one


def test_ragged_windows_same_as_alone() -> None:
    """Missing metrics, shuffled arrival within the lateness, duplicates: several time groups
    per window, and components that close different numbers of windows in one poll."""
    rnd = random.Random(7)
    samples = fleet_samples(3_000)
    for s in samples:
        for name in list(s["metrics"]):
            if rnd.random() < 0.1:
                del s["metrics"][name]
        s["ts"] += rnd.choice((0, 0, 0, 1_000, 3_000))
    for i in range(0, len(samples) - 8, 8):
        chunk = samples[i:i + 8]
        rnd.shuffle(chunk)
        samples[i:i + 8] = chunk
    samples += samples[100:200]  # redelivered
    c = PipelineConfig()
    one, many, closed = _replay([s for s in samples if s["metrics"]], 257, c.window_s,
                                c.lateness_s)
    assert closed > 400
    assert many == one


@pytest.mark.parametrize(("window_s", "regular"), [(60, True), (3_600, True), (3_600, False)])
def test_nab_files_same_windows_bit_for_bit(window_s: int, regular: bool) -> None:
    files = [NAB / f for f in NAB_FILES if (NAB / f).is_file()]
    if not files:
        pytest.skip("no NAB data in /work/shared/data/nab")
    samples = [s for f in files for s in nab_samples(f, f.stem, regular=regular)[0]]
    samples.sort(key=lambda s: s["ts"])  # the files interleaved, as one partition would be
    one, many, closed = _replay(samples, 500, window_s, 0)
    assert closed > (1_000 if window_s == 3_600 else 10_000)
    assert many == one


def test_kernel_equals_window_features_on_each_window() -> None:
    rnd = random.Random(3)
    windows = []
    for k in range(40):
        stamps = sorted(rnd.sample(range(0, 60_000, 1_000), rnd.randint(1, 9)))
        window = {f"m{j}": {t: rnd.gauss(50, 20) for t in stamps[: len(stamps) - j % 2]}
                  for j in range(rnd.randint(1, 5))}
        prev = {"m0": rnd.choice((0.0, 1e-13, 40.0, -3.0))} if k % 3 else None
        windows.append((window, prev))
    windows.append(({"big": {0: 1e308, 1_000: -1e308}}, None))  # overflow: 0, never NaN
    got = batch_window_features(windows)
    assert [repr(d) for d in got] == [repr(window_features(w, 0, p)) for w, p in windows]
    assert got[-1]["big"].volatility == 0.0
