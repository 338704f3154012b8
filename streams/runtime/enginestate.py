"""The actuator's engine state on disk: a log of the parts that changed, bound to its origin.

``<data_dir>/actuator-<group>.state``, format version 1::

    b"FWAS", the version (one byte), then frames: a u32 length and a u32 CRC-32 of the body
    (big-endian), and the body, a msgpack map:

    {"t": "binding", "v": {cluster_id, backend, owned, group}}   first; once per file
    {"t": "shared", "v": AllocationEngine.snapshot_shared()}     clock, preferences, ...
    {"t": "admission", "v": snapshot_admission()}                new-component/host windows
    {"t": "part", "c": component, "v": snapshot_component(c)}    None: the engine let it go
    {"t": "commit", "offsets": {"topic[p]": next offset}, "wall_ms": int}

A save appends the parts whose bytes changed and one commit frame; frames after the last
commit frame (a torn write) are ignored on reading. So a save costs what changed, not the
fleet: at 30,000 components the state is tens of MB, and rewriting it before each commit held
risk→outcome latency up to 2.1 s. The file is rewritten whole (compacted, by a temporary file
and a rename) when the actuator starts and when dead frames outgrow the live ones threefold.

What a save writes: every component named by :meth:`EngineStateStore.touch` since the last
(the actuator names those of commands and engine outcomes: leases, cooldowns, learnt
effects), plus a round-robin sweep of ``sweep`` other known components, so a change the
actuator did not see (a component's last risk time, its latest health values: safe to lose)
reaches the file within ``components / sweep`` saves. Compaction copies the live frames as
they are (their places are known), so it costs one copy of the live bytes, not an encoding
of the engine.

Binding: the state is valid only for the cluster, backend and owned hosts it was written
under, and the offsets its last commit frame covers. :func:`stale_reasons` says why a state
does not fit the cluster as found at start (another cluster, topics recreated, the group
committed past the state, another backend); the actuator then refuses it with a warning and
keeps the file aside (never applies it silently).
"""

from __future__ import annotations

import os
import struct
import time
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import msgpack

from schemas.errors import ContractError

MAGIC = b"FWAS"
VERSION = 1
_FRAME = struct.Struct(">II")
MAX_FRAME = 64 << 20
PER_COMPONENT = ("acted", "fails", "values", "levels")


class PartwiseEngine(Protocol):
    def snapshot_shared(self) -> dict[str, Any]: ...
    def snapshot_component(self, component: str) -> dict[str, Any] | None: ...
    def snapshot_admission(self) -> dict[str, Any]: ...
    def state_components(self) -> list[str]: ...


