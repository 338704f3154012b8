"""The worker's batch path (``MetricsHandler.handle_batch``, #14) gives each message the
outputs ``handle`` gives it, byte for byte, bad messages included: a message that cannot be
decoded, samples the pipeline rejects or the time bounds refuse are dead-lettered alone, with
their message's position and reason, and the rest of the poll is processed."""

from __future__ import annotations

import math
from typing import Any

from processors.batch.pipeline import Admitted, BatchPipeline
from processors.pipeline import Output, Pipeline
from schemas.codec import Codec
from streams.handler import MetricsHandler, Out, TimeBounds
from streams.lab.message import Message
from streams.runtime.worker import pipeline_config
from streams.settings import Settings
from streams.sim.examples import fleet_samples
from streams.sim.simulator import to_batches

codec = Codec()
BASE = 1_767_571_200_000  # the bench data's first stamp
NOW = BASE + 86_400_000  # the wall clock the time bounds read


def _config() -> Any:
    return pipeline_config(Settings.load(env={}))


def _handler(pipeline: Pipeline) -> MetricsHandler:
    return MetricsHandler(pipeline, codec, wall_clock_ms=lambda: NOW,
                          time_bounds=TimeBounds(future_s=10**9, past_s=10**9))


def _log() -> list[Message]:
    """The bench data as MetricBatch messages, with bad ones mixed in."""
    good = [codec.encode("MetricBatch", b) for b in to_batches(fleet_samples(3_000), 30)]
    sample = {"component": "odd-1", "host": "h", "ts": BASE, "metrics": {"cpu.util": 0.5},
              "tags": {}}
    bad = [
        b"\x00not avro at all",  # decode
        codec.encode("MetricSample", {**sample, "ts": NOW + 2 * 10**12}),  # time: far ahead
        codec.encode("MetricSample", {**sample, "ts": BASE + 10_000, "metrics": {"x": math.nan}}),
        codec.encode("MetricSample", {**sample, "ts": BASE + 20_000}),
        codec.encode("MetricSample", {**sample, "ts": BASE + 10_000}),  # duplicate
        codec.encode("MetricSample", {**sample, "ts": BASE + 200_000}),
        codec.encode("MetricSample", {**sample, "ts": BASE + 30_000}),  # late
        good[3][:-7],  # truncated
        good[5],  # redelivered
    ]
    values = list(good)
    for i, b in enumerate(bad):
        values.insert(7 + 9 * i, b)
    return [Message(v, b"k", "forewarn.metrics", 0, off, 0) for off, v in enumerate(values)]


def _flat(outs: list[Out]) -> list[tuple[str, bytes, bytes]]:
    """Topic, key and value of each: dead letters too are the same bytes (a corrupt body's
    reason no longer names the address of fastavro's reader object)."""
    return [(o.topic, o.key, o.value) for o in outs]


def test_each_message_gets_the_outputs_handle_gives_it() -> None:
    log = _log()
    one, many = _handler(Pipeline(_config())), _handler(BatchPipeline(_config()))
    want = [_flat(one.handle(m.value, m.key, m.topic, m.partition, m.offset)) for m in log]
    got: list[list[tuple[str, bytes, bytes]]] = []
    for i in range(0, len(log), 13):
        got += [_flat(o) for o in many.handle_batch(log[i:i + 13])]
    assert len(got) == len(want) and got == want
    assert one.counters == many.counters
    assert {"decode", "time", "validate", "late"} <= set(many.counters.dead)
    assert sum(t.endswith("risk") for outs in got for t, _, _ in outs) > 400
    assert _flat(one.flush()) == _flat(many.flush())


class Brittle(BatchPipeline):
    """Raises while judging one component's samples (a bug in the pipeline)."""

    def _judge(self, a: Admitted) -> Output:
        if a.component == "odd-1":
            raise RuntimeError("boom")
        return super()._judge(a)


def test_a_sample_the_pipeline_fails_on_is_dead_lettered_alone() -> None:
    log = _log()
    ok = _handler(BatchPipeline(_config()))
    brittle = _handler(Brittle(_config()))
    want = [_flat(o) for o in ok.handle_batch(log)]
    got = [_flat(o) for o in brittle.handle_batch(log)]
    differ = [i for i, (w, g) in enumerate(zip(want, got, strict=True)) if w != g]
    # only the messages of component odd-1 whose samples were judged: each one's outputs
    # replaced by one dead letter (stage process) with its position
    assert differ and all(len(got[i]) == 1 for i in differ)
    assert brittle.counters.dead.get("process") == len(differ) == 3
    for i in differ:
        _, rec = codec.decode(got[i][0][2])
        assert rec["stage"] == "process" and rec["offset"] == log[i].offset
        assert rec["reason"].endswith("boom") and rec["original"] == log[i].value
