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
"""

from __future__ import annotations

import argparse
import io
import logging
import math
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from heapq import merge
from typing import Any, cast

from schemas.codec import Codec, WireFormat
from schemas.errors import ConfigError, ForewarnError
from streams.collect import (
    CgroupCollector,
    Collector,
    HostCollector,
    HttpProbes,
    Sample,
    close_all,
    parse_probe,
)
from streams.settings import Settings

log = logging.getLogger(__name__)

# -------------------------------------------------------------------------- wire format


def _zigzag_long(n: int) -> bytes:
    """Avro's encoding of a long (zig-zag, then base-128 varint)."""
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while z > 0x7F:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


class BatchAssembler:
    """Builds ``MetricBatch`` messages from points encoded one by one.

    In Avro a record's fields are concatenated and ``points`` is the last field, an array
    written as ``count, items..., 0``; so a batch is the codec's encoding of the batch with
    no points, less its final 0, then the count, the points and 0. The JSON wire format is
    assembled the same way. Either way the bytes are exactly ``codec.encode``'s.
    """

    def __init__(self, codec: Codec, topic: str) -> None:
        import copy

        import fastavro

        self.codec = codec
        self.topic = topic
        self.json = codec.wire_format == "json"
        raw = codec.schema("MetricBatch").raw
        items = next(f for f in raw["fields"] if f["name"] == "points")["type"]["items"]
        # timestamp-millis takes plain int ms as they are
        self._point_schema = fastavro.parse_schema(copy.deepcopy(items), _write_hint=False)
        self._write = fastavro.schemaless_writer
        self._headers: dict[tuple[str, str, tuple[tuple[str, str], ...]], bytes] = {}

    def point(self, ts_ms: int, metrics: Mapping[str, float]) -> bytes:
        if self.json:
            import orjson

            return orjson.dumps({"ts": ts_ms, "metrics": metrics})
        buf = io.BytesIO()
        self._write(buf, self._point_schema, {"ts": ts_ms, "metrics": metrics})
        return buf.getvalue()

    def header(self, component: str, host: str, tags: Mapping[str, str]) -> bytes:
        key = (component, host, tuple(sorted(tags.items())))
        head = self._headers.get(key)
        if head is None:
            if len(self._headers) > 10_000:  # cgroups come and go; points keep their own
                self._headers.clear()
            empty = self.codec.encode(
                "MetricBatch",
                {"component": component, "host": host, "tags": dict(tags), "points": []},
                topic=self.topic,
            )
            head = empty[:-2] if self.json else empty[:-1]  # keep "[" / drop the final 0
            self._headers[key] = head
        return head

    def message(self, header: bytes, points: Sequence[bytes]) -> bytes:
        if self.json:
            return header + b",".join(points) + b"]}"
        return header + _zigzag_long(len(points)) + b"".join(points) + b"\x00"


# ------------------------------------------------------------------------------- buffer


class Point:
    """One encoded sample waiting for the broker's acknowledgement."""

    __slots__ = ("seq", "component", "ts", "data", "header")

    def __init__(self, seq: int, component: str, ts: int, data: bytes, header: bytes) -> None:
        self.seq = seq
        self.component = component
        self.ts = ts
        self.data = data
        self.header = header


class SampleBuffer:
    """Samples not yet acknowledged by the broker, in collection order, at most ``bound``.

    ``queued`` samples wait to be sent; ``take`` moves some into a message in flight, which
    ``ack`` forgets and ``requeue`` puts back in order. Past the bound the oldest queued
    samples are dropped and counted in ``dropped``; samples already in flight are not
    (the client holds them), so the bound may be exceeded by what is in flight until those
    come back. Pure: no Kafka here.
    """

    def __init__(self, bound: int) -> None:
        if bound < 1:
            raise ConfigError(f"buffer bound must be at least 1 sample, got {bound}")
        self.bound = bound
        self.dropped = 0
        self.queued: deque[Point] = deque()
        self.inflight: dict[int, list[Point]] = {}
        self._inflight_n = 0
        self._seq = 0
        self._msg = 0

    @property
    def size(self) -> int:
        return len(self.queued) + self._inflight_n

    def add(self, component: str, ts: int, data: bytes, header: bytes) -> int:
        """Queue a sample; returns how many old ones were dropped to make room."""
        self._seq += 1
        self.queued.append(Point(self._seq, component, ts, data, header))
        return self._trim()

    def _trim(self) -> int:
        dropped = 0
        while self.size > self.bound and self.queued:
            self.queued.popleft()
            dropped += 1
        self.dropped += dropped
        return dropped

    def take(
        self,
        max_messages: int,
        max_points: int,
        ready: Callable[[list[Point]], bool] = lambda points: True,
    ) -> list[tuple[int, list[Point]]]:
        """Up to ``max_messages`` messages of one component each (oldest first), of the
        components whose queued points ``ready`` accepts; they are then in flight."""
        if max_messages <= 0 or not self.queued:
            return []
        groups: dict[str, list[Point]] = {}
        for p in self.queued:
            groups.setdefault(p.component, []).append(p)
        chunks = [
            points[i: i + max_points]
            for points in groups.values() if ready(points)
            for i in range(0, len(points), max_points)
        ]
        if not chunks:
            return []
        chunks.sort(key=lambda c: c[0].seq)
        del chunks[max_messages:]
        taken = {p.seq for c in chunks for p in c}
        self.queued = deque(p for p in self.queued if p.seq not in taken)
        out = []
        for chunk in chunks:
            self._msg += 1
            self.inflight[self._msg] = chunk
            self._inflight_n += len(chunk)
            out.append((self._msg, chunk))
        return out

    def ack(self, msg_id: int) -> int:
        """The broker has it: forget the message; returns its sample count (0 if unknown)."""
        points = self.inflight.pop(msg_id, None)
        if points is None:
            return 0
        self._inflight_n -= len(points)
        return len(points)

    discard = ack  # a message the broker refuses for good leaves the buffer the same way

    def requeue(self, msg_id: int) -> int:
        """The message failed: its samples go back in collection order; returns the count
        dropped by the bound as a result."""
        points = self.inflight.pop(msg_id, None)
        if points is None:
            return 0
        self._inflight_n -= len(points)
        self.queued = deque(merge(points, self.queued, key=lambda p: p.seq))
        return self._trim()

    def requeue_all(self) -> int:
        dropped = 0
        for msg_id in sorted(self.inflight):
            dropped += self.requeue(msg_id)
        return dropped

    def inflight_messages(self) -> int:
        return len(self.inflight)


