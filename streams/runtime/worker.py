"""The processor worker: a Faust app whose one agent reads ``forewarn.metrics``.

Per message it calls :class:`streams.handler.MetricsHandler` (the pure pipeline behind a
codec) and sends what comes back — health signals, risk scores, dead letters — to their topics,
keyed by component. Scaling out is adding workers to the group: partitions, and with them the
components and their model state, are shared among them (``streams/runtime/checkpoint.py``).

Delivery is at-least-once: a message is acked (so committed) only once the broker has
acknowledged every output of it and of every message before it (:class:`Outbox`); the agent
does not wait for those acknowledgements itself, so sends are pipelined. After a crash, messages
since the last commit are processed again.

Model state: every component's state is checkpointed to ``forewarn.checkpoints`` (periodically,
on revocation and on shutdown); when the group hands this worker a partition, it restores the
partition's checkpoints and replays the gap up to the committed offset before Faust resumes it.

Faust traps avoided on purpose (see the developers' brief): the agent runs with
``concurrency=1`` (faust #606: more can commit past an unprocessed message); windows are kept by
the pipeline in event time, not in Faust's windowed tables (#385: their expiry uses wall time).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import faust
from confluent_kafka import KafkaError, Message, Producer
from prometheus_client import CollectorRegistry, Counter, Gauge

from processors.pipeline import PipelineConfig
from schemas.codec import Codec
from schemas.errors import BrokerError
from streams.handler import MetricsHandler, TimeBounds
from streams.runtime.actions import ActionFeed
from streams.runtime.checkpoint import (
    CheckpointedPipeline,
    CheckpointPolicy,
    CheckpointStore,
    Restorer,
)
from streams.security import KafkaSecurity
from streams.settings import Settings
from streams.telemetry import WorkerMetrics, serve
from streams.topics import producer_config

log = logging.getLogger(__name__)

MAX_PENDING = 10_000  # messages processed but not yet acked before the agent waits
WAIT_S = 30.0  # at most this long for the broker to acknowledge checkpoints on revoke/shutdown


def pipeline_config(settings: Settings) -> PipelineConfig:
    """The worker's pipeline config: :meth:`Settings.pipeline_config` (every knob)."""
    return settings.pipeline_config()


class Outbox:
    """Runs each entry's action once its futures, and those of every earlier entry, are done.

    Entries are (output futures, ack of the message) and (nothing, send a checkpoint), so a
    message is acked only after its outputs are acknowledged, in offset order, and a checkpoint
    is sent only after the outputs of every message it covers. A failed send calls ``on_error``
    and stops the outbox: nothing after it is acked.
    """

    def __init__(self, on_error: Callable[[BaseException], None]) -> None:
        self._q: deque[tuple[Sequence[asyncio.Future[Any]], Callable[[], Any]]] = deque()
        self._armed = False
        self._failed = False
        self._on_error = on_error
        self._room = asyncio.Event()

    def __len__(self) -> int:
        return len(self._q)

    def add(self, futures: Sequence[asyncio.Future[Any]], action: Callable[[], Any]) -> None:
        if not self._q and not self._failed and all(f.done() for f in futures):
            if self._check(futures):  # the common case: nothing in flight, nothing to send
                action()
            return
        self._q.append((futures, action))
        if not self._armed:
            self._pump()

    async def room(self, below: int) -> None:
        """Wait until fewer than ``below`` entries are pending."""
        while len(self._q) >= below and not self._failed:
            self._room.clear()
            await self._room.wait()

    def _pump(self, _: object = None) -> None:
        self._armed = False
        while self._q and not self._failed:
            futures, action = self._q[0]
            pending = next((f for f in futures if not f.done()), None)
            if pending is not None:  # called again once it is done
                self._armed = True
                pending.add_done_callback(self._pump)
                break
            if not self._check(futures):
                return
            self._q.popleft()
            action()
        self._room.set()  # room() checks again

    def _check(self, futures: Sequence[asyncio.Future[Any]]) -> bool:
        for f in futures:
            exc = asyncio.CancelledError() if f.cancelled() else f.exception()
            if exc is not None:
                self._failed = True
                self._room.set()
                self._on_error(exc)
                return False
        return True


