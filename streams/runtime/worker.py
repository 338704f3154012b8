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
import contextlib
import functools
import logging
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import faust

from processors.pipeline import PipelineConfig
from schemas.codec import Codec
from schemas.errors import BrokerError
from streams.handler import MetricsHandler, TimeBounds
from streams.runtime.actions import ActionFeed
from streams.runtime.checkpoint import CheckpointedPipeline, CheckpointPolicy, limits
from streams.runtime.faustapp import faust_app
from streams.runtime.outbox import MAX_PENDING, WAIT_S, CheckpointMetrics, Outbox, Sink
from streams.runtime.restore import CheckpointStore, Restorer
from streams.settings import Settings
from streams.telemetry import WorkerMetrics, serve

log = logging.getLogger(__name__)



def pipeline_config(settings: Settings) -> PipelineConfig:
    """The worker's pipeline config: :meth:`Settings.pipeline_config` (every knob)."""
    return settings.pipeline_config()


# Faust's fetcher hands over one message per ~3 loop turns: else every poll was one message
QUIET_TURNS = 4


async def delivered(queue: Any, want: int, quiet: int = QUIET_TURNS) -> None:
    """Event-loop turns until ``queue`` holds ``want`` events or ``quiet`` turns in a row
    added none. Waits on no clock: with nothing fetched, the poll runs a few turns later."""
    n, still = queue.qsize(), 0
    while still < quiet and n < want:
        await asyncio.sleep(0)
        m = queue.qsize()
        n, still = m, 0 if m > n else still + 1


