"""The worker's checkpoints never cover a message whose outputs the broker has not acknowledged
(#12: the ``kill -9`` fault lost windows at the kill minute).

The worker's real per-message path (:meth:`Worker.step`: handler, outbox, due checkpoints,
eviction) runs here against a recording sink whose deliveries the test completes by hand, so
the moment of a ``kill -9`` can be chosen exactly: at every prefix of acknowledged deliveries,
the latest acknowledged checkpoint of each component is restored into a new pipeline (the
real :class:`Restorer`), the gap is replayed from the committed offset as Faust would
redeliver it, and every risk window of an uninterrupted run must have been delivered before the
kill or after the restart. Before checkpoints were framed when queued (they were framed when
the outbox reached them, covering messages read since) this lost windows.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from schemas.codec import Codec
from streams.runtime.checkpoint import Checkpoint, CheckpointedPipeline, CheckpointPolicy, decode
from streams.runtime.restore import Restorer
from streams.runtime.worker import Worker
from streams.settings import Settings

BASE_MS = 1_767_571_200_000
COMPONENTS = ("wk-8", "wk-9")
N = 60  # messages, each one sample of each component, 20 s apart: a window every 3 messages
codec = Codec()


def batch(i: int) -> bytes:
    samples = [{"component": c, "host": "h1", "ts": BASE_MS + i * 20_000,
                "metrics": {"cpu.util": 0.3 + (i % 7) / 20, "mem.used_pct": 40.0 + i % 5},
                "tags": {}} for c in COMPONENTS]
    return codec.encode("MetricSample", samples[0]), codec.encode("MetricSample", samples[1])


class RecordingSink:
    """Stands where the worker's producer stands: each send is a future the test completes."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bytes, asyncio.Future[None]]] = []

    def send(self, topic: str, key: bytes, value: bytes, partition: int | None = None
             ) -> asyncio.Future[None]:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.sent.append((topic, key, value, fut))
        return fut


class Store:
    """The Restorer's four calls over what the dead worker left behind."""

    def __init__(self, source: str, log: list[bytes], commit: int,
                 checkpoints: dict[str, tuple[Checkpoint, bytes]]) -> None:
        self.source, self.log, self.commit, self.checkpoints = source, log, commit, checkpoints

    def partitions(self) -> int:
        return 1

    def committed(self, partitions: set[int]) -> dict[int, int]:
        return {0: self.commit}

    def latest(self, partition: int, n: int) -> dict[str, tuple[Checkpoint, bytes]]:
        return dict(self.checkpoints)

    def messages(self, partition: int, start: int, end: int) -> list[Any]:
        return [SimpleNamespace(offset=lambda o=o: o, value=lambda v=v: v)
                for o, v in enumerate(self.log) if start <= o < end]


def windows(records: list[tuple[str, bytes, bytes]], topic: str) -> set[tuple[str, int]]:
    out = set()
    for t, _, value in records:
        if t == topic:
            _, r = codec.decode(value)
            out.add((r["component"], r["ts"]))
    return out


def commit_of(worker: Worker) -> int:
    return len(worker.acks)  # type: ignore[attr-defined]


def live_run(tmp_path: Path, every: int = 2, poll: int = 1
             ) -> tuple[Worker, RecordingSink, list[bytes]]:
    """Feed the whole log through the worker with nothing acknowledged yet: message by
    message (:meth:`Worker.step`), or ``poll`` messages at a time (:meth:`Worker.step_batch`,
    the batch path)."""
    worker = Worker(Settings(data_dir=str(tmp_path)))
    worker.pipeline.policy = CheckpointPolicy(every_messages=every, every_event_s=10**6,
                                              max_replay=10**6)
    sink = RecordingSink()
    worker.sink = sink  # type: ignore[assignment]
    emitted = {t: SimpleNamespace(inc=lambda: None) for t in worker.outputs}
    log = [v for i in range(N) for v in batch(i)]
    acks: list[int] = []
    polled = [(SimpleNamespace(topic=worker.source, partition=0, offset=off, key=b"k",
                               value=value), lambda off=off: acks.append(off))
              for off, value in enumerate(log)]
    for i in range(0, len(polled), poll):
        if poll == 1:
            worker.step(*polled[i], emitted)
        else:
            worker.step_batch(polled[i:i + poll], emitted)
    worker.acks = acks  # type: ignore[attr-defined]
    return worker, sink, log


@pytest.mark.parametrize("poll", [1, 5])
@pytest.mark.parametrize("every", [2, 10**6])
def test_no_checkpoint_covers_an_unacknowledged_output(tmp_path: Path, every: int,
                                                       poll: int) -> None:
    """``every`` 10**6: no periodic checkpoint at all, only each component's first one (a
    ``kill -9`` before the periodic one lost the component's open window before it). ``poll``
    5: the worker's batch path, checkpoints framed after each poll."""
    async def scenario() -> None:
        worker, sink, log = live_run(tmp_path, every, poll)
        risk, cks = worker.settings.topic("risk"), worker.checkpoints
        want = windows([(t, k, v) for t, k, v, _ in sink.sent], risk)  # uninterrupted
        assert len(want) > 30
        kills = 0
        while not all(f.done() for *_, f in sink.sent):
            # the worst order a cluster may take: each checkpoint is acknowledged as soon as
            # it is sent (its partition's leader is quick), the outputs one by one, in order
            for t, _, _, f in sink.sent:
                if t == cks and not f.done():
                    f.set_result(None)
            await pump()
            kills += kill_and_restart(worker, sink, log, want)
            left = [f for *_, f in sink.sent if not f.done()]
            if left:
                left[0].set_result(None)
                await pump()
        assert kills >= 40 // poll and len(worker.acks) == len(log)  # 51 moments here (2)

    asyncio.run(scenario())


