"""``BatchPipeline.ingest_batch`` gives the records of ``Pipeline.ingest``, bit for bit."""

from __future__ import annotations

import random
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from processors.batch.pipeline import BatchPipeline
from processors.pipeline import Output, Pipeline, PipelineConfig
from streams.lab.replay import nab_samples
from streams.runtime.worker import pipeline_config
from streams.settings import Settings
from streams.sim.examples import fleet_samples
from streams.sim.simulator import Fleet, scenario

NAB = Path("/work/shared/data/nab/data")


def _config() -> PipelineConfig:
    return pipeline_config(Settings.load(env={}))  # the worker's, as streams.bench.identity


def _records(out: Output) -> list[str]:
    return ([repr(h) for h in out.health] + [repr(r) for r in out.risk]
            + [repr(x) for x in out.rejected])


def _both(samples: list[dict[str, Any]], poll: int) -> tuple[list[str], list[str]]:
    """Per poll, the records of ``ingest`` on each sample and of ``ingest_batch``; then of
    ``flush`` on each side (which reads the state both left)."""
    one, many = Pipeline(_config()), BatchPipeline(_config())
    got_one: list[str] = []
    got_many: list[str] = []
    for i in range(0, len(samples), poll):
        out = Output()
        for s in samples[i:i + poll]:
            out.extend(one.ingest(s))
        got_one += _records(out)
        got_many += _records(many.ingest_batch(samples[i:i + poll]))
    got_one += _records(one.flush())
    got_many += _records(many.flush())
    assert one.duplicates == many.duplicates and one.jumps_refused == many.jumps_refused
    return got_one, got_many


def _scenario(name: str, limit: int) -> list[dict[str, Any]]:
    steps: Iterable[list[dict[str, Any]]] = Fleet(scenario(name, seed=42)).run()
    return [s for step in steps for s in step][:limit]


def test_bench_data() -> None:
    one, many = _both(fleet_samples(6_000), 600)
    assert sum('"risk"' in r or "'risk'" in r for r in one) > 900
    assert many == one


@pytest.mark.parametrize(("name", "limit", "poll"), [("mixed", 15_000, 500), ("ramp", 5_000, 97)])
def test_simulator_scenarios(name: str, limit: int, poll: int) -> None:
    one, many = _both(_scenario(name, limit), poll)
    assert len(one) > 500
    assert many == one


def test_nab_files_interleaved() -> None:
    files = [NAB / "realKnownCause/nyc_taxi.csv", NAB / "realTraffic/speed_7578.csv"]
    if not all(f.is_file() for f in files):
        pytest.skip("no NAB data in /work/shared/data/nab")
    samples = sorted((s for f in files for s in nab_samples(f, f.stem)[0]),
                     key=lambda s: s["ts"])
    one, many = _both(samples, 300)
    assert many == one


def test_bad_late_duplicate_and_jumping_samples() -> None:
    """Every way out of ingest before the window, mixed into the polls."""
    rnd = random.Random(11)
    samples: list[Any] = fleet_samples(2_000)
    for _ in range(150):
        s = dict(rnd.choice(samples))
        kind = rnd.randrange(6)
        if kind == 0:
            s["ts"] -= 600_000  # late
        elif kind == 1:
            s["ts"] += 10**12  # a jump ahead (refused alone)
        elif kind == 2:
            s["metrics"] = {"cpu.util": float("nan")}
        elif kind == 3:
            s = "not a sample"
        elif kind == 4:
            s["ts"] = str(s["ts"])
        samples.insert(rnd.randrange(len(samples)), s)  # kind 5: a redelivery
    one, many = _both(samples, 333)
    assert sum("late:" in r for r in one) > 5 and sum("invalid:" in r for r in one) > 5
    assert many == one
