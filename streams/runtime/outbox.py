"""The worker's way out: the :class:`Sink` (one confluent-kafka producer, its deliveries as
futures on the event loop), the :class:`Outbox` that acks a source message only once every
output of it and of every message before it is acknowledged (at-least-once, in order), and the
checkpoint counters."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaError, Message, Producer
from prometheus_client import CollectorRegistry, Counter, Gauge

from schemas.errors import BrokerError
from streams.settings import Settings
from streams.topics import producer_config

log = logging.getLogger(__name__)

MAX_PENDING = 10_000  # messages processed but not yet acked before the agent waits
WAIT_S = 30.0  # at most this long for the broker to acknowledge checkpoints on revoke/shutdown


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

    def in_flight(self) -> list[asyncio.Future[Any]]:
        """The output futures of queued entries not yet done (what a checkpoint of the state
        as it is now would cover before its outputs are acknowledged)."""
        return [f for futures, _ in self._q for f in futures if not f.done()]

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
