"""The actuator's engine state across restarts: restored only where it fits, saved before each
commit (the file format and its rules: ``streams/runtime/enginestate.py``, ``docs/state.md``).

The state is bound to the cluster id, the backend, the owned hosts and the actuator group, and
covers the offsets of ``forewarn.risk`` and ``forewarn.health`` it was saved with. A state
that does not fit (another cluster, a recreated topic, a group that committed past it, the old
unbound ``.json``) is kept aside (``.stale``, ``.unbound``, ``.unreadable``) with a warning and
never applied silently.
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, TopicPartition

from actuators.engine import AllocationEngine
from schemas.errors import ContractError
from streams.runtime.enginestate import EngineStateStore, read, stale_reasons
from streams.runtime.retry import retrying
from streams.telemetry import ActuatorMetrics

log = logging.getLogger(__name__)

def partition_of(key: str) -> TopicPartition:
    """``topic[p]`` → its TopicPartition.

    >>> tp = partition_of("forewarn.risk[2]"); (tp.topic, tp.partition)
    ('forewarn.risk', 2)
    """
    m = re.fullmatch(r"(.+)\[(\d+)\]", key)
    if m is None:
        raise ContractError(f"engine state: {key!r} is not topic[partition]")
    return TopicPartition(m.group(1), int(m.group(2)))


class StateKeeper:
    """Restores and saves one actuator's engine state (``path``; None: kept in memory only).

    ``binding`` says what a state is valid for (besides the offsets it covers) and ``tps`` are
    the partitions whose offsets it covers; ``consumer`` is the actuator's group consumer."""

    def __init__(self, path: Path | None, engine: AllocationEngine, consumer: Consumer,
                 metrics: ActuatorMetrics) -> None:
        self.path = path
        self.engine = engine
        self.consumer = consumer
        self.metrics = metrics
        self.refused: list[str] = []  # why a saved state was not applied, if it was not
        self.store: EngineStateStore | None = None
        self.offsets: dict[str, int] = {}  # topic[p] -> the next offset the state covers
        self.changed, self.saved_at = False, time.monotonic()

    def restore(self, binding: dict[str, Any], tps: list[TopicPartition]) -> None:
        """Apply the saved engine state if it fits this cluster; else keep it aside, warn and
        start fresh (stale state is never applied silently)."""
        if self.path is None:
            return
        self.store = EngineStateStore(self.path, binding)
        # the state covers each partition from what the group had committed when it began
        self.offsets = {k: v or 0 for k, v in self.committed(tps).items()}
        old_json = self.path.with_suffix(".json")
        if old_json.exists():  # format of before: no binding, so nothing says it is current
            self._refuse(old_json, ["a JSON engine state from before states were bound to a "
                                    "cluster and offsets"], ".unbound")
        if not self.path.exists():
            return
        try:
            loaded = read(self.path)
            snapshot = loaded.snapshot()
            saved = [partition_of(key) for key in loaded.offsets]
        except (OSError, ValueError, KeyError, TypeError, ContractError) as exc:
            self._refuse(self.path, [f"unreadable ({exc})"], ".unreadable")
            return
        reasons = stale_reasons(loaded, binding, self.committed(saved), self._ends(saved))
        if reasons:
            self._refuse(self.path, reasons, ".stale")
            return
        try:
            self.engine.restore(snapshot)
        except (ValueError, KeyError, TypeError, ContractError) as exc:
            self._refuse(self.path, [f"does not fit this engine ({exc})"], ".unreadable")
            return
        for key, offset in loaded.offsets.items():
            self.offsets[key] = max(offset, self.offsets.get(key, 0))
        self.store.compact(self.engine, self.offsets)
        log.info("engine state restored from %s: %d leases, offsets %s", self.path,
                 len(self.engine.leases()), loaded.offsets)

    def _ends(self, tps: list[TopicPartition]) -> dict[str, int]:
        """Each partition's high watermark, asked of the broker (not a cached one)."""
        ask = self.consumer.get_watermark_offsets
        return {f"{tp.topic}[{tp.partition}]":
                retrying(functools.partial(ask, tp, timeout=10, cached=False))[1] for tp in tps}

    def committed(self, tps: list[TopicPartition]) -> dict[str, int | None]:
        """The group's committed offset of each partition (None: nothing committed). A group
        coordinator that is loading or moving (Apache Kafka, after a broker restart or a new
        group) answers NOT_COORDINATOR for a while: asked again for up to 30 s."""
        found = retrying(lambda: self.consumer.committed(tps, timeout=10)) if tps else []
        return {f"{tp.topic}[{tp.partition}]": tp.offset if tp.offset >= 0 else None
                for tp in found}

    def _refuse(self, path: Path, reasons: list[str], suffix: str) -> None:
        kept = path.with_suffix(path.suffix + suffix)
        path.replace(kept)
        self.refused = reasons
        self.metrics.state_refused.set(1)
        log.warning("engine state %s NOT applied: %s. Starting with no leases: allocations the "
                    "backend still holds from it are not tracked. Kept as %s", path,
                    "; ".join(reasons), kept)

    def touch(self, components: Iterable[str]) -> None:
        """These components' parts changed: they go with the next save."""
        self.changed = True
        if self.store is not None:
            self.store.touch(components)

    def save(self, parts: bool = True) -> None:
        """Append the offsets about to be committed and (with ``parts``) the parts of the
        engine's state that changed; bounded by what changed, not by the fleet."""
        if self.store is None:
            return
        for tp in self.consumer.position(self.consumer.assignment()):
            key = f"{tp.topic}[{tp.partition}]"
            if tp.offset > self.offsets.get(key, 0):
                self.offsets[key] = tp.offset
        self.metrics.state_bytes.inc(self.store.save(self.engine, self.offsets, parts))
        if parts:
            self.changed, self.saved_at = False, time.monotonic()

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
