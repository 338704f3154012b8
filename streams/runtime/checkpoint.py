"""Model-state checkpoints on ``forewarn.checkpoints``: what is written, when, and how a worker
that is given a partition resumes from them.

The wire format (``FWCP``, a JSON header, the blob) is :mod:`streams.runtime.ckwire`'s.

When (:class:`CheckpointPolicy`): after ``every_messages`` messages of a component, or once its
event time has moved ``every_event_s`` since its last checkpoint; for every component whose
checkpoint is behind its partition's position on revocation and on shutdown; and when a
partition has moved ``max_replay`` messages past a component's last checkpoint (a silent
component's state is re-sent with a newer offset, so it never forces a long replay). A checkpoint
covering offset X is produced only after every output of the messages below X is acknowledged
by the broker (the worker's in-order outbox), so restoring it never loses an output.

Restore (:class:`Restorer`, run from Faust's ``on_rebalance_complete``, which Faust awaits before
it resumes the partitions and seeks them to the group's committed offsets). For each assigned
partition p, with G its committed offset (the partition's start when nothing is committed):

* a worker that holds p's state at position G (it kept the partition) does nothing;
* otherwise it drops what it holds of p, restores every component's latest checkpoint valid
  under its own state key, and replays the gap: messages from the lowest covered offset up to
  G are fed again to the pipeline, each only to the components whose checkpoint does not
  already hold it, and their outputs are discarded (they were emitted when those messages
  were first processed). From G on, Faust delivers and outputs are sent as usual;
* a checkpoint covering beyond G (its writer died before committing) makes that component skip
  the redelivered messages below its offset: its state holds them and their outputs were
  acknowledged before the checkpoint was written.

Outputs are therefore at-least-once (after a crash, those between G and the crash are sent
again) and each message is folded into a component's state once, so what a component's own state
decides (windows, anomaly, forecasts, breach, ``samples_seen``, warm) comes out exactly as in
one uninterrupted run. The risk value also hangs on the pipeline's fleet-wide learner, of which
each snapshot carries a copy; a worker keeps the most experienced copy it has seen. Components
with no checkpoint start cold (or from the replayed part); the state of partitions no longer
assigned is dropped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from processors.batch.pipeline import Admitted, BatchPipeline
from processors.componentstate import shared, shared_snapshot
from processors.pipeline import Output, PipelineConfig
from processors.statewrite import Shared
from schemas.errors import ConfigError, ContractError
from streams.runtime.ckwire import MAGIC, VERSION, Checkpoint, decode, normal_key
from streams.settings import Settings

log = logging.getLogger(__name__)

__all__ = ["MAGIC", "VERSION", "Checkpoint", "CheckpointPolicy", "CheckpointedPipeline",
           "Evicted", "Mark", "limits", "decode", "normal_key"]

# Defaults until Settings carries checkpoint_every_messages / _every_s / _max_replay.
EVERY_MESSAGES = 500
EVERY_EVENT_S = 900
MAX_REPLAY = 10_000
# evicted components' last checkpoints kept in memory (~8 KB each, against ~62 KB of live
# state), so that one seen again is restored, not cold (#12, #14); the oldest go past this
# (Settings.park_mb: 1 GiB holds ~130,000, docs/state.md "Two tiers")
PARK_BYTES = 1 << 30
# an evicted component, why (cap, idle) and its checkpoint (source partition, value) or None
Evicted = tuple[str, str, tuple[int, bytes] | None]


def limits(settings: Settings) -> dict[str, int]:
    """The worker's bounds on the state it holds (:class:`CheckpointedPipeline` keywords)."""
    return {"max_components": settings.max_components, "evict_idle_s": settings.evict_idle_s,
            "park_bytes": settings.park_mb << 20}


@dataclass(frozen=True)
class CheckpointPolicy:
    every_messages: int = EVERY_MESSAGES
    every_event_s: int = EVERY_EVENT_S
    max_replay: int = MAX_REPLAY

    @classmethod
    def from_settings(cls, settings: Settings) -> CheckpointPolicy:
        return cls(
            int(getattr(settings, "checkpoint_every_messages", EVERY_MESSAGES)),
            int(getattr(settings, "checkpoint_every_s", EVERY_EVENT_S)),
            int(getattr(settings, "checkpoint_max_replay", MAX_REPLAY)),
        )