def assemble_snapshot(shared: Mapping[str, Any], parts: Mapping[str, Mapping[str, Any]],
                      admission: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The engine's whole :meth:`~actuators.engine.AllocationEngine.snapshot` from its shared
    part and its components' parts (equal to it: ``tests/unit/test_enginestate.py``)."""
    names = sorted(parts)
    feedback = dict(shared["feedback"])
    for key in PER_COMPONENT:
        feedback[key] = {c: parts[c]["feedback"][key] for c in names
                         if key in parts[c]["feedback"]}
    return {
        "version": shared["version"],
        "clock_ms": shared["clock_ms"],
        "fleet_ms": shared.get("fleet_ms"),
        "leases": [lease for c in names for lease in parts[c]["leases"]],
        "components": {c: parts[c]["state"] for c in names if parts[c]["state"] is not None},
        "preferences": shared["preferences"],
        "outcomes": shared["outcomes"],
        "feedback": feedback,
        "admission": dict(admission) if admission is not None else None,
    }


@dataclass
class Loaded:
    """What a state file holds, up to its last complete save."""

    binding: dict[str, Any]
    offsets: dict[str, int]
    shared: dict[str, Any] | None
    parts: dict[str, dict[str, Any]]
    saved_ms: int | None = None
    admission: dict[str, Any] | None = None  # None: saved before admission was (counted afresh)
    torn_bytes: int = 0  # frames after the last commit (a save cut short), ignored

    def snapshot(self) -> dict[str, Any]:
        if self.shared is None:
            raise ContractError("engine state: no shared part was ever committed")
        return assemble_snapshot(self.shared, self.parts, self.admission)


def stale_reasons(
    loaded: Loaded,
    binding: Mapping[str, Any],
    committed: Mapping[str, int | None],
    ends: Mapping[str, int],
) -> list[str]:
    """Why a saved state does not fit the cluster as found now; ``[]`` if it does.

    ``committed``: the group's committed offset per ``topic[p]`` (None: none), ``ends``: each
    partition's high watermark."""
    out = []
    for key in ("cluster_id", "backend", "owned", "group"):
        was, now = loaded.binding.get(key), binding.get(key)
        if was != now:
            out.append(f"{key} was {was!r}, now {now!r}")
    for tp, offset in sorted(loaded.offsets.items()):
        end, done = ends.get(tp), committed.get(tp)
        if end is not None and end < offset:
            out.append(f"{tp} ends at {end} but the state covers up to {offset} "
                       "(the topic was recreated or the broker lost its log)")
        elif done is None and offset > 0:
            out.append(f"{tp}: the group has no committed offset; the state covers {offset}")
        elif done is not None and done > offset:
            out.append(f"{tp}: the group committed {done}, past the state's {offset} (another "
                       "actuator acted on messages this state does not hold)")
    return out


def _frame(body: Mapping[str, Any]) -> bytes:
    raw: bytes = msgpack.packb(body, use_bin_type=True)
    return _FRAME.pack(len(raw), zlib.crc32(raw)) + raw


def read(path: Path) -> Loaded:
    """The state in ``path`` up to its last commit frame; ContractError if it is not one."""
    data = path.read_bytes()
    if data[:4] != MAGIC or len(data) < 5:
        raise ContractError(f"engine state {path}: not a forewarn engine state file")
    if data[4] != VERSION:
        raise ContractError(f"engine state {path}: format version {data[4]}, this actuator "
                            f"reads {VERSION}")
    pos, committed_at = 5, 5
    loaded = Loaded(binding={}, offsets={}, shared=None, parts={})
    shared: dict[str, Any] | None = None
    admission: dict[str, Any] | None = None
    parts: dict[str, dict[str, Any] | None] = {}
    first = True
    while pos + _FRAME.size <= len(data):
        size, crc = _FRAME.unpack_from(data, pos)
        raw = data[pos + _FRAME.size: pos + _FRAME.size + size]
        if size > MAX_FRAME or len(raw) < size or zlib.crc32(raw) != crc:
            break  # a torn or damaged tail
        pos += _FRAME.size + size
        try:
            body = msgpack.unpackb(raw, raw=False, strict_map_key=False)
        except (ValueError, msgpack.UnpackException) as exc:
            raise ContractError(f"engine state {path}: damaged frame: {exc}") from exc
        kind = body.get("t") if isinstance(body, dict) else None
        if first and kind != "binding":
            raise ContractError(f"engine state {path}: no binding frame")
        first = False
        if kind == "binding" and isinstance(body.get("v"), dict):
            loaded.binding = body["v"]
        elif kind == "shared" and isinstance(body.get("v"), dict):
            shared = body["v"]
        elif kind == "admission" and isinstance(body.get("v"), dict):
            admission = body["v"]
        elif kind == "part" and isinstance(body.get("c"), str):
            parts[body["c"]] = body.get("v")
        elif kind == "commit" and isinstance(body.get("offsets"), dict):
            loaded.offsets = {str(k): int(v) for k, v in body["offsets"].items()}
            loaded.saved_ms = body.get("wall_ms")
            loaded.shared, loaded.admission = shared, admission
            loaded.parts = {c: p for c, p in parts.items() if p is not None}
            committed_at = pos
        else:
            raise ContractError(f"engine state {path}: unknown frame {kind!r}")
    loaded.torn_bytes = len(data) - committed_at
    return loaded


@dataclass
class EngineStateStore:
    """Appends an engine's changed parts to ``path``; see the module doc."""

    path: Path
    binding: dict[str, Any]
    sweep: int = 1000
    _hashes: dict[str, int] = field(default_factory=dict)  # key -> CRC of its latest frame
    _at: dict[str, tuple[int, int]] = field(default_factory=dict)  # key -> (offset, length)
    _touched: set[str] = field(default_factory=set)
    _order: list[str] = field(default_factory=list)  # the sweep's round
    _size: int = 0
    _live: int = 0  # bytes of the latest frame of each key: what a compaction keeps
    _fh: BinaryIO | None = None

    def touch(self, components: Iterable[str]) -> None:
        """These components changed in a way a restart must not lose."""
        self._touched.update(components)

    def compact(self, engine: PartwiseEngine, offsets: Mapping[str, int]) -> None:
        """Write the whole state afresh from the engine (at start: a temporary file, then a
        rename)."""
        frames = {"binding": _frame({"t": "binding", "v": dict(self.binding)}),
                  "shared": _frame({"t": "shared", "v": engine.snapshot_shared()}),
                  "admission": _frame({"t": "admission", "v": engine.snapshot_admission()})}
        for c in engine.state_components():
            part = engine.snapshot_component(c)
            if part is not None:
                frames[f"c:{c}"] = _frame({"t": "part", "c": c, "v": part})
        self._rewrite(frames, offsets)

    def compact_log(self, offsets: Mapping[str, int]) -> None:
        """Rewrite the file with only its live frames, copied as they are (no engine call,
        no encoding: the cost of copying the live bytes once)."""
        self.close()
        data = self.path.read_bytes()
        self._rewrite({k: data[o:o + n] for k, (o, n) in list(self._at.items())}, offsets)

    def _rewrite(self, frames: Mapping[str, bytes], offsets: Mapping[str, int]) -> None:
        self.close()
        self._hashes, self._at, self._live = {}, {}, 0
        pos = len(MAGIC) + 1
        for key, frame in frames.items():
            self._hashes[key] = zlib.crc32(frame)
            self._place(key, (pos, len(frame)))
            pos += len(frame)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            fh.write(MAGIC + bytes([VERSION]))
            fh.write(b"".join(frames.values()))
            fh.write(self._commit(offsets))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        self._size = self.path.stat().st_size
        self._order = []

    @property
    def live_bytes(self) -> int:
        return self._live

    def _place(self, key: str, at: tuple[int, int] | None) -> None:
        old = self._at.pop(key, None) if at is None else self._at.get(key)
        self._live -= old[1] if old is not None else 0
        if at is not None:
            self._at[key] = at
            self._live += at[1]

    def save(self, engine: PartwiseEngine, offsets: Mapping[str, int], parts: bool = True
             ) -> int:
        """Append the parts that changed (with ``parts``; else only the offsets), then a
        commit frame; the bytes written. Compacts when dead frames outgrow live ones."""
        if self._fh is None:
            if not self._at:
                self.compact(engine, offsets)
                self._touched.clear()
                return self._size
            self._fh = self.path.open("ab")
        frames = self._changed_parts(engine) if parts else []
        frames.append(("", self._commit(offsets)))
        pos = self._size
        for key, frame in frames:
            if key:
                self._place(key, (pos, len(frame)))
            pos += len(frame)
        blob = b"".join(frame for _, frame in frames)
        self._fh.write(blob)
        self._fh.flush()
        self._size += len(blob)
        if self._size > max(4 * self.live_bytes, 1 << 20):
            self.compact_log(offsets)
        return len(blob)

    def _changed_parts(self, engine: PartwiseEngine) -> list[tuple[str, bytes]]:
        if not self._order:
            self._order = sorted((k[2:] for k in self._hashes if k.startswith("c:")),
                                 reverse=True)
        sweep = [self._order.pop() for _ in range(min(self.sweep, len(self._order)))]
        frames = []
        for key, value in (("shared", engine.snapshot_shared()),
                           ("admission", engine.snapshot_admission())):
            frame = _frame({"t": key, "v": value})
            if zlib.crc32(frame) != self._hashes.get(key):
                self._hashes[key] = zlib.crc32(frame)
                frames.append((key, frame))
        for c in sorted(self._touched.union(sweep)):
            key = f"c:{c}"
            part = engine.snapshot_component(c)
            if part is None:
                if self._hashes.pop(key, None) is not None:
                    self._place(key, None)
                    frames.append(("", _frame({"t": "part", "c": c, "v": None})))
                continue
            frame = _frame({"t": "part", "c": c, "v": part})
            crc = zlib.crc32(frame)
            if self._hashes.get(key) != crc:
                self._hashes[key] = crc
                frames.append((key, frame))
        self._touched.clear()
        return frames

    @staticmethod
    def _commit(offsets: Mapping[str, int]) -> bytes:
        return _frame({"t": "commit", "offsets": dict(offsets),
                       "wall_ms": int(time.time() * 1000)})

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