async def pump() -> None:
    for _ in range(3):
        await asyncio.sleep(0)  # the outbox acks and sends what it queued


def kill_and_restart(worker: Worker, sink: RecordingSink, log: list[bytes],
                     want: set[tuple[str, int]]) -> int:
    """``kill -9`` now: the broker keeps what it acknowledged, the group's committed offset is
    the last acked message's; a new owner restores and Faust redelivers from that offset.
    Asserts that no window is lost; 0 when no kill was tried (no checkpoint yet)."""
    risk, cks = worker.settings.topic("risk"), worker.checkpoints
    acked = [(t, k, v) for t, k, v, f in sink.sent if f.done()]
    latest = {k.decode(): (decode(v), v) for t, k, v in acked if t == cks}
    if not latest:  # nothing acknowledged: the new owner starts cold at the committed offset
        assert commit_of(worker) == 0
        return 0
    commit = len(worker.acks)
    new = CheckpointedPipeline(worker.pipeline.config, worker.source)
    Restorer(new, Store(worker.source, log, commit, latest), codec).sync({0})
    after = []
    for off in range(commit, len(log)):
        new.at(0, off)
        _, rec = codec.decode(log[off])
        after += new.ingest(rec).risk
    got = windows(acked, risk) | {(r["component"], r["ts"]) for r in after}
    lost = want - got
    assert not lost, f"kill after {len(acked)} deliveries: windows lost {sorted(lost)}"
    return 1


def polling_worker(tmp_path: Path) -> tuple[Worker, list[list[int]]]:
    """A worker whose polls are recorded (offsets), not processed."""
    worker = Worker(Settings(data_dir=str(tmp_path), worker_batch=64))
    worker.sink = RecordingSink()  # type: ignore[assignment]
    polls: list[list[int]] = []

    def step_batch(polled: list[tuple[Any, Any]], emitted: Any) -> None:
        polls.append([m.offset for m, _ in polled])

    async def after_step(*_: Any) -> None:
        await asyncio.sleep(0)

    worker.step_batch = step_batch  # type: ignore[method-assign]
    worker.after_step = after_step  # type: ignore[method-assign]
    return worker, polls


def stream_of(queue: asyncio.Queue[Any]) -> Any:
    """Faust's stream over ``queue`` as the worker sees it: ``events()``, None ends it."""
    async def events() -> Any:
        while True:
            await asyncio.sleep(0)  # as Faust's stream, before each read
            event = await queue.get()
            if event is None:
                return
            yield event
    return SimpleNamespace(events=events)


def test_polls_wait_loop_turns_for_a_trickling_fetcher(tmp_path: Path) -> None:
    """Faust's fetcher hands over one message every ~3 loop turns: a poll takes what it
    delivers while it keeps delivering (measured in the worker: every poll was one message
    before, since the queue was always empty right after each read)."""
    worker, polls = polling_worker(tmp_path)

    async def scenario() -> None:
        queue: asyncio.Queue[Any] = asyncio.Queue()

        async def fetcher() -> None:
            for off in range(200):
                queue.put_nowait(SimpleNamespace(message=SimpleNamespace(offset=off),
                                                 ack=lambda: None))
                for _ in range(3):
                    await asyncio.sleep(0)
            for _ in range(50):  # idle: the last poll runs without another message
                await asyncio.sleep(0)
            queue.put_nowait(None)

        feed = asyncio.ensure_future(fetcher())
        await worker.run_batched(stream_of(queue), queue, {}, None)  # type: ignore[arg-type]
        await feed

    asyncio.run(scenario())
    assert [o for p in polls for o in p] == list(range(200))
    assert len(polls) <= 5, [len(p) for p in polls]  # polls of 64, not of 1


def test_greedy_polls_take_what_was_delivered_and_hold_nothing_back(tmp_path: Path) -> None:
    """:meth:`Worker.run_batched`: a poll runs once the stream's queue is empty (or at
    ``worker_batch``), so a backlog runs in full polls and a lone message at once."""
    worker, polls = polling_worker(tmp_path)

    async def scenario() -> None:
        queue: asyncio.Queue[Any] = asyncio.Queue()
        events = stream_of(queue).events

        def deliver(*offsets: int) -> None:
            for off in offsets:
                queue.put_nowait(SimpleNamespace(message=SimpleNamespace(offset=off),
                                                 ack=lambda: None))

        async def settle() -> None:
            for _ in range(1000):
                await asyncio.sleep(0)

        deliver(*range(150))  # a backlog
        task = asyncio.ensure_future(worker.run_batched(
            SimpleNamespace(events=events), queue, {}, None))  # type: ignore[arg-type]
        await settle()
        assert polls == [list(range(64)), list(range(64, 128)), list(range(128, 150))]
        deliver(150)  # a lone message: run at once, not held for company
        await settle()
        assert polls[-1] == [150]
        # a revocation clears the queue while events are held for the poll (Faust then waits
        # for them to be acked): they run without another event coming
        deliver(*range(151, 161))
        while queue.qsize() > 8:  # the stream has read one or two
            await asyncio.sleep(0)
        while not queue.empty():
            queue.get_nowait()
        await settle()
        assert polls[-1] in ([151], [151, 152])
        queue.put_nowait(None)
        await task

    asyncio.run(scenario())