@dataclass(slots=True)
class Mark:
    """What the worker knows of one component's state besides the state itself."""

    partition: int
    covered: int  # offset its last checkpoint covers (where its state began, before one)
    watermark_ms: int | None = None
    since_ms: int | None = None  # watermark at its last checkpoint
    messages: int = 0  # messages since its last checkpoint
    dirty: bool = False  # changed since its last checkpoint
    seq: int = -1  # the last message counted
    value: bytes | None = None  # its last checkpoint as written, while unchanged (re-sent
    # with a newer offset); b"" once changed since, None before its first


class CheckpointedPipeline(BatchPipeline):
    """A :class:`Pipeline` that tracks, per component, the partition, watermark and checkpoint
    position, and skips the messages a restored state already holds.

    Call :meth:`at` with each message's position before feeding its samples, one by one
    (:meth:`ingest`) or a poll at a time (:meth:`admit` each, then :meth:`judge_each`).
    """

    def __init__(
        self, config: PipelineConfig, source_topic: str, policy: CheckpointPolicy | None = None,
        max_components: int = 0, evict_idle_s: int = 0, park_bytes: int = PARK_BYTES,
    ) -> None:
        super().__init__(config)
        self.source_topic = source_topic
        self.policy = policy or CheckpointPolicy()
        # a flood of unknown component ids must not grow memory without bound (see evictable)
        self.max_components = max_components
        self.evict_idle_ms = evict_idle_s * 1000
        self.newest_ms: int | None = None  # the newest accepted event time of any component
        self._idle_scan = 0
        self.state_key = normal_key(config.state_key())
        self.marks: dict[str, Mark] = {}
        self.positions: dict[int, int] = {}  # partition -> next offset
        self.skip_below: dict[str, int] = {}  # component -> offset its restored state covers
        self.touched: list[str] = []  # components of the current message
        self.unsaveable = 0  # snapshots refused (a model state with no explicit format)
        self._partition, self._offset, self._seq = -1, -1, 0
        self._refreshed: dict[int, int] = {}  # partition -> offset of the last stale scan
        # evicted components: their last checkpoint (framed), oldest first, and its partition
        self.parked: dict[str, tuple[int, bytes]] = {}
        self.park_bytes = park_bytes
        self.parked_size = 0
        self.unparked = 0  # evicted components seen again and restored from their checkpoint
        self.unpark_failed = 0  # ... that could not be (started cold), or dropped from the park

    def at(self, partition: int, offset: int) -> None:
        self._partition, self._offset = partition, offset
        self._seq += 1
        self.positions[partition] = offset + 1
        self.touched = []

    def ingest(self, sample: Mapping[str, Any]) -> Output:
        comp = self.enter(sample)
        if comp is None:
            return Output()  # the restored state already holds this message
        out = super().ingest(sample)
        if comp:
            self.mark(comp, sample.get("ts"), bool(out.rejected))
        return out

    def admit(self, sample: Mapping[str, Any]) -> Admitted | Output:
        comp = self.enter(sample)
        if comp is None:
            return Output()
        got = super().admit(sample)
        if comp:
            self.mark(comp, sample.get("ts"), isinstance(got, Output) and bool(got.rejected))
        return got

    def enter(self, sample: Mapping[str, Any]) -> str | None:
        """Before a sample: its component ('' if it has none), or None when the restored
        state already holds its message (skip it). An evicted component seen again is
        restored from its parked checkpoint here."""
        comp = (sample.get("component")  # a dict without the ABC's isinstance (#14 s18)
                if type(sample) is dict or isinstance(sample, Mapping) else None)
        if not isinstance(comp, str) or not comp:
            return ""
        if self.skip_below and self._offset < self.skip_below.get(comp, -1):
            return None
        if self.parked and comp in self.parked:
            self._unpark(comp)  # evicted, now seen again: its state back, not cold
        return comp

    def mark(self, comp: str, ts: object, rejected: bool) -> None:
        """After a sample of ``comp`` stamped ``ts``: its partition, watermark and count."""
        m = self.marks.get(comp)
        if m is None:
            m = self.marks[comp] = Mark(self._partition, covered=self._offset)
        elif self.max_components:  # least recently seen first, for evictable()
            self.marks[comp] = self.marks.pop(comp)
        m.partition = self._partition
        if type(ts) is int and not rejected:  # a refused stamp moves no watermark
            if m.watermark_ms is None or ts > m.watermark_ms:
                m.watermark_ms = ts
            if self.newest_ms is None or ts > self.newest_ms:
                self.newest_ms = ts
        if m.since_ms is None:
            m.since_ms = m.watermark_ms
        m.dirty = True
        if m.value:  # stale now: the next checkpoint snapshots anew; b"" still says one was
            m.value = b""  # written (due() checkpoints a new one at once); ~8 KB a component
        if m.seq != self._seq:
            m.seq = self._seq
            m.messages += 1
            self.touched.append(comp)

    def due(self) -> list[str]:
        """Components to checkpoint after the current message: new ones (a ``kill -9`` before
        a periodic checkpoint then loses nothing) and those past ``every_*`` since their last."""
        p = self.policy
        out = []
        for comp in self.touched:
            m = self.marks[comp]
            if m.value is None or m.messages >= p.every_messages or (
                m.watermark_ms is not None
                and m.since_ms is not None
                and m.watermark_ms - m.since_ms >= p.every_event_s * 1000
            ):
                out.append(comp)
        part, off = self._partition, self._offset
        if off - self._refreshed.get(part, -1) >= max(1, p.max_replay // 4):
            self._refreshed[part] = off
            out += [c for c in self.behind(p.max_replay, part) if c not in out]
        return out

    def evictable(self, scan_every: int = 1000) -> list[tuple[str, str]]:
        """``(component, reason)`` to checkpoint and evict now: the least recently seen while
        more than ``max_components`` are held (``cap``), and, every ``scan_every`` messages,
        those whose event time is ``evict_idle_s`` behind the newest (``idle``). The caller
        checkpoints each one's state, calls :meth:`forget`, then :meth:`park` with the
        checkpoint: a component seen again after its eviction is restored from it (cold only
        once more than ``park_bytes`` of parked checkpoints came after it)."""
        out: list[tuple[str, str]] = []
        if self.max_components and len(self.marks) > self.max_components:
            extra = len(self.marks) - self.max_components
            out += [(c, "cap") for c in list(self.marks)[:extra]]
        self._idle_scan += 1
        if self.evict_idle_ms and self.newest_ms is not None and self._idle_scan >= scan_every:
            self._idle_scan = 0
            limit, chosen = self.newest_ms - self.evict_idle_ms, {c for c, _ in out}
            out += [(c, "idle") for c, m in self.marks.items()
                    if c not in chosen and m.watermark_ms is not None and m.watermark_ms < limit]
        return out

    def evict_parked(self, scan_every: int = 1000) -> list[Evicted]:
        """Checkpoint, drop and :meth:`park` each component :meth:`evictable` names:
        ``(component, reason, (source partition, checkpoint) or None)`` for each, the
        checkpoint for the caller to send (None: it had no state to save)."""
        out: list[Evicted] = []
        for comp, why in self.evictable(scan_every):
            partition = self.marks[comp].partition
            got = self.checkpoint(comp)
            self.forget(comp)
            if got is not None:  # restored from this if it is seen again (not cold)
                self.park(comp, partition, got[1])
            out.append((comp, why, got))
        return out

    def behind(self, lag: int = 0, partition: int | None = None) -> list[str]:
        """Components whose checkpoint is more than ``lag`` messages behind their partition."""
        pos = self.positions
        return [
            c
            for c, m in self.marks.items()
            if (partition is None or m.partition == partition)
            and pos.get(m.partition, m.covered) - m.covered > lag
        ]

    def checkpoint(self, component: str, now_ms: int | None = None,
                   common: tuple[Shared, Shared] | None = None) -> tuple[int, bytes] | None:
        """``(source partition, value)`` of the component's checkpoint now, or None when it has
        no state; the component then counts as checkpointed. (``common``: see
        :meth:`checkpoints`.)"""
        m = self.marks.get(component)
        if m is None:
            return None
        pos = self.positions.get(m.partition, m.covered)
        if m.dirty or m.value is None:
            try:
                blob = (self.snapshot(component) if common is None
                        else shared_snapshot(component, self._states[component], common))
            except KeyError:  # samples that never made a state (all invalid)
                del self.marks[component]
                return None
            except ContractError as exc:  # state with no explicit format (snarimax)
                if not self.unsaveable:
                    log.warning("component %r cannot be checkpointed: %s", component, exc)
                self.unsaveable += 1
                del self.marks[component]
                return None
            written = int(time.time() * 1000) if now_ms is None else now_ms
            ck = Checkpoint(component, self.source_topic, m.partition, pos, m.watermark_ms,
                            self.state_key, blob, written)
        else:  # unchanged: the same state now covers more of its partition
            ck = replace(decode(m.value), offset=pos)
        m.value = ck.encode()
        m.covered, m.messages, m.since_ms, m.dirty = pos, 0, m.watermark_ms, False
        return m.partition, m.value

    def checkpoints(self, components: Iterable[str], now_ms: int | None = None
                    ) -> list[tuple[int, bytes] | None]:
        """:meth:`checkpoint` of each component in order, the same bytes, the pipeline's key
        and fleet model packed once for all (s31: nothing changes them in between)."""
        common = self.common()
        return [self.checkpoint(c, now_ms, common) for c in components]

    def common(self) -> tuple[Shared, Shared]:
        """What every snapshot holds the same of, for a round of :meth:`checkpoint` calls with
        nothing run between them (a sample may change the fleet's model): the key and the
        fleet's model, each packed once a round (s31)."""
        return shared(self.config.state_key(), self.fleet)

    def restore_checkpoint(self, ck: Checkpoint, value: bytes) -> bool:
        """Restore one checkpoint; False (logged) when it cannot be used here."""
        if normal_key(ck.state_key) != self.state_key:
            log.warning("checkpoint of %r was made under %s, this worker runs %s: starting cold",
                        ck.component, dict(ck.state_key), self.state_key)
            return False
        try:
            self.restore(ck.component, ck.blob)
        except (ContractError, ConfigError) as exc:
            log.warning("%s: starting cold", exc)
            return False
        self.marks[ck.component] = Mark(ck.partition, ck.offset, ck.watermark_ms,
                                        ck.watermark_ms, value=value)
        self.skip_below[ck.component] = ck.offset
        self._unpark_value(ck.component)  # the checkpoint read supersedes one parked here
        return True

    def forget_partition(self, partition: int) -> int:
        """Drop the state of every component of ``partition``; how many."""
        gone = [c for c, m in self.marks.items() if m.partition == partition]
        for comp in gone:
            self.forget(comp)
        for comp in [c for c, (p, _) in self.parked.items() if p == partition]:
            self._unpark_value(comp)  # a new owner restores it from the topic
        self.positions.pop(partition, None)
        self._refreshed.pop(partition, None)
        return len(gone)

    def forget(self, component: str) -> None:
        self.marks.pop(component, None)
        self.skip_below.pop(component, None)
        self.drop(component)

    def park(self, component: str, partition: int, value: bytes) -> None:
        """Keep an evicted component's checkpoint ``value`` (as :meth:`checkpoint` framed it,
        its source ``partition``): if the component is seen again here, :meth:`ingest` restores
        it from this. Past ``park_bytes`` the oldest parked are let go (they start cold)."""
        self._unpark_value(component)
        self.parked[component] = (partition, value)
        self.parked_size += len(value)
        while self.parked_size > self.park_bytes and self.parked:
            oldest = next(iter(self.parked))
            self._unpark_value(oldest)
            self.unpark_failed += 1

    def _unpark_value(self, component: str) -> bytes | None:
        got = self.parked.pop(component, None)
        if got is None:
            return None
        self.parked_size -= len(got[1])
        return got[1]

    def _unpark(self, component: str) -> None:
        """Restore a parked component from its eviction checkpoint (cold if it cannot be):
        the state and mark it had when evicted, so its next checkpoint and a new owner's
        replay from that checkpoint's offset stay as for a component never evicted."""
        value = self._unpark_value(component)
        if value is None:
            return
        try:
            ck = decode(value, f"parked {component!r}")
            self.restore(component, ck.blob)
        except (ContractError, ConfigError) as exc:  # not expected: written by this process
            log.warning("%s: starting cold", exc)
            self.unpark_failed += 1
            return
        self.marks[component] = Mark(ck.partition, ck.offset, ck.watermark_ms, ck.watermark_ms,
                                     value=value)
        self.unparked += 1
