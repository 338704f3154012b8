"""A new owner of a partition restores at most ``max_components`` states, the most recently
checkpointed first: the checkpoints a flood of unknown ids left behind never fill its memory
(issue #12: 40,000 unknown component ids grew a worker without bound)."""

from __future__ import annotations

import pytest
from confluent_kafka import Producer

from processors.pipeline import PipelineConfig
from schemas.codec import Codec
from streams.runtime.checkpoint import CheckpointedPipeline
from streams.runtime.restore import CheckpointStore, Restorer
from streams.settings import Settings
from streams.topics import producer_config

pytestmark = pytest.mark.integration
T0 = 1_767_571_200_000


def test_a_restore_is_capped_at_max_components_most_recent_first(settings: Settings) -> None:
    source = settings.topic("metrics")
    writer = CheckpointedPipeline(PipelineConfig(), source)
    p = Producer(producer_config(settings))
    comps = [f"flood-{i:02d}" for i in range(30)]
    for i, comp in enumerate(comps):  # each seen, then checkpointed, one after the other
        writer.at(0, i)
        writer.ingest({"component": comp, "host": "h", "ts": T0 + i * 1000,
                       "metrics": {"cpu.util": 0.5}, "tags": {}})
        partition, value = writer.checkpoint(comp, now_ms=T0)
        p.produce(settings.topic("checkpoints"), key=comp.encode(), value=value,
                  partition=partition % settings.partitions)
    assert p.flush(10) == 0

    reader = CheckpointedPipeline(PipelineConfig(), source, max_components=10)
    store = CheckpointStore(settings)
    try:
        stats = Restorer(reader, store, Codec()).sync({0})
    finally:
        store.close()
    assert (stats.restored, stats.dropped) == (10, 20)  # before the cap: 30 restored
    assert sorted(reader.marks) == comps[-10:] == reader.components()
