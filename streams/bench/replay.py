"""Replay benchmark: samples per second through the replay path (pipeline, handler, Avro)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from processors.pipeline import Pipeline
from schemas.codec import Codec
from streams.lab.replay import Replay, sample_messages, write_json_lines

Sample = dict[str, Any]


def bench_replay(seconds: float = 3.0, *, warm_steps: int = 360, steps: int = 1440
                 ) -> dict[str, float]:
    """Samples/s of the ``mixed`` scenario (12 components) from a warm state (``warm_steps``
    of 10 s, untimed; restored into each run): through the whole file replay (encode,
    handler, risk decoded to JSON lines), through :class:`MetricsHandler` alone on encoded
    bytes, and through a bare :class:`Pipeline` on dicts; a third of ``seconds`` each."""
    from streams.sim.simulator import Fleet, scenario

    fleet = Fleet(scenario("mixed", seed=42))
    run = fleet.run()
    warm = [s for _, step in zip(range(warm_steps), run, strict=False) for s in step]
    timed = [s for _, step in zip(range(steps), run, strict=False) for s in step]
    warmed = Pipeline()
    for s in warm:
        warmed.ingest(s)
    blobs = {c: warmed.snapshot(c) for c in warmed.components()}
    codec = Codec()
    encoded = list(sample_messages(timed, codec))

    def fresh() -> Pipeline:
        p = Pipeline()
        for c, blob in blobs.items():
            p.restore(c, blob)
        return p

    def full() -> Iterator[int]:
        replay = Replay(codec=codec, pipeline=fresh())
        seen, sink = 0, _Discard()
        for rec in replay.risk(sample_messages(timed, codec)):
            write_json_lines([rec], sink)
            now = replay.handler.counters.samples
            yield now - seen
            seen = now

    def handler() -> Iterator[int]:
        h = Replay(codec=codec, pipeline=fresh()).handler
        for m in encoded:
            h.handle(m.value, m.key, m.topic, m.partition, m.offset)
            yield 1

    def bare() -> Iterator[int]:
        p = fresh()
        for s in timed:
            p.ingest(s)
            yield 1

    def rate(make: Callable[[], Iterator[int]]) -> float:
        n, t0 = 0, time.perf_counter()
        while True:
            for k in make():  # restarts from the warm state when the samples run out
                n += k
                elapsed = time.perf_counter() - t0
                if elapsed >= seconds / 3:
                    return n / elapsed

    return {"replay_samples_s": rate(full), "handler_samples_s": rate(handler),
            "pipeline_samples_s": rate(bare)}


class _Discard:
    def write(self, data: bytes) -> int:
        return len(data)