class Sink:
    """Produces outputs and checkpoints through librdkafka (confluent-kafka, idempotent, keys
    hashed with murmur2 as Faust's producer does): a produce is a few microseconds of C, where
    aiokafka's send was ~150 us of Python — most of the worker's time outside the pipeline.

    :meth:`send` returns a future that the delivery report resolves; reports are served by
    :meth:`poll`, called by the agent after each message and by :meth:`run` every few ms, both
    on the event loop's thread, so the futures are only touched there.
    """

    def __init__(self, settings: Settings) -> None:
        self.producer = Producer(producer_config(settings))

    def send(self, topic: str, key: bytes, value: bytes, partition: int | None = None
             ) -> asyncio.Future[None]:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def report(err: KafkaError | None, _: Message) -> None:
            if fut.done():
                return
            if err is None:
                fut.set_result(None)
            else:
                fut.set_exception(BrokerError(f"producing to {topic} failed: {err}"))

        while True:
            try:
                if partition is None:
                    self.producer.produce(topic, value, key, on_delivery=report)
                else:
                    self.producer.produce(topic, value, key, partition, on_delivery=report)
                return fut
            except BufferError:  # librdkafka's queue is full: serve reports, then retry
                self.producer.poll(0.05)

    def poll(self) -> None:
        self.producer.poll(0)

    async def run(self) -> None:
        while True:
            self.producer.poll(0)
            await asyncio.sleep(0.005)

    async def wait(self, futures: Sequence[asyncio.Future[None]], timeout_s: float = WAIT_S
                   ) -> None:
        """Wait for deliveries, serving reports meanwhile (also while the loop winds down);
        BrokerError when they are not all acknowledged within ``timeout_s`` (a broker outage
        must not hang a revocation or a shutdown) or when one failed."""
        deadline = time.monotonic() + timeout_s
        while not all(f.done() for f in futures):
            if time.monotonic() > deadline:
                left = sum(not f.done() for f in futures)
                raise BrokerError(f"{left} of {len(futures)} deliveries not acknowledged "
                                  f"within {timeout_s:g} s")
            self.producer.poll(0.01)
            await asyncio.sleep(0)
        for f in futures:
            f.result()

    def close(self, timeout_s: float = 5.0) -> None:
        """Deliver what is queued (for at most ``timeout_s``), then free the producer's
        threads and sockets: an agent that restarts makes a new Sink, never leaks one."""
        try:
            self.producer.flush(timeout_s)
        finally:
            close = getattr(self.producer, "close", None)
            if callable(close):
                close()


@dataclass
class CheckpointMetrics:
    registry: CollectorRegistry

    def __post_init__(self) -> None:
        r = self.registry
        self.written = Counter("forewarn_checkpoints_written", "checkpoints produced", registry=r)
        self.bytes = Counter("forewarn_checkpoint_bytes", "checkpoint bytes produced", registry=r)
        self.restored = Counter("forewarn_checkpoints_restored", "component states restored",
                                registry=r)
        self.replayed = Counter("forewarn_replayed_messages",
                                "source messages replayed with outputs suppressed", registry=r)
        self.dropped = Counter("forewarn_states_dropped", "component states dropped", registry=r)
        self.partitions = Gauge("forewarn_worker_partitions", "source partitions assigned",
                                registry=r)
        self.evicted = Counter("forewarn_components_evicted",
                               "component states checkpointed and evicted (cap: over "
                               "max_components; idle: unseen for evict_idle_s)", ["reason"],
                               registry=r)
        self.components = Gauge("forewarn_worker_components", "component states held",
                                registry=r)