class Worker:
    """One worker process: a Faust app, its one agent over ``forewarn.metrics``, and the
    checkpoint plumbing around the pipeline (write, evict, restore on rebalance).

    The agent and the signal handlers are this object's methods; its state (the sink made on
    the event loop, the restorer made on the first rebalance) lives in its attributes."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = faust_app(settings)
        self.codec = Codec(settings.wire_format, registry_url=settings.registry_url or None)
        self.source = settings.topic("metrics")
        self.pipeline = CheckpointedPipeline(
            pipeline_config(settings), self.source, CheckpointPolicy.from_settings(settings),
            **limits(settings),
        )
        bounds = TimeBounds(settings.max_future_s or 10**12, settings.max_past_s or 10**12)
        self.handler = MetricsHandler(self.pipeline, self.codec, settings.topic,
                                      time_bounds=bounds)
        self.checkpoints = settings.topic("checkpoints")
        self.outputs = [settings.topic(name) for name in ("health", "risk", "deadletter")]
        self.telemetry = WorkerMetrics()
        self.ck_metrics = CheckpointMetrics(self.telemetry.registry)
        self.sink: Sink | None = None  # made on the event loop, when the agent starts
        self.restorer: Restorer | None = None
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="forewarn-restore")
        self.outbox = Outbox(self.crash)
        # a rebalance can start while the restore of the previous one runs in its thread
        self.rebalancing = asyncio.Lock()
        # for tests and the metrics endpoint
        self.app.forewarn_handler = self.handler  # type: ignore[attr-defined]
        self.app.forewarn_metrics = self.telemetry  # type: ignore[attr-defined]
        metrics = self.app.topic(self.source, key_type=bytes, value_type=bytes)
        self.app.agent(metrics, name="forewarn.process", concurrency=1)(self.process)
        # faust's stub wants receivers typed as its own callback union, which an async method
        # that accepts (sender, *args, signal=..., **kwargs) as Faust calls it does not match
        self.app.on_partitions_revoked.connect(self.on_revoked)  # type: ignore[arg-type]
        self.app.on_before_shutdown.connect(self.on_shutdown)  # type: ignore[arg-type]
        self.app.on_rebalance_complete.connect(self.on_rebalance_complete)  # type: ignore[arg-type]

    def crash(self, exc: BaseException) -> None:
        log.error("a send failed (%r): stopping so that the group hands the partitions on", exc)
        asyncio.ensure_future(self.app.crash(exc))

    # -- checkpoints -------------------------------------------------------------------------

    def checkpoint_partition(self, source_partition: int) -> int:
        n = self.restorer.n_partitions if self.restorer is not None else 0
        return source_partition % (n or self.settings.partitions)

    def framed(self, component: str, common: Any = None) -> tuple[int, bytes] | None:
        got = self.pipeline.checkpoint(component, None, common)
        if got is None:
            return None
        self.ck_metrics.written.inc()
        self.ck_metrics.bytes.inc(len(got[1]))
        return self.checkpoint_partition(got[0]), got[1]

    def queue_checkpoint(self, component: str, common: Any = None) -> None:
        """Frame the component's checkpoint now and send it once the outputs of every message
        it covers are acknowledged (the outbox's order).

        Framed now, not when the outbox reaches it: by then the pipeline has read further
        messages whose outputs are still in flight, and a checkpoint framed then would cover
        them. After a ``kill -9`` its new owner would skip those messages for the component
        (``skip_below``) while their windows, acknowledged by no broker, died with the
        producer: windows lost for good (#12, ``test_faults::test_kill_9_worker...``)."""
        got = self.framed(component, common)  # common: pipeline.common() of a round (s31)
        if got is None or self.sink is None:
            return
        s, (p, value), topic = self.sink, got, self.checkpoints
        self.outbox.add((), lambda: s.send(topic, component.encode(), value, p))

    async def checkpoint_all(self, reason: str) -> None:
        """Checkpoint every component whose checkpoint is behind, and wait for the broker."""
        sink, pipeline = self.sink, self.pipeline
        if sink is None:
            return
        try:  # a checkpoint covers these messages: their outputs must be acknowledged first
            await sink.wait(self.outbox.in_flight())
        except BrokerError as exc:  # the next owner restores older checkpoints and replays
            log.error("%s: outputs not confirmed, no checkpoints written: %s", reason, exc)
            return
        await asyncio.sleep(0)  # the outbox sends the checkpoints it queued, older ones first
        todo = pipeline.behind(0)
        seen = set(todo)
        todo += [c for c, m in pipeline.marks.items() if m.dirty and c not in seen]
        pending = []
        for comp in todo:
            got = self.framed(comp)
            if got is not None:
                pending.append(sink.send(self.checkpoints, comp.encode(), got[1], got[0]))
        try:
            await sink.wait(pending)
        except BrokerError as exc:  # the next owner restores older checkpoints and replays
            log.error("%s: %d checkpoints not confirmed: %s", reason, len(pending), exc)
            return
        log.info("%s: %d checkpoints written", reason, len(pending))

    def evict(self, scan_every: int = 1000) -> None:
        """Checkpoint, drop and park the states :meth:`CheckpointedPipeline.evictable` names
        (:meth:`CheckpointedPipeline.evict_parked`); send their checkpoints."""
        for comp, why, got in self.pipeline.evict_parked(scan_every):
            self.ck_metrics.evicted.labels(why).inc()
            if got is None:
                continue
            self.ck_metrics.written.inc()
            self.ck_metrics.bytes.inc(len(got[1]))
            if self.sink is not None:  # framed now, sent in the outbox's order
                s, p, topic = self.sink, self.checkpoint_partition(got[0]), self.checkpoints
                self.outbox.add((), functools.partial(s.send, topic, comp.encode(), got[1], p))
        self.ck_metrics.components.set(len(self.pipeline.marks))

    # -- the agent ---------------------------------------------------------------------------

    async def process(self, stream: faust.StreamT[bytes]) -> None:
        # acked by the outbox once the outputs are acknowledged (noack: Stream's, not StreamT's)
        manual = cast("faust.Stream[bytes]", cast("faust.Stream[bytes]", stream).noack())
        self.sink = out = Sink(self.settings)
        poller = asyncio.ensure_future(out.run())
        actions = ActionFeed(self.settings, self.pipeline, self.codec)
        emitted = {full: self.telemetry.emitted.labels(full) for full in self.outputs}
        queue = getattr(manual.channel, "queue", None)  # the events delivered, not yet read
        try:
            if self.settings.worker_batch > 1 and queue is not None:
                await self.run_batched(manual, queue, emitted, actions)
            else:
                async for event in manual.events():
                    self.step(event.message, event.ack, emitted)
                    await self.after_step(out, actions)
        finally:
            poller.cancel()
            actions.close()
            out.close()

    async def run_batched(self, manual: faust.Stream[bytes], queue: Any,
                          emitted: dict[str, Any], actions: ActionFeed) -> None:
        """Greedy polls through :meth:`step_batch`: each event read joins the poll, and the
        poll runs as soon as the stream's queue holds no further event delivered (or it has
        ``worker_batch`` messages). Nothing waits for more: a lone message runs at once, and
        a busy stream runs in polls of what the fetcher has delivered. (Faust's
        ``noack_take`` was measured here first: it left the worker idle ~40 % of the time.)

        Events held for the poll are never left waiting on an empty queue: a revocation
        clears the queue (``flow_control.clear``) and then waits for every event read to be
        acked, so a callback armed while events are held runs the poll as soon as it finds
        the queue empty, before the stream blocks for the next event."""
        assert self.sink is not None
        size, out = self.settings.worker_batch, self.sink
        polled: list[tuple[Any, Any]] = []
        loop = asyncio.get_running_loop()
        armed = False

        def run_poll() -> None:
            if polled:
                self.step_batch(list(polled), emitted)
                polled.clear()

        def held() -> None:  # each loop turn while events are held
            nonlocal armed
            armed = bool(polled) and not queue.empty()
            if not armed:
                run_poll()
            else:
                loop.call_soon(held)

        async for event in manual.events():
            polled.append((event.message, event.ack))
            if len(polled) < size and queue.empty():
                await delivered(queue, size - len(polled))
            if len(polled) >= size or queue.empty():
                run_poll()
                await self.after_step(out, actions)
            elif not armed:
                armed = True
                loop.call_soon(held)

    async def after_step(self, out: Sink, actions: ActionFeed) -> None:
        out.poll()
        actions.drain()
        if len(self.outbox) >= MAX_PENDING:
            await self.outbox.room(MAX_PENDING // 2)

    def step(self, msg: Any, ack: Any, emitted: dict[str, Any]) -> None:
        """One source message: its outputs sent, its ack queued behind them, then the
        checkpoints it makes due and the evictions, each framed now (:meth:`queue_checkpoint`)."""
        assert self.sink is not None
        out = self.sink
        futures = [out.send(o.topic, o.key, o.value) for o in self.handle(msg, emitted)]
        self.outbox.add(futures, ack)
        for comp in self.pipeline.due():
            self.queue_checkpoint(comp)
        self.evict()

    def step_batch(self, polled: Sequence[tuple[Any, Any]], emitted: dict[str, Any]) -> None:
        """A poll's ``(message, ack)`` pairs as :meth:`step` on each, with the pipeline run
        over them at once (:meth:`MetricsHandler.handle_batch`): each message's outputs sent
        in order; the checkpoints any of them made due framed now, after the last (each covers
        the whole poll: sent once every output of the poll is acknowledged); the evictions.

        Acks: as :meth:`step`'s up to the first message that made a checkpoint due; from it on,
        queued behind the checkpoints, so that no message is committed before the checkpoint
        :meth:`step` would have sent before the next one's ack (a new component's first: a
        ``kill -9`` between the two would restart it cold past its first messages)."""
        assert self.sink is not None
        out, pipeline = self.sink, self.pipeline
        due: dict[str, None] = {}
        made: list[int] = []  # per message: checkpoints due so far

        def after() -> None:
            due.update(dict.fromkeys(pipeline.due()))
            made.append(len(due))

        with self.counted(emitted, len(polled)) as outs:
            outs += self.handler.handle_batch([m for m, _ in polled], pipeline.at, after)
        cut = next((i for i, n in enumerate(made) if n), len(polled))
        for i, ((_, ack), mine) in enumerate(zip(polled, outs, strict=True)):
            futures = [out.send(o.topic, o.key, o.value) for o in mine]
            self.outbox.add(futures, ack if i < cut else _nothing)
        common = pipeline.common()  # one round: nothing runs between these checkpoints
        for comp in due:
            self.queue_checkpoint(comp, common)
        if cut < len(polled):
            late = [ack for _, ack in polled[cut:]]
            self.outbox.add((), lambda: [ack() for ack in late])
        self.evict(scan_every=max(1, 1000 // max(1, len(polled))))

    def handle(self, msg: Any, emitted: dict[str, Any]) -> list[Any]:
        """One source message through the handler, counted; the outputs to send."""
        self.pipeline.at(msg.partition, msg.offset)
        with self.counted(emitted, 1) as outs:
            outs.append(self.handler.handle(msg.value, msg.key, msg.topic, msg.partition,
                                            msg.offset))
        return list(outs[0])

    @contextlib.contextmanager
    def counted(self, emitted: dict[str, Any], n: int) -> Iterator[list[list[Any]]]:
        """Times and counts ``n`` messages handled inside: the caller appends each one's
        outputs to the list it is given."""
        handler, telemetry = self.handler, self.telemetry
        samples, dead = handler.counters.samples, dict(handler.counters.dead)
        outs: list[list[Any]] = []
        t0 = time.perf_counter()
        yield outs
        each = (time.perf_counter() - t0) / max(1, n)
        for _ in range(n):
            telemetry.handle_s.observe(each)
        telemetry.messages.inc(n)
        telemetry.polls.inc()
        telemetry.samples.inc(handler.counters.samples - samples)
        for stage, k in handler.counters.dead.items():
            if k != dead.get(stage, 0):
                telemetry.dead.labels(stage).inc(k - dead.get(stage, 0))
        for mine in outs:
            for o in mine:
                emitted[o.topic].inc()

    # -- group membership --------------------------------------------------------------------

    async def on_revoked(self, sender: Any, *_revoked: Any, **_: Any) -> None:
        # Faust has waited for the agent and committed; eager rebalancing revokes everything,
        # the partitions that come back keep their state (see on_rebalance_complete)
        async with self.rebalancing:
            await self.checkpoint_all("partitions revoked")

    async def on_shutdown(self, sender: Any, *_args: Any, **_: Any) -> None:
        async with self.rebalancing:
            await self.checkpoint_all("shutdown")
            if self.restorer is not None:
                loop = asyncio.get_running_loop()
                closing = loop.run_in_executor(self.executor, self.restorer.store.close)
                try:
                    await asyncio.wait_for(closing, WAIT_S)
                except TimeoutError:
                    log.error("shutdown: the checkpoint reader did not close in %g s", WAIT_S)

    async def on_rebalance_complete(self, sender: Any, *_args: Any, **_: Any) -> None:
        # Faust awaits this before it resumes the partitions and seeks them to the committed
        # offsets, so the state is in place before the first message of a new partition.
        assigned = {tp.partition for tp in self.app.consumer.assignment()
                    if tp.topic == self.source}
        loop = asyncio.get_running_loop()
        ck = self.ck_metrics
        async with self.rebalancing:
            try:
                if self.restorer is None:
                    store = await loop.run_in_executor(self.executor, CheckpointStore,
                                                       self.settings)
                    self.restorer = Restorer(self.pipeline, store, self.codec)
                stats = await loop.run_in_executor(self.executor, self.restorer.sync, assigned)
            except BrokerError as exc:
                log.error("cannot restore model state, continuing cold: %s", exc)
                held = set(self.pipeline.positions)
                held |= {m.partition for m in self.pipeline.marks.values()}
                for p in held:
                    self.pipeline.forget_partition(p)
                ck.partitions.set(len(assigned))
                return
        ck.partitions.set(len(assigned))
        ck.restored.inc(stats.restored)
        ck.replayed.inc(stats.replayed)
        ck.dropped.inc(stats.dropped)
        log.info("partitions %s: %d kept, %d states restored, %d messages replayed, %d dropped"
                 ", %d cold after errors", stats.partitions, stats.kept, stats.restored,
                 stats.replayed, stats.dropped, stats.failed)


def _nothing() -> None:
    """An outbox entry's action when there is none (the ack comes later)."""


def create_app(settings: Settings) -> faust.App:
    """A Faust app wired to ``settings`` (a :class:`Worker`'s); nothing connects until it is
    started."""
    return Worker(settings).app


def run_worker(settings: Settings, loglevel: str = "info") -> None:
    """Run a worker until SIGINT/SIGTERM."""
    from streams.topics import check_access, ensure_topics

    ensure_topics(settings)
    check_access(settings, "worker")  # a missing ACL: one line, not Faust retrying for ever
    app = create_app(settings)
    serve(settings.metrics_port, app.forewarn_metrics.registry,  # type: ignore[attr-defined]
          settings.metrics_host)
    worker = faust.Worker(app, loglevel=loglevel, quiet=True)
    # Faust's start-up spinner puts the root logger at DEBUG for good: every aiokafka and Faust
    # debug line would then be formatted, ~5 % of the worker's time.
    worker.spinner = None
    worker.execute_from_commandline()
