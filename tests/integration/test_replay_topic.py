"""Replay from a real topic (embedded Tansu): a time range found with offsets_for_times gives
the same risk events, byte for byte, as replaying the same samples from files."""

from __future__ import annotations

import io
import math
from pathlib import Path

import pytest

from processors.pipeline import PipelineConfig
from schemas.codec import Codec
from streams.lab.replay import (
    Replay,
    TopicRange,
    merge_samples,
    sample_messages,
    table_samples,
    topic_messages,
    write_json_lines,
)
from tests.kafkautil import producer

pytestmark = pytest.mark.integration
BASE_MS = 1_767_571_200_000
COMPONENTS = ("web-01", "web-02", "db-01/postgres", "cache-01")


def make_samples(n: int = 240) -> list[dict]:
    out = []
    for i in range(n):
        for j, c in enumerate(COMPONENTS):
            cpu = 0.3 + 0.1 * math.sin(i / 7 + j) + (0.6 * i / n if j == 0 else 0.0)
            out.append({"component": c, "host": c, "ts": BASE_MS + i * 10_000,
                        "metrics": {"cpu.util": cpu, "mem.used_pct": 40.0 + j + (i % 5)},
                        "tags": {}})
    return out


def publish(settings, samples: list[dict]) -> None:
    codec = Codec()
    p = producer(settings)
    # Message timestamp = event time, so a time range is an event-time range. Produced in
    # (ts, component) order, the order a file replay merges in: components that share a
    # partition then interleave the same way in both replays.
    for s in sorted(samples, key=lambda s: (s["ts"], s["component"])):
        p.produce(settings.topic("metrics"), key=s["component"].encode(),
                  value=codec.encode("MetricSample", s), timestamp=s["ts"])
    assert p.flush(30) == 0


def json_of(messages) -> bytes:
    buf = io.BytesIO()
    write_json_lines(Replay(PipelineConfig()).risk(messages), buf)
    return buf.getvalue()


def file_replay(tmp_path: Path, samples: list[dict]) -> bytes:
    """The samples written as one CSV per component, then replayed from the files."""
    tables = []
    for c in COMPONENTS:
        path = tmp_path / f"{c.replace('/', '_')}.csv"
        rows = [s for s in samples if s["component"] == c]
        path.write_text("ts,cpu.util,mem.used_pct\n" + "".join(
            f"{s['ts']},{s['metrics']['cpu.util']!r},{s['metrics']['mem.used_pct']!r}\n"
            for s in rows))
        tables.append(table_samples(path, c))
    return json_of(sample_messages(merge_samples(tables), Codec()))


def test_time_range_from_topic_equals_file_replay(settings, tmp_path: Path) -> None:
    samples = make_samples()
    publish(settings, samples)
    start, end = BASE_MS + 5 * 60_000, BASE_MS + 30 * 60_000
    rng = TopicRange(settings.topic("metrics"), start_ms=start, end_ms=end)
    from_topic = json_of(topic_messages(settings, rng, timeout_s=20))
    in_range = [s for s in samples if start <= s["ts"] < end]
    from_files = file_replay(tmp_path, in_range)
    assert from_topic.count(b"\n") >= 4 * 20  # 25 one-minute windows per component
    assert from_topic == from_files
    # and again from the topic: nothing was committed, the range is read the same way
    assert json_of(topic_messages(settings, rng, timeout_s=20)) == from_topic


def test_explicit_offsets_read_the_whole_topic(settings, tmp_path: Path) -> None:
    samples = make_samples(120)
    publish(settings, samples)
    rng = TopicRange(settings.topic("metrics"), start_offsets={-1: 0})
    assert json_of(topic_messages(settings, rng, timeout_s=20)) == file_replay(tmp_path, samples)
    empty = TopicRange(settings.topic("metrics"), start_offsets={-1: 5}, end_offsets={-1: 5})
    assert list(topic_messages(settings, empty, timeout_s=20)) == []
