"""The topic catalog: every forewarn topic, its events and its configuration.

Topics are created at start-up (:func:`ensure_topics`); existing ones are left as they are.
Every topic is keyed by component id (preferences: by selector; checkpoints: by component).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from confluent_kafka.admin import AdminClient, NewTopic

from schemas.errors import BrokerError
from streams.security import KafkaSecurity
from streams.settings import Settings

log = logging.getLogger(__name__)
_NO_EXTRA: Mapping[str, object] = MappingProxyType({})  # a default no caller can change


@dataclass(frozen=True)
class TopicSpec:
    name: str
    events: tuple[str, ...]
    compacted: bool = False
    config: dict[str, str] = field(default_factory=dict)
    doc: str = ""


CATALOG: tuple[TopicSpec, ...] = (
    TopicSpec("metrics", ("MetricSample", "MetricBatch"), doc="samples from shippers/adapters"),
    TopicSpec("health", ("HealthSignal",), doc="health rule verdicts, on change and heartbeat"),
    TopicSpec("risk", ("RiskScore",), doc="risk of a FAIL within the horizon, per window"),
    TopicSpec("allocations", ("AllocationCommand",), doc="grant / release / preempt commands"),
    TopicSpec("outcomes", ("AllocationOutcome",), doc="what backends did and measured"),
    TopicSpec("preferences", ("Preference",), compacted=True, doc="operator steering"),
    TopicSpec("checkpoints", (), compacted=True, doc="model state with covered offsets",
              # compact the active segment too, so a restore reads few stale checkpoints
              config={"segment.ms": "3600000", "min.cleanable.dirty.ratio": "0.1"}),
    TopicSpec("deadletter", ("DeadLetter",), doc="unusable messages with reason and bytes"),
    TopicSpec("feedback", ("Feedback",), doc="operators' verdicts on alarms (POST /v1/feedback)"),
)
BY_NAME = {t.name: t for t in CATALOG}


def events_of(name: str) -> tuple[str, ...]:
    return BY_NAME[name].events


def client_config(settings: Settings, extra: Mapping[str, object] = _NO_EXTRA) -> dict[str, Any]:
    """Base librdkafka configuration for every forewarn client, plus ``extra``."""
    conf: dict[str, Any] = {
        "bootstrap.servers": settings.bootstrap_servers,
        # Tansu closes idle connections, and Apache Kafka does too after
        # connections.max.idle.ms (10 min): librdkafka would log each close. Kept for both.
        "log.connection.close": False,
    }
    conf.update(KafkaSecurity.from_settings(settings).librdkafka())  # {} for PLAINTEXT
    conf.update(dict(extra))
    return conf


def producer_config(settings: Settings, extra: Mapping[str, object] = _NO_EXTRA) -> dict[str, Any]:
    """Idempotent producer hashing keys with murmur2, as Java clients and aiokafka (so Faust)
    do; librdkafka's default (CRC32) would put one component on two partitions."""
    base = {"partitioner": "murmur2_random", "enable.idempotence": True, "linger.ms": 5}
    return client_config(settings, {**base, **dict(extra)})


def consumer_config(
    settings: Settings, group: str, extra: Mapping[str, object] = _NO_EXTRA
) -> dict[str, Any]:
    """A consumer in ``group`` that commits only what it has processed (at-least-once)."""
    base = {
        "group.id": group,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        # Tansu holds a group join for about half the session timeout, hence a short one
        # (6 s). Apache Kafka does not hold joins; 6 s is also its group.min.session.timeout.ms,
        # the shortest it accepts, and a kill -9'd member is noticed after it on both.
        "session.timeout.ms": settings.session_timeout_ms,
        "heartbeat.interval.ms": max(100, settings.session_timeout_ms // 6),
    }
    return client_config(settings, {**base, **dict(extra)})


def admin_client(settings: Settings) -> AdminClient:
    return AdminClient(client_config(settings))


def check_broker(settings: Settings, timeout_s: float = 5.0) -> None:
    """A quick metadata request with librdkafka's own logging off: a broker that cannot be
    reached is one BrokerError, not a screenful of reconnect lines."""
    admin = AdminClient(client_config(settings, {"log_level": 0}))
    try:
        admin.list_topics(timeout=timeout_s)
    except Exception as exc:  # KafkaException: transport failure, timeout
        raise BrokerError(
            f"cannot reach a Kafka broker at {settings.bootstrap_servers} within "
            f"{timeout_s:g} s; is it running? (set --bootstrap-servers or "
            "FOREWARN_BOOTSTRAP_SERVERS; `forewarn broker` starts a local one)"
        ) from exc


def check_access(settings: Settings, role: str, timeout_s: float = 10.0) -> None:
    """Before a process starts its clients: every catalog topic its ``role`` uses
    (``streams.security.ROLE_ACLS``) is visible to this principal; BrokerError with one line
    naming the principal, the topic and the docs otherwise (a missing ACL), instead of a
    client retrying and logging for ever."""
    from streams.security import ROLE_ACLS, KafkaSecurity, refused

    security = KafkaSecurity.from_settings(settings)
    admin = AdminClient(client_config(settings, {"log_level": 0}))  # quiet while unreachable
    for kind, name, _pattern, ops in ROLE_ACLS[role]:
        if kind != "topic" or name.startswith("{"):
            continue
        topic = settings.topic(name)
        try:
            meta = admin.list_topics(topic, timeout=timeout_s)
        except Exception as exc:
            line = refused(exc, role, "reach", settings.bootstrap_servers, security)
            if line:
                raise BrokerError(line) from exc
            return  # the broker is away: the process starts and its clients retry (a shipper
            # buffers meanwhile); only a refusal stops it here
        err = meta.topics[topic].error if topic in meta.topics else None
        if err is not None:
            verb = "read" if "READ" in ops else "write to"
            line = refused(err, role, verb, topic, security)
            if line:
                raise BrokerError(line)


def ensure_topics(settings: Settings, timeout_s: float = 15.0) -> list[str]:
    """Create missing catalog topics; return the names created."""
    admin = admin_client(settings)
    try:
        existing = set(admin.list_topics(timeout=timeout_s).topics)
    except Exception as exc:
        raise BrokerError(
            f"cannot list topics on {settings.bootstrap_servers}: {exc}; is the broker up?"
        ) from exc
    new = []
    for spec in CATALOG:
        full = settings.topic(spec.name)
        if full in existing:
            continue
        config = dict(spec.config)
        if spec.compacted:
            config["cleanup.policy"] = "compact"
        new.append(NewTopic(full, settings.partitions, settings.replication_factor, config=config))
    created: list[str] = []
    if not new:
        return created
    for name, fut in admin.create_topics(new, operation_timeout=timeout_s).items():
        try:
            fut.result()
            created.append(name)
        except Exception as exc:
            if "TOPIC_ALREADY_EXISTS" in str(exc):
                continue
            if "AUTHORIZATION_FAILED" in str(exc):
                # a secured cluster: this principal sees only its own topics and creates
                # none; the administrator creates them (docs/security.md)
                log.info("topic %s: not visible to this principal, not created here", name)
                continue
            raise BrokerError(f"cannot create topic {name}: {exc}") from exc
    return created
