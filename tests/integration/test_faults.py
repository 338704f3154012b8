"""Scale-out and faults on the 3-node Apache Kafka cluster (``make test-kafka``; skipped on
Tansu): the small versions of ``python -m tests.faults`` (``make faults``), whose full runs are
the table in docs/reliability.md. Each checks the data itself: acknowledged metrics read back,
risk windows against the pure pipeline, command ids against their contents."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import faults

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def kafka_cluster(broker: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A 3-node cluster of this module's own: the faults kill its nodes, and the session's
    cluster, which the rest of the suite shares, is left alone."""
    if broker.cluster is None:
        pytest.skip("Apache Kafka only: run by `make test-kafka` (FOREWARN_TEST_BROKER=kafka)")
    from tests.kafka_harness import KafkaCluster

    with KafkaCluster(nodes=3, base_dir=tmp_path_factory.mktemp("faults-kafka")) as cluster:
        yield cluster


def run(name: str, kafka_cluster: Any, tmp_path: Path) -> faults.Result:
    res = faults.SCENARIOS[name](kafka_cluster, tmp_path, **faults.QUICK[name])
    for node in kafka_cluster.nodes:  # a scenario that killed a node leaves it back up
        if not node.running():
            kafka_cluster.start_node(node.node_id)
    print(res)
    return res


@pytest.mark.timeout(600)
def test_workers_scale_1_3_1_without_losing_a_window(kafka_cluster, tmp_path) -> None:
    res = run("scale", kafka_cluster, tmp_path)
    assert res.ok, res.problems
    f = res.figures
    assert f["acked_lost"] == 0 and f["windows_lost"] == 0 and f["mismatched"] == 0
    assert f["windows"] > 0 and f["scale_in_exit_codes"] == [0, 0]


@pytest.mark.timeout(600)
def test_kill_9_worker_resumes_from_checkpoints(kafka_cluster, tmp_path) -> None:
    res = run("worker", kafka_cluster, tmp_path)
    assert res.ok, res.problems
    f = res.figures
    assert f["windows_lost"] == 0 and f["checkpoints_restored"] > 0
    assert f["risk_resumed_s"] == f["risk_resumed_s"]  # not NaN: risk came back


@pytest.mark.timeout(600)
def test_kill_9_partition_leader_loses_no_acknowledged_metric(kafka_cluster, tmp_path) -> None:
    """Worker and actuator go on while the leader is down: the node stays down until the
    actuator has read new risk (the time it took is a figure, not a bound)."""
    res = run("leader", kafka_cluster, tmp_path)
    assert res.ok, res.problems
    f = res.figures
    assert f["acked_lost"] == 0 and f["windows_lost"] == 0 and f["acked"] > 0
    assert f["new_leader"] != f["killed_node"] and f["actuator_risk_events_while_down"] > 0
    assert f["actuator_resumed_s"] == f["actuator_resumed_s"]  # not NaN: it read risk again
    assert f["worker_exit"] == 0 and f["actuator_exit"] == 0


@pytest.mark.timeout(600)
def test_kill_9_actuator_never_reuses_a_command_id(kafka_cluster, tmp_path) -> None:
    res = run("actuator", kafka_cluster, tmp_path)
    assert res.ok, res.problems
    f = res.figures
    assert f["commands"] > 0 and f["ids_with_different_content"] == 0
    assert f["restarts_with_leases_restored"] > 0
