"""The Apache Kafka harness's cluster ids are ones ``kafka-storage format -t ID`` accepts."""

from __future__ import annotations

import base64

from tests.kafka_harness import random_cluster_id


def test_cluster_ids_never_start_with_a_dash() -> None:
    # one in 64 random ids did (URL-safe base64), and `format -t -abc...` reads it as an option:
    # the fault suite's cluster failed to format once in CI
    ids = [random_cluster_id() for _ in range(5000)]
    assert not [i for i in ids if i.startswith("-")]
    assert all(len(i) == 22 and len(base64.urlsafe_b64decode(i + "==")) == 16 for i in ids)
    assert len(set(ids)) == len(ids)
