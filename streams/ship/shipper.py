"""``forewarn ship``: the host shipper. Collects this host's metrics (and its cgroups', and
HTTP probes') every interval and sends them to ``forewarn.metrics`` as ``MetricBatch``
messages keyed by component.

Nothing is lost to a broker outage of minutes: every sample stays in a bounded local buffer
until the broker acknowledges it (delivery callbacks remove it), and is sent again otherwise.
The collect loop never waits for the broker. Past ``buffer_samples`` the oldest samples are
dropped and counted (``Shipper.dropped``, logged, and exported when ``metrics_port`` is set).

While deliveries fail the shipper sends one message at a time (a probe) and, after a failed
one, replaces its producer: a broker that lost its state (the memory-only embedded one, or
producer ids expired on a real one) would otherwise refuse the old producer id for good. It
also re-creates the topic catalog in the background (``ensure_topics``) with the catalog's
partition count, rather than let the broker auto-create topics with its own count, which
would move components to other partitions. ``--no-create-topics`` turns that off.

Each sample is encoded once, when collected; a message is its component's Avro header
followed by the encoded points, so a backlog goes out as few large messages without being
encoded again. See docs/shipper.md.

The buffer and message building are in ``streams/ship/buffer.py``, the collectors in
``streams/ship/collect.py``; the ``forewarn ship`` command line and the bench are in
``streams/cli/ship.py``; its benchmark in ``streams/bench/shipper.py``.
"""

from __future__ import annotations

import logging
import math
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from schemas.codec import Codec
from schemas.errors import ConfigError, ForewarnError
from streams.settings import Settings
from streams.ship.buffer import BatchAssembler, Point, SampleBuffer
from streams.ship.collect import Collector, Sample, close_all

__all__ = ["BatchAssembler", "SampleBuffer", "Shipper", "ShipperStats", "reachable"]

log = logging.getLogger(__name__)


@dataclass
class ShipperStats:
    collections: int = 0  # ticks
    collected: int = 0  # samples collected
    acked: int = 0  # samples the broker acknowledged
    messages: int = 0  # messages the broker acknowledged
    send_errors: int = 0  # messages that failed and went back to the buffer
    resets: int = 0  # producers replaced after failures
    rejected: int = 0  # samples the broker refused for good (message too large, ...)
    collect_errors: int = 0  # collector exceptions (the collection goes on without it)
    skipped_ticks: int = 0  # intervals missed because the loop fell behind (suspend, ...)


# Errors for which sending again cannot help.
_POISON = frozenset({"MSG_SIZE_TOO_LARGE", "_MSG_SIZE_TOO_LARGE", "INVALID_RECORD",
                     "CORRUPT_MESSAGE", "INVALID_MSG", "_INVALID_ARG", "RECORD_LIST_TOO_LARGE"})
_PURGED = frozenset({"_PURGE_QUEUE", "_PURGE_INFLIGHT"})