# ------------------------------------------------------------------------------ shipper


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
        self.codec = Codec(cast(WireFormat, settings.wire_format),
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


def serve_metrics(shipper: Shipper, port: int) -> None:
    """Export the shipper's counters for Prometheus on ``port`` (no-op for 0)."""
    if port <= 0:
        return
    from prometheus_client import CollectorRegistry
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    from streams.telemetry import serve

    class Exporter:
        def collect(self) -> Iterator[Any]:
            s = shipper.stats
            for name, value, doc in (
                ("collected", s.collected, "samples collected"),
                ("acked", s.acked, "samples acknowledged by the broker"),
                ("dropped", shipper.dropped, "samples dropped, buffer full (oldest first)"),
                ("rejected", s.rejected, "samples the broker refused for good"),
                ("send_errors", s.send_errors, "messages that failed and were buffered again"),
                ("producer_resets", s.resets, "producers replaced after failed deliveries"),
            ):
                yield CounterMetricFamily(f"forewarn_shipper_{name}", doc, value=value)
            yield GaugeMetricFamily("forewarn_shipper_buffered",
                                    "samples not yet acknowledged", value=shipper.buffered)

    registry = CollectorRegistry()
    registry.register(Exporter())
    serve(port, registry)


# ---------------------------------------------------------------------------------- CLI


def add_subcommand(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    s = sub.add_parser("ship", help="ship this host's metrics to forewarn.metrics",
                       description="Collect this host's metrics (and its cgroups', and HTTP "
                       "probes') every interval and send them to forewarn.metrics.")
    s.add_argument("--interval", type=float, default=10.0, help="seconds between collections")
    s.add_argument("--host", help="this host's component id (default: the hostname)")
    s.add_argument("--per-message", type=int, default=1,
                   help="samples of a component per message (more: fewer messages, later)")
    s.add_argument("--max-per-message", type=int, default=100,
                   help="most samples in one message when a backlog is sent")
    s.add_argument("--buffer-samples", type=int, default=20_000,
                   help="unacknowledged samples kept for an outage; past it the oldest go")
    s.add_argument("--delivery-timeout", type=float, default=30.0,
                   help="seconds before an unacknowledged message is sent again")
    s.add_argument("--mount", action="append", dest="mounts", metavar="PATH",
                   help="filesystem for disk.used_pct, fullest wins (repeatable; default /)")
    s.add_argument("--proc-root", default="/proc")
    s.add_argument("--sys-root", default="/sys")
    s.add_argument("--no-host", action="store_true", help="no host sample (cgroups/probes only)")
    s.add_argument("--cgroups", action="append", default=[], metavar="GLOB",
                   help="cgroup v2 directories under --cgroup-root, e.g. 'system.slice/*.service'")
    s.add_argument("--cgroup-root", default="/sys/fs/cgroup")
    s.add_argument("--probe", action="append", default=[], metavar="NAME=URL",
                   help="GET URL every interval as component <host>/NAME (repeatable)")
    s.add_argument("--probe-timeout", type=float, default=2.0)
    s.add_argument("--probe-window", type=int, default=30,
                   help="probes behind errors.rate and latency.p99_ms")
    s.add_argument("--no-create-topics", action="store_true",
                   help="never create topics (the broker or an operator does)")
    s.add_argument("--duration", type=float, default=0.0, help="seconds to run; 0: until stopped")
    s.set_defaults(func=cmd_ship)


def build_collectors(args: argparse.Namespace, host: str) -> list[Collector]:
    collectors: list[Collector] = []
    if not args.no_host:
        collectors.append(HostCollector(host, proc_root=args.proc_root, sys_root=args.sys_root,
                                        mounts=args.mounts or ["/"]))
    try:
        if args.cgroups:
            collectors.append(CgroupCollector(host, args.cgroups, root=args.cgroup_root))
        if args.probe:
            probes = dict(parse_probe(p) for p in args.probe)
            collectors.append(HttpProbes(host, probes, timeout_s=args.probe_timeout,
                                         window=args.probe_window))
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    if not collectors:
        raise ConfigError("nothing to collect: --no-host without --cgroups or --probe")
    return collectors


def cmd_ship(args: argparse.Namespace) -> int:
    import signal

    from streams.cli import settings_of

    settings = settings_of(args)
    host = args.host or socket.gethostname()
    shipper = Shipper(
        settings, build_collectors(args, host), interval_s=args.interval,
        per_message=args.per_message, max_per_message=args.max_per_message,
        buffer_samples=args.buffer_samples, delivery_timeout_s=args.delivery_timeout,
        create_topics=not args.no_create_topics,
    )
    serve_metrics(shipper, settings.metrics_port)
    stop = threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    log.info("shipping %s every %gs to %s on %s", host, args.interval, shipper.topic,
             settings.bootstrap_servers)
    try:
        shipper.run(stop, args.duration)
    except KeyboardInterrupt:
        pass
    finally:
        left = shipper.close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0 if left == 0 else 1


# -------------------------------------------------------------------------------- bench


def bench_shipper(seconds: float = 20.0, bootstrap_servers: str | None = None) -> dict[str, float]:
    """The shipper's cost, measured in a child process against a broker (an embedded one
    unless ``bootstrap_servers`` is given): CPU share of one core at a 10 s interval and
    resident memory. Half of ``seconds`` idles between collections, half collects every
    0.1 s; the share is ``idle + cpu_per_collection / 10``."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    from streams.broker import EmbeddedBroker

    broker = None
    if bootstrap_servers is None:
        broker = EmbeddedBroker().start()
        bootstrap_servers = broker.bootstrap_servers
    try:
        proc = subprocess.run(
            [sys.executable, "-c", "import sys, streams.shipper as s; s._bench_child(sys.argv[1:])",
             bootstrap_servers, str(seconds)],
            cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True,
            timeout=seconds * 3 + 120, check=False,
        )
    finally:
        if broker is not None:
            broker.stop()
    if proc.returncode != 0:
        raise ForewarnError(f"shipper bench failed: {proc.stderr[-2000:]}")
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _bench_child(argv: Sequence[str]) -> None:
    import json
    import os
    import resource
    import uuid

    import psutil  # type: ignore[import-untyped,unused-ignore]

    bootstrap, seconds = argv[0], float(argv[1])
    settings = Settings.load(env={}, bootstrap_servers=bootstrap,
                             topic_prefix=f"bench{uuid.uuid4().hex[:6]}.")
    from streams.topics import ensure_topics

    ensure_topics(settings)
    host = socket.gethostname()
    collectors: list[Collector] = [HostCollector(host)]
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        collectors.append(CgroupCollector(host, ["system.slice/*.service"]))
    shipper = Shipper(settings, collectors, interval_s=10.0, create_topics=False)
    for _ in range(3):  # warm up: connect, metadata, first rates
        shipper.tick()
        shipper.service(0.5)

    # Idle between collections, exactly as ``run`` waits (the slot is far ahead).
    half = seconds / 2
    c0, t0 = time.process_time(), time.monotonic()
    end = t0 + half
    while (left := end - time.monotonic()) > 0:
        shipper.service(min(left, 1.0))
    idle_share = (time.process_time() - c0) / (time.monotonic() - t0)

    # Collections every 0.1 s: each is collect + encode + produce + its delivery report.
    fast = Shipper(settings, collectors, interval_s=0.1, create_topics=False)
    c0, t0 = time.process_time(), time.monotonic()
    fast.run(duration_s=half)
    wall = time.monotonic() - t0
    cpu = time.process_time() - c0
    ticks = max(1, fast.stats.collections)
    per_tick_s = max(0.0, cpu - idle_share * wall) / ticks

    c0 = time.process_time()
    n = 200
    for i in range(n):
        for c in collectors:
            c.collect(i, time.monotonic())
    collect_s = (time.process_time() - c0) / n

    fast.close(5.0)
    shipper.close(5.0)
    rss = psutil.Process().memory_info().rss
    out = {
        "cpu_share_at_10s_pct": 100.0 * (idle_share + per_tick_s / 10.0),
        "idle_cpu_share_pct": 100.0 * idle_share,
        "cpu_per_collection_ms": 1000.0 * per_tick_s,
        "collect_only_ms": 1000.0 * collect_s,
        "samples_per_collection": fast.stats.collected / ticks,
        "collections": ticks,
        "rss_mb": rss / 2**20,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "acked_samples": float(fast.stats.acked),
        "dropped_samples": float(fast.dropped),
    }
    print(json.dumps(out))
