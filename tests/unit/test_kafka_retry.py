"""Which Kafka errors a query is asked again after (streams/runtime/retry.py): on Apache Kafka
an offset query right after a topic was created answered NOT_LEADER_FOR_PARTITION, and
`forewarn prefs set` failed with it (seen in `make test-kafka`)."""

from __future__ import annotations

import pytest
from confluent_kafka import KafkaError, KafkaException

from streams.runtime.retry import ASK_AGAIN, COMMIT_AGAIN, retrying


def _failing(codes: list[int], result: object = "ok"):  # noqa: ANN202
    calls = []

    def call() -> object:
        calls.append(1)
        if len(calls) <= len(codes):
            raise KafkaException(KafkaError(codes[len(calls) - 1]))
        return result

    return call, calls


def test_a_leader_not_known_yet_is_asked_again() -> None:
    call, calls = _failing([KafkaError.NOT_LEADER_FOR_PARTITION,
                            KafkaError.LEADER_NOT_AVAILABLE, KafkaError.NOT_COORDINATOR])
    assert retrying(call, pause_s=0) == "ok" and len(calls) == 4


def test_an_error_no_moment_fixes_is_raised_at_once() -> None:
    call, calls = _failing([KafkaError.TOPIC_AUTHORIZATION_FAILED])
    with pytest.raises(KafkaException):
        retrying(call, pause_s=0)
    assert len(calls) == 1


def test_asking_again_stops_at_the_deadline() -> None:
    call, calls = _failing([KafkaError.NOT_LEADER_FOR_PARTITION] * 1000)
    with pytest.raises(KafkaException):
        retrying(call, timeout_s=0.05, pause_s=0.01)
    assert 1 < len(calls) < 1000


def test_a_lost_assignment_leaves_the_commit_to_the_next_owner() -> None:
    """A commit refused because the group took the partitions away is deferred, not fatal
    (the actuator died on it in the leader-kill test); it is no reason to ask a query again."""
    assert KafkaError._ASSIGNMENT_LOST in COMMIT_AGAIN
    assert KafkaError._ASSIGNMENT_LOST not in ASK_AGAIN
    assert KafkaError.TOPIC_AUTHORIZATION_FAILED not in COMMIT_AGAIN