class Shipper:
    """Collect, encode, buffer and produce; ``run`` loops on the interval.

    ``tick`` (one collection) and ``service`` (serve delivery reports, recover, send) are
    public so a test or a bench can drive the shipper step by step.
    """

    def __init__(
        self,
        settings: Settings,
        collectors: Sequence[Collector],
        *,
        interval_s: float = 10.0,
        per_message: int = 1,
        max_per_message: int = 100,
        buffer_samples: int = 20_000,
        delivery_timeout_s: float = 30.0,
        max_in_flight: int = 1000,
        create_topics: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if interval_s <= 0 or not math.isfinite(interval_s):
            raise ConfigError(f"--interval must be a positive number of seconds, not {interval_s}")
        if per_message < 1 or max_per_message < per_message:
            raise ConfigError(
                f"--per-message {per_message}: must be >= 1 and <= --max-per-message "
                f"({max_per_message})"
            )
        if delivery_timeout_s <= 0:
            raise ConfigError("--delivery-timeout must be positive")
        self.settings = settings
        self.collectors = list(collectors)
        self.interval_ms = max(1, round(interval_s * 1000))
        self.per_message = per_message
        self.max_per_message = max_per_message
        self.delivery_timeout_s = delivery_timeout_s
        self.max_in_flight = max_in_flight
        self.create_topics = create_topics
        self.clock = clock
        self.topic = settings.topic("metrics")
        self.codec = Codec(settings.wire_format,
                           registry_url=settings.registry_url or None)
        self.assembler = BatchAssembler(self.codec, self.topic)
        self.buffer = SampleBuffer(buffer_samples)
        self.stats = ShipperStats()
        self.healthy = True  # False while deliveries fail: one message in flight at a time
        self._gen = 0
        self._need_reset = False
        self._closing = threading.Event()
        self._ensurer: threading.Thread | None = None
        self._last_log: dict[str, float] = {"stats": time.monotonic()}
        self._producer = self._new_producer()
        if create_topics:
            self._ensure_topics_soon()

    # -- public ------------------------------------------------------------------------

    @property
    def dropped(self) -> int:
        """Samples dropped because the buffer was full (the oldest first)."""
        return self.buffer.dropped

    @property
    def buffered(self) -> int:
        """Samples collected and not yet acknowledged by the broker."""
        return self.buffer.size

    def now_slot_ms(self) -> int:
        """The current interval's start, in event-time ms."""
        now_ms = int(self.clock() * 1000)
        return now_ms - now_ms % self.interval_ms

    def tick(self, ts_ms: int | None = None) -> int:
        """Collect once (stamped ``ts_ms``, default: the current slot), buffer, send what is
        ready; returns the samples collected. Never waits for the broker."""
        ts = self.now_slot_ms() if ts_ms is None else ts_ms
        mono = time.monotonic()
        n = 0
        for collector in self.collectors:
            try:
                samples = collector.collect(ts, mono)
            except Exception:  # one broken collector must not stop the others
                self.stats.collect_errors += 1
                if self._due("collect", 300):
                    log.exception("collector %s failed; going on without it", collector)
                continue
            for s in samples:
                self._add(s)
            n += len(samples)
        self.stats.collections += 1
        self.stats.collected += n
        self.pump()
        self._producer.poll(0)
        return n

    def service(self, timeout_s: float = 0.0) -> None:
        """Wait up to ``timeout_s`` for delivery reports, then recover and send."""
        self._producer.poll(timeout_s)
        if self._need_reset:
            self._reset_producer()
        self.pump()
        self._report()

    def pump(self, force: bool = False) -> int:
        """Hand ready samples to the producer (one message at a time while unhealthy)."""
        room = (self.max_in_flight if self.healthy else 1) - self.buffer.inflight_messages()
        if room <= 0:
            return 0
        hold_ms = self.per_message * self.interval_ms
        now_ms = int(self.clock() * 1000)

        def ready(points: list[Point]) -> bool:
            return (force or len(points) >= self.per_message
                    or now_ms - points[0].ts >= hold_ms)

        sent = 0
        gen = self._gen
        for msg_id, points in self.buffer.take(room, self.max_per_message, ready):
            value = self.assembler.message(points[0].header, [p.data for p in points])
            try:
                self._producer.produce(
                    self.topic, key=points[0].component.encode(), value=value,
                    on_delivery=lambda err, _msg, g=gen, i=msg_id: self._delivered(g, i, err),
                )
            except BufferError:  # the client's own queue is full: try again later
                self._requeue(msg_id)
                break
            except Exception as exc:  # KafkaException: a fatal client error
                self._requeue(msg_id)
                self._need_reset = True
                if self._due("produce", 60):
                    log.warning("produce failed: %s; will use a new producer", exc)
                break
            sent += 1
        return sent

    def run(self, stop: threading.Event | None = None, duration_s: float = 0.0) -> None:
        """Collect at every interval boundary until ``stop`` is set (or ``duration_s``)."""
        stop = stop or threading.Event()
        end = time.monotonic() + duration_s if duration_s > 0 else math.inf
        slot = self.now_slot_ms() + self.interval_ms
        while not stop.is_set() and time.monotonic() < end:
            wait_s = slot / 1000 - self.clock()
            if wait_s > 0:
                self.service(min(wait_s, 1.0, max(end - time.monotonic(), 0.0)))
                continue
            self.tick(slot)
            slot += self.interval_ms
            current = self.now_slot_ms()
            if current > slot:  # suspended or too slow: skip whole missed slots, no catch-up
                self.stats.skipped_ticks += (current - slot) // self.interval_ms
                slot = current

    def close(self, flush_timeout_s: float = 5.0) -> int:
        """Stop collectors, send what is buffered for up to ``flush_timeout_s``; returns the
        samples still unacknowledged (lost: the buffer lives in memory)."""
        self._closing.set()
        close_all(self.collectors)
        deadline = time.monotonic() + flush_timeout_s
        self.pump(force=True)
        while self.buffer.size and time.monotonic() < deadline:
            self._producer.poll(0.05)
            if self._need_reset:
                self._reset_producer()
            self.pump(force=True)
        left = self.buffer.size
        if left:
            log.warning("exiting with %d samples the broker has not acknowledged: lost", left)
        self._producer.purge()
        self._producer.poll(0)
        if self._ensurer is not None:
            self._ensurer.join(10)
        self._report(force=True)
        return left

    # -- internals ---------------------------------------------------------------------

    def _add(self, s: Sample) -> None:
        header = self.assembler.header(s.component, s.host, s.tags)
        data = self.assembler.point(s.ts, s.metrics)
        if self.buffer.add(s.component, s.ts, data, header):
            self._warn_drops()

    def _requeue(self, msg_id: int) -> None:
        if self.buffer.requeue(msg_id):
            self._warn_drops()

    def _warn_drops(self) -> None:
        if self._due("drops", 60):
            log.warning("buffer full (%d samples): dropped %d oldest samples so far",
                        self.buffer.bound, self.buffer.dropped)

    def _new_producer(self) -> Any:
        from confluent_kafka import Producer

        from streams.topics import producer_config

        self._gen += 1
        return Producer(producer_config(self.settings, {
            "linger.ms": 20,
            "message.timeout.ms": int(self.delivery_timeout_s * 1000),
            # Topics come from ensure_topics with the catalog's partition count.
            "allow.auto.create.topics": False,
            "reconnect.backoff.ms": 200,
            "reconnect.backoff.max.ms": 2000,
            "error_cb": self._client_error,
            "log_level": 2,  # connection failures come through error_cb, rate-limited
        }))

    def _delivered(self, gen: int, msg_id: int, err: Any) -> None:
        if gen != self._gen:  # a replaced producer's: its messages were requeued then
            return
        if err is None:
            n = self.buffer.ack(msg_id)
            self.stats.acked += n
            self.stats.messages += 1
            if not self.healthy:
                self.healthy = True
                log.info("broker is back; %d samples still to send", self.buffer.size)
            return
        name = err.name()
        if name in _PURGED:
            self._requeue(msg_id)
        elif name in _POISON:
            n = self.buffer.discard(msg_id)
            self.stats.rejected += n
            log.error("broker refused %d samples for good: %s", n, err.str())
        else:
            self._requeue(msg_id)
            self.stats.send_errors += 1
            self._need_reset = True
            if self.healthy or self._due("deliver", 60):
                log.warning("delivery failed (%s); %d samples buffered, sending again",
                            err.str(), self.buffer.size)
            self.healthy = False

    def _client_error(self, err: Any) -> None:
        if err.fatal():
            self._need_reset = True
            log.error("producer fatal error: %s; replacing it", err.str())
        elif err.name() == "_ALL_BROKERS_DOWN":
            if self.healthy:
                log.warning("broker %s unreachable; buffering (%d samples)",
                            self.settings.bootstrap_servers, self.buffer.size)
            self.healthy = False
        elif self._due("client", 60):
            log.info("kafka client: %s", err.str())

    def _reset_producer(self) -> None:
        old, self._producer = self._producer, None
        self._gen += 1  # reports from the old producer are ignored from here on
        old.purge(in_queue=True, in_flight=True, blocking=False)
        old.poll(0)
        if self.buffer.requeue_all():
            self._warn_drops()
        del old
        self._producer = self._new_producer()
        self._need_reset = False
        self.stats.resets += 1
        if self.create_topics:
            self._ensure_topics_soon()

    def _ensure_topics_soon(self) -> None:
        if self._ensurer is not None and self._ensurer.is_alive():
            return
        self._ensurer = threading.Thread(target=self._ensure_topics, daemon=True,
                                         name="forewarn-ship-topics")
        self._ensurer.start()

    def _ensure_topics(self) -> None:
        from streams.topics import ensure_topics

        while not self._closing.is_set():
            pause_s = 1.0  # until the broker accepts connections
            if reachable(self.settings.bootstrap_servers):
                try:
                    created = ensure_topics(self.settings, timeout_s=5.0)
                except ForewarnError as exc:
                    pause_s = 5.0
                    if self._due("topics", 300):
                        log.warning("%s (retrying; --no-create-topics turns this off)", exc)
                else:
                    if created:
                        log.info("created topics %s", ", ".join(created))
                    return
            self._closing.wait(pause_s)

    def _due(self, what: str, every_s: float) -> bool:
        """Rate-limits a log line: True at most once per ``every_s`` per ``what``."""
        now = time.monotonic()
        if now - self._last_log.get(what, -math.inf) < every_s:
            return False
        self._last_log[what] = now
        return True

    def _report(self, force: bool = False) -> None:
        if force or self._due("stats", 600):
            log.info("shipper: %s, buffered %d, dropped %d",
                     ", ".join(f"{k} {v}" for k, v in asdict(self.stats).items()),
                     self.buffer.size, self.buffer.dropped)


def reachable(bootstrap_servers: str, timeout_s: float = 1.0) -> bool:
    """Whether a TCP connection to any bootstrap server opens (cheap, quiet probe)."""
    for server in bootstrap_servers.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            with socket.create_connection((host.strip("[]") or "localhost", int(port)),
                                          timeout=timeout_s):
                return True
        except (OSError, ValueError):
            continue
    return False
