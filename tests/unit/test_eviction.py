"""An evicted component is checkpointed first and, seen again, restored from that checkpoint,
not started cold (issues #12 and #14): its outputs continue exactly as if it had never been
evicted."""

from __future__ import annotations

import json
import math
import random
from typing import Any

from processors.pipeline import PipelineConfig
from streams.runtime.checkpoint import CheckpointedPipeline

CONFIG = PipelineConfig(anomaly_warm=50)  # novelty warm after 50 windows: a short test


def samples(component: str, start: int, n: int, seed: int) -> list[dict[str, Any]]:
    """A cpu cycle, memory leaking, a slowly filling disk; 10 s apart from sample ``start``."""
    rng = random.Random(seed)
    out = []
    for i in range(start, start + n):
        values = {
            "mem.used_pct": min(60.0 + 40.0 * ((i % 900) / 900) + rng.gauss(0, 0.5), 99.0),
            "cpu.util": 0.4 + 0.2 * math.sin(i / 90.0) + rng.gauss(0, 0.02),
            "disk.used_pct": 40.0 + i * 0.001,
        }
        out.append({"component": component, "host": "h-1", "ts": i * 10_000, "tags": {},
                    "metrics": values})
    return out


def run(pipe: CheckpointedPipeline, feed: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """Feed as the worker does (position, sample, then checkpoint-evict-park); the outputs
    of component ``a`` and the components evicted, in order."""
    outs, evicted = [], []
    for offset, s in enumerate(feed):
        pipe.at(0, offset)
        o = pipe.ingest(s)
        if s["component"] == "a":
            outs.append(json.dumps([o.risk, o.health, o.rejected], sort_keys=True))
        for comp, _why, got in pipe.evict_parked():  # what the worker runs
            assert got is not None  # checkpointed before it is dropped
            assert pipe.parked[comp] == got if pipe.park_bytes else comp not in pipe.parked
            evicted.append(comp)
    return outs, evicted


FEED = samples("a", 0, 1200, 1) + samples("b", 1200, 200, 2) + samples("a", 1400, 300, 3)


def test_an_evicted_component_returns_warm_exactly_as_if_kept() -> None:
    kept, none = run(CheckpointedPipeline(CONFIG, "forewarn.metrics"), FEED)
    capped = CheckpointedPipeline(CONFIG, "forewarn.metrics", max_components=1)
    outs, evicted = run(capped, FEED)
    assert none == [] and evicted == ["a", "b"]  # a when b came, b when a came back
    assert capped.unparked == 1 and capped.unpark_failed == 0
    assert list(capped.parked) == ["b"] and capped.components() == ["a"]
    assert outs == kept
    # its mark is the eviction checkpoint's: a new owner would replay from that offset
    assert capped.marks["a"].covered == 1201  # evicted after message 1200 (b's first)


def test_over_the_park_budget_it_starts_cold_and_the_outputs_show_it() -> None:
    kept, _ = run(CheckpointedPipeline(CONFIG, "forewarn.metrics"), FEED)
    capped = CheckpointedPipeline(CONFIG, "forewarn.metrics", max_components=1, park_bytes=0)
    outs, evicted = run(capped, FEED)
    assert evicted == ["a", "b"] and capped.unparked == 0 and capped.unpark_failed == 2
    assert not capped.parked and capped.parked_size == 0
    assert outs[:1200] == kept[:1200] and outs[1200:] != kept[1200:]


def test_a_partition_let_go_lets_go_of_its_parked_checkpoints() -> None:
    pipe = CheckpointedPipeline(CONFIG, "forewarn.metrics", max_components=1)
    run(pipe, samples("a", 0, 30, 1) + samples("b", 30, 30, 2))
    assert list(pipe.parked) == ["a"] and pipe.parked_size > 0
    pipe.forget_partition(0)
    assert not pipe.parked and pipe.parked_size == 0 and not pipe.components()


def test_the_worker_takes_its_bounds_from_the_settings() -> None:
    from streams.runtime.checkpoint import limits
    from streams.settings import Settings

    got = limits(Settings.load(env={"FOREWARN_PARK_MB": "64", "FOREWARN_MAX_COMPONENTS": "7"}))
    assert got == {"max_components": 7, "evict_idle_s": 6 * 3600, "park_bytes": 64 << 20}
    pipe = CheckpointedPipeline(CONFIG, "forewarn.metrics", **got)
    assert pipe.park_bytes == 64 << 20 and pipe.max_components == 7