def create_app(settings: Settings) -> faust.App:
    """A Faust app wired to ``settings``; nothing connects until it is started."""
    from pathlib import Path

    datadir = Path(settings.data_dir) / "faust"
    datadir.mkdir(parents=True, exist_ok=True)
    security = KafkaSecurity.from_settings(settings)
    app = faust.App(
        settings.worker_group,
        broker=f"kafka://{settings.bootstrap_servers}",
        broker_credentials=security.faust_credentials(),  # None: plaintext
        store="memory://",
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        key_serializer="raw",
        value_serializer="raw",
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.session_timeout_ms / 1000,
        broker_heartbeat_interval=1.0,
        broker_commit_every=1000,
        broker_commit_interval=1.0,
        producer_acks=-1,
        web_enabled=settings.worker_web_port > 0,
        web_port=settings.worker_web_port or 6066,
        web_host="127.0.0.1",
        datadir=str(datadir),
    )
    codec = Codec(settings.wire_format, registry_url=settings.registry_url or None)
    source = settings.topic("metrics")
    pipeline = CheckpointedPipeline(
        pipeline_config(settings), source, CheckpointPolicy.from_settings(settings),
        max_components=settings.max_components, evict_idle_s=settings.evict_idle_s,
    )
    bounds = TimeBounds(settings.max_future_s or 10**12, settings.max_past_s or 10**12)
    handler = MetricsHandler(pipeline, codec, settings.topic, time_bounds=bounds)
    app.forewarn_handler = handler  # type: ignore[attr-defined]  # for tests and metrics

    metrics = app.topic(source, key_type=bytes, value_type=bytes)
    by_full = [settings.topic(name) for name in ("health", "risk", "deadletter")]
    checkpoints = settings.topic("checkpoints")
    sink: Sink | None = None  # made on the event loop, when the agent starts

    telemetry = WorkerMetrics()
    app.forewarn_metrics = telemetry  # type: ignore[attr-defined]
    ck_metrics = CheckpointMetrics(telemetry.registry)
    restorer: Restorer | None = None
    executor = ThreadPoolExecutor(1, thread_name_prefix="forewarn-restore")

    def crash(exc: BaseException) -> None:
        log.error("a send failed (%r): stopping so that the group hands the partitions on", exc)
        asyncio.ensure_future(app.crash(exc))

    outbox = Outbox(crash)
    # a rebalance can start while the restore of the previous one runs in its thread
    rebalancing = asyncio.Lock()

    def checkpoint_partition(source_partition: int) -> int:
        n = restorer.n_partitions if restorer is not None else 0
        return source_partition % (n or settings.partitions)

    def framed(component: str) -> tuple[int, bytes] | None:
        got = pipeline.checkpoint(component)
        if got is None:
            return None
        ck_metrics.written.inc()
        ck_metrics.bytes.inc(len(got[1]))
        return checkpoint_partition(got[0]), got[1]

    def send_checkpoint(component: str) -> None:
        got = framed(component)
        if got is not None and sink is not None:
            sink.send(checkpoints, component.encode(), got[1], got[0])

    async def checkpoint_all(reason: str) -> None:
        """Checkpoint every component whose checkpoint is behind, and wait for the broker."""
        if sink is None:
            return
        todo = pipeline.behind(0)
        seen = set(todo)
        todo += [c for c, m in pipeline.marks.items() if m.dirty and c not in seen]
        pending = []
        for comp in todo:
            got = framed(comp)
            if got is not None:
                pending.append(sink.send(checkpoints, comp.encode(), got[1], got[0]))
        try:
            await sink.wait(pending)
        except BrokerError as exc:  # the next owner restores older checkpoints and replays
            log.error("%s: %d checkpoints not confirmed: %s", reason, len(pending), exc)
            return
        log.info("%s: %d checkpoints written", reason, len(pending))

    def evict() -> None:
        """Checkpoint and drop the states :meth:`CheckpointedPipeline.evictable` names."""
        for comp, why in pipeline.evictable():
            got = framed(comp)
            pipeline.forget(comp)
            ck_metrics.evicted.labels(why).inc()
            if got is not None and sink is not None:
                s, (p, value) = sink, got
                outbox.add((), lambda s=s, c=comp, p=p, v=value: s.send(
                    checkpoints, c.encode(), v, p))
        ck_metrics.components.set(len(pipeline.marks))

    @app.agent(metrics, name="forewarn.process", concurrency=1)
    async def process(stream: faust.StreamT[bytes]) -> None:
        nonlocal sink
        manual = stream.noack()  # acked by the outbox once the outputs are acknowledged
        sink = out = Sink(settings)
        poller = asyncio.ensure_future(out.run())
        actions = ActionFeed(settings, pipeline, codec)
        emitted = {full: telemetry.emitted.labels(full) for full in by_full}
        try:
            async for event in manual.events():
                msg = event.message
                samples, dead = handler.counters.samples, dict(handler.counters.dead)
                pipeline.at(msg.partition, msg.offset)
                with telemetry.handle_s.time():
                    outs = handler.handle(msg.value, msg.key, msg.topic, msg.partition, msg.offset)
                telemetry.messages.inc()
                telemetry.samples.inc(handler.counters.samples - samples)
                for stage, n in handler.counters.dead.items():
                    if n != dead.get(stage, 0):
                        telemetry.dead.labels(stage).inc(n - dead.get(stage, 0))
                futures = []
                for o in outs:
                    emitted[o.topic].inc()
                    futures.append(out.send(o.topic, o.key, o.value))
                outbox.add(futures, event.ack)
                for comp in pipeline.due():
                    outbox.add((), lambda c=comp: send_checkpoint(c))
                evict()
                out.poll()
                actions.drain()
                if len(outbox) >= MAX_PENDING:
                    await outbox.room(MAX_PENDING // 2)
        finally:
            poller.cancel()
            actions.close()
            out.close()

    @app.on_partitions_revoked.connect
    async def on_revoked(sender: faust.App, revoked: set[Any], **_: Any) -> None:
        # Faust has waited for the agent and committed; eager rebalancing revokes everything,
        # the partitions that come back keep their state (see on_rebalance_complete)
        async with rebalancing:
            await checkpoint_all("partitions revoked")

    @app.on_before_shutdown.connect
    async def on_shutdown(sender: faust.App, **_: Any) -> None:
        async with rebalancing:
            await checkpoint_all("shutdown")
            if restorer is not None:
                closing = asyncio.get_running_loop().run_in_executor(executor,
                                                                     restorer.store.close)
                try:
                    await asyncio.wait_for(closing, WAIT_S)
                except TimeoutError:
                    log.error("shutdown: the checkpoint reader did not close in %g s", WAIT_S)

    @app.on_rebalance_complete.connect
    async def on_rebalance_complete(sender: faust.App, **_: Any) -> None:
        # Faust awaits this before it resumes the partitions and seeks them to the committed
        # offsets, so the state is in place before the first message of a new partition.
        nonlocal restorer
        assigned = {tp.partition for tp in app.consumer.assignment() if tp.topic == source}
        loop = asyncio.get_running_loop()
        async with rebalancing:
            try:
                if restorer is None:
                    store = await loop.run_in_executor(executor, CheckpointStore, settings)
                    restorer = Restorer(pipeline, store, codec)
                stats = await loop.run_in_executor(executor, restorer.sync, assigned)
            except BrokerError as exc:
                log.error("cannot restore model state, continuing cold: %s", exc)
                for p in set(pipeline.positions) | {m.partition for m in pipeline.marks.values()}:
                    pipeline.forget_partition(p)
                ck_metrics.partitions.set(len(assigned))
                return
        ck_metrics.partitions.set(len(assigned))
        ck_metrics.restored.inc(stats.restored)
        ck_metrics.replayed.inc(stats.replayed)
        ck_metrics.dropped.inc(stats.dropped)
        log.info("partitions %s: %d kept, %d states restored, %d messages replayed, %d dropped"
                 ", %d cold after errors", stats.partitions, stats.kept, stats.restored,
                 stats.replayed, stats.dropped, stats.failed)

    return app


def run_worker(settings: Settings, loglevel: str = "info") -> None:
    """Run a worker until SIGINT/SIGTERM."""
    from streams.topics import ensure_topics

    ensure_topics(settings)
    app = create_app(settings)
    serve(settings.metrics_port, app.forewarn_metrics.registry,  # type: ignore[attr-defined]
          settings.metrics_host)
    worker = faust.Worker(app, loglevel=loglevel, quiet=True)
    # Faust's start-up spinner puts the root logger at DEBUG for good: every aiokafka and Faust
    # debug line would then be formatted, ~5 % of the worker's time.
    worker.spinner = None
    worker.execute_from_commandline()
