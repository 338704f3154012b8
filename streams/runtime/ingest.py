"""``forewarn ingest``: a fleet's own metrics topic → ``forewarn.metrics``.

A confluent-kafka consumer group reads the topic that Telegraf, prometheus-kafka-adapter, the
OpenTelemetry collector or Vector already write; each message goes through its format's
adapter (``streams.ingest``, pure), the samples are grouped per component into
``MetricBatch`` messages (samples of one component and timestamp from several messages are
merged) and produced to ``forewarn.metrics`` keyed by component. A message the adapter cannot
read goes to ``forewarn.deadletter`` with the reason (stage ``decode``); the worker goes on.

Delivery is at-least-once: offsets are committed only after the producer has delivered
everything a batch of messages caused. If a delivery fails, the batch is read again from its
first offsets (with a new producer, so a broker that lost its state takes it).

Adapters keep state per series (counter values, for rates), so each series must reach one
worker in order: run one worker per source topic, or key the source topic by host.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from schemas.codec import Codec
from schemas.errors import ConfigError, ContractError
from streams.settings import Settings

log = logging.getLogger(__name__)

FORMAT_CHOICES = ("telegraf", "prometheus", "otlp-json", "vector")
TIMESTAMP_NOT_AVAILABLE = 0
MAX_METRICS = 1000  # per sample, as the worker's PipelineConfig.max_metrics


TOPIC_RECHECK_S = 3.0  # how often a missing source topic is looked for


@dataclass
class IngestStats:
    messages: int = 0  # source messages read
    samples: int = 0  # samples the adapter gave
    batches: int = 0  # MetricBatch messages produced
    dead: dict[str, int] = field(default_factory=dict)  # dead letters by stage
    reread: int = 0  # batches read again after a failed delivery


class _Grouped:
    """Samples of one poll, grouped per (component, host, tags) and merged per timestamp,
    each point remembering the messages it came from."""

    def __init__(self) -> None:
        self.groups: dict[tuple[str, str, tuple[tuple[str, str], ...]],
                          dict[int, tuple[dict[str, float], list[Any]]]] = {}

    def add(self, sample: Mapping[str, Any], origin: Any) -> None:
        key = (sample["component"], sample["host"], tuple(sorted(sample["tags"].items())))
        points = self.groups.setdefault(key, {})
        entry = points.get(sample["ts"])
        if entry is None:
            points[sample["ts"]] = (dict(sample["metrics"]), [origin])
        else:
            entry[0].update(sample["metrics"])
            if origin is not None and origin not in entry[1]:
                entry[1].append(origin)


class Ingestor:
    """Consumes a foreign-format topic, produces MetricBatch messages and dead letters."""

    def __init__(
        self,
        settings: Settings,
        fmt: str,
        source_topic: str,
        *,
        group: str | None = None,
        rule: Any = None,
        per_message: int = 100,
        adapter_options: Mapping[str, Any] | None = None,
        delivery_timeout_s: float = 30.0,
        wall_clock_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        from confluent_kafka import Consumer

        from streams.handler import DeadLetters
        from streams.ingest import get_adapter
        from streams.topics import consumer_config

        if per_message < 1:
            raise ConfigError(f"--per-message must be at least 1, got {per_message}")
        try:
            self.adapter = get_adapter(fmt, rule, **dict(adapter_options or {}))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"ingest --format {fmt}: {exc}") from exc
        self.settings = settings
        self.fmt = fmt
        self.source_topic = source_topic
        self.group = group or f"forewarn-ingest-{fmt}"
        self.per_message = per_message
        self.delivery_timeout_s = delivery_timeout_s
        self.clock_ms = wall_clock_ms
        self.topic = settings.topic("metrics")
        self.codec = Codec(settings.wire_format,
                           registry_url=settings.registry_url or None)
        self.dead_letters = DeadLetters(self.codec, settings.topic, wall_clock_ms)
        self.stats = IngestStats()
        self._failed = 0
        self._stop = threading.Event()
        self._last_log = time.monotonic()
        # The consumer subscribes once, when the source topic exists (see _await_topic): never
        # unsubscribe + subscribe on one consumer, after which librdkafka has aborted the process
        # in close() on Apache Kafka.
        self.consumer = Consumer(consumer_config(settings, self.group))
        self._topic_seen = False
        self._checked = -TOPIC_RECHECK_S
        self._await_topic()
        if not self._topic_seen:
            log.warning("ingest: topic %s does not exist yet; waiting for it", source_topic)
        self.producer = self._new_producer()

    # -- the loop ----------------------------------------------------------------------

    def run(self, stop: threading.Event | None = None, duration_s: float = 0.0) -> None:
        self._stop = stop or threading.Event()
        end = time.monotonic() + duration_s if duration_s > 0 else float("inf")
        while not self._stop.is_set() and time.monotonic() < end:
            self.poll_once()
            if time.monotonic() - self._last_log > 60:
                self._last_log = time.monotonic()
                log.info("ingest %s: %s", self.source_topic, self.stats)

    def poll_once(self, timeout_s: float = 0.5, max_messages: int = 500) -> int:
        """Read a batch, convert, produce, and commit once it is all delivered."""
        from confluent_kafka import KafkaError

        msgs = self.consumer.consume(max_messages, timeout_s)
        if not msgs:
            self._await_topic()
            return 0
        first: dict[tuple[str, int], int] = {}
        grouped = _Grouped()
        for msg in msgs:
            err = msg.error()
            if err is not None:
                if err.code() != KafkaError._PARTITION_EOF:
                    log.warning("consumer error on %s: %s", self.source_topic, err.str())
                continue
            first.setdefault((msg.topic() or "", msg.partition() or 0), msg.offset() or 0)
            self.stats.messages += 1
            self._convert(msg, grouped)
        self._produce_batches(grouped)
        if not first:
            return len(msgs)
        if self._delivered():
            self._commit()
        else:
            self._reread(first)
        return len(msgs)

    def _topic_exists(self) -> bool:
        try:
            meta = self.consumer.list_topics(self.source_topic, timeout=5)
        except Exception:  # KafkaException: the broker is away; the next check tries again
            return False
        t = meta.topics.get(self.source_topic)
        return t is not None and t.error is None and bool(t.partitions)

    def _await_topic(self) -> None:
        """Subscribe, once, when the source topic exists: until then check for it every few
        seconds (the consumer has no subscription, so it polls nothing and joins no group)."""
        if self._topic_seen or time.monotonic() - self._checked < TOPIC_RECHECK_S:
            return
        self._checked = time.monotonic()
        if self._topic_exists():
            self._topic_seen = True
            log.info("ingest: subscribing to %s", self.source_topic)
            self.consumer.subscribe([self.source_topic])

    def close(self, timeout_s: float = 10.0) -> None:
        """Send what the adapter still holds (half-joined rounds), flush, leave the group."""
        try:
            grouped = _Grouped()
            for sample in self.adapter.flush():
                grouped.add(sample, None)
            self._produce_batches(grouped)
            left = self.producer.flush(timeout_s)
            if left:
                log.warning("closing with %d messages undelivered", left)
        finally:
            self.consumer.close()
        log.info("ingest %s closed: %s", self.source_topic, self.stats)

    # -- steps -------------------------------------------------------------------------

    def _convert(self, msg: Any, grouped: _Grouped) -> None:
        from streams.ingest import AdapterError

        kind, ts = msg.timestamp()
        recv_ms = ts if kind != TIMESTAMP_NOT_AVAILABLE and ts > 0 else self.clock_ms()
        try:
            samples = self.adapter.parse(msg.value() or b"", recv_ms)
        except AdapterError as exc:
            self._dead(msg, "decode", exc)
            return
        except Exception as exc:  # an adapter bug must not stop the worker: keep the message
            log.exception("%s adapter failed on %s[%d]@%d", self.fmt, msg.topic(),
                          msg.partition(), msg.offset())
            self._dead(msg, "process", exc)
            return
        wide = next((s for s in samples if len(s.get("metrics") or ()) > MAX_METRICS), None)
        if wide is not None:  # a huge map would make a batch larger than the broker takes
            self._dead(msg, "validate", ContractError(
                f"{len(wide['metrics'])} metrics in one sample of component "
                f"{str(wide.get('component'))[:200]!r}, over {MAX_METRICS}"))
            return
        self.stats.samples += len(samples)
        for sample in samples:
            grouped.add(sample, msg)

    def _produce_batches(self, grouped: _Grouped) -> None:
        dead: set[tuple[int, int]] = set()
        for (component, host, tags), points in grouped.groups.items():
            items = sorted(points.items(), key=lambda kv: kv[0])
            for i in range(0, len(items), self.per_message):
                chunk = items[i: i + self.per_message]
                record = {"component": component, "host": host, "tags": dict(tags),
                          "points": [{"ts": ts, "metrics": m} for ts, (m, _) in chunk]}
                try:
                    value = self.codec.encode("MetricBatch", record, topic=self.topic)
                except ContractError:
                    self._produce_one_by_one(record, chunk, dead)
                    continue
                self._send(self.topic, component.encode(), value)
                self.stats.batches += 1

    def _produce_one_by_one(
        self, record: dict[str, Any], chunk: list[Any], dead: set[tuple[int, int]]
    ) -> None:
        """A batch that does not fit the schema: send its good points, dead-letter the
        messages behind the bad ones (stage ``validate``)."""
        for ts, (metrics, origins) in chunk:
            single = {**record, "points": [{"ts": ts, "metrics": metrics}]}
            try:
                value = self.codec.encode("MetricBatch", single, topic=self.topic)
            except ContractError as exc:
                for msg in origins:
                    if msg is None or (msg.partition(), msg.offset()) in dead:
                        continue
                    dead.add((msg.partition(), msg.offset()))
                    self._dead(msg, "validate", exc)
                continue
            self._send(self.topic, str(record["component"]).encode(), value)
            self.stats.batches += 1

    def _dead(self, msg: Any, stage: str, exc: BaseException) -> None:
        self.stats.dead[stage] = self.stats.dead.get(stage, 0) + 1
        out = self.dead_letters(msg.value(), msg.key(), msg.topic(), msg.partition(),
                                msg.offset(), stage, exc)
        self._send(out.topic, out.key, out.value)

    def _send(self, topic: str, key: bytes, value: bytes) -> None:
        while True:
            try:
                self.producer.produce(topic, key=key, value=value, on_delivery=self._report)
                return
            except BufferError:  # the client's queue is full: let it drain
                self.producer.poll(0.5)

    def _report(self, err: Any, _msg: Any) -> None:
        if err is not None:
            self._failed += 1
            if self._failed == 1:
                log.warning("delivery to %s failed: %s; will read the batch again", self.topic,
                            err.str())

    def _delivered(self) -> bool:
        while self.producer.flush(1.0) > 0:
            if self._stop.is_set():  # leave it uncommitted: it is read again next time
                return False
        if self._failed:
            self._failed = 0
            self._reset_producer()
            return False
        return True

    def _commit(self) -> None:
        from confluent_kafka import KafkaException

        try:
            self.consumer.commit(asynchronous=False)
        except KafkaException as exc:  # a rebalance took the partitions: they are re-read
            log.info("commit skipped: %s", exc)

    def _reread(self, first: Mapping[tuple[str, int], int]) -> None:
        from confluent_kafka import KafkaException, TopicPartition

        self.stats.reread += 1
        for (topic, partition), offset in first.items():
            try:
                self.consumer.seek(TopicPartition(topic, partition, offset))
            except KafkaException as exc:  # no longer ours: its new owner starts from the commit
                log.info("cannot seek %s[%d] back: %s", topic, partition, exc)

    def _new_producer(self) -> Any:
        from confluent_kafka import Producer

        from streams.topics import producer_config

        return Producer(producer_config(self.settings, {
            "linger.ms": 20, "message.timeout.ms": int(self.delivery_timeout_s * 1000),
        }))

    def _reset_producer(self) -> None:
        old = self.producer
        old.purge(in_queue=True, in_flight=True, blocking=False)
        old.poll(0)
        self._failed = 0
        self.producer = self._new_producer()

