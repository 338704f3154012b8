"""The checkpoint envelope on ``forewarn.checkpoints`` (moved out of
:mod:`streams.runtime.checkpoint`, which says when checkpoints are written and restored, and
re-exports these names).

Wire format, version 1. Key: the component id (UTF-8). Value::

    bytes 0-3   magic b"FWCP"
    byte  4     format version (1)
    bytes 5-8   H, the header's length (unsigned, big-endian)
    H bytes     header: a UTF-8 JSON object
    the rest    blob: ``Pipeline.snapshot(component)``, opaque here: the explicit, versioned
                state format of ``processors/stateformat.py`` (data, never code: a forged
                or pickled blob is refused and the component starts cold; docs/state.md)

Header fields (readers ignore fields they do not know; new fields are only ever added, and the
version changes only when the layout or a field's meaning does):

    component     str       the component id (equals the key)
    topic         str       source topic, full name (``forewarn.metrics``)
    partition     int       source partition
    offset        int       the next source offset to read: the state holds every message of
                            ``topic[partition]`` below it and none at or above it
    watermark_ms  int|null  the component's event-time watermark (largest ``ts`` seen)
    state_key     object    ``PipelineConfig.state_key()``: the parameters the blob is valid under
    blob_crc32    int       CRC-32 of the blob
    written_ms    int       wall-clock time of writing (information only)

A component's checkpoint goes to checkpoint partition ``source partition % partitions``, so a
worker restoring source partition p reads one partition; compaction keeps the latest per key.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from schemas.errors import ContractError

__all__ = ["MAGIC", "VERSION", "Checkpoint", "decode", "normal_key"]

MAGIC = b"FWCP"
VERSION = 1
_PREFIX = struct.Struct(">4sBI")  # magic, version, header length


@dataclass(frozen=True)
class Checkpoint:
    """One component's state and the source position it covers."""

    component: str
    topic: str
    partition: int
    offset: int
    watermark_ms: int | None
    state_key: Mapping[str, Any]
    blob: bytes
    written_ms: int = 0

    def encode(self) -> bytes:
        header = orjson.dumps(
            {
                "component": self.component,
                "topic": self.topic,
                "partition": self.partition,
                "offset": self.offset,
                "watermark_ms": self.watermark_ms,
                "state_key": dict(self.state_key),
                "blob_crc32": zlib.crc32(self.blob),
                "written_ms": self.written_ms,
            }
        )
        return _PREFIX.pack(MAGIC, VERSION, len(header)) + header + self.blob


def decode(value: bytes, where: str = "") -> Checkpoint:
    """The checkpoint in ``value``; ContractError (saying ``where``) if it is not one."""
    at = f"checkpoint {where}: " if where else "checkpoint: "
    if len(value) < _PREFIX.size:
        raise ContractError(f"{at}truncated ({len(value)} bytes)")
    magic, version, size = _PREFIX.unpack_from(value)
    if magic != MAGIC:
        raise ContractError(f"{at}not a forewarn checkpoint (magic {magic!r})")
    if version > VERSION:
        raise ContractError(f"{at}format version {version} is newer than this reader's {VERSION}")
    end = _PREFIX.size + size
    try:
        h = orjson.loads(value[_PREFIX.size : end])
        blob = value[end:]
        ck = Checkpoint(
            component=str(h["component"]),
            topic=str(h["topic"]),
            partition=int(h["partition"]),
            offset=int(h["offset"]),
            watermark_ms=None if h["watermark_ms"] is None else int(h["watermark_ms"]),
            state_key=dict(h["state_key"]),
            blob=blob,
            written_ms=int(h.get("written_ms", 0)),
        )
        crc = int(h["blob_crc32"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ContractError(f"{at}unreadable header: {exc!r}") from exc
    if zlib.crc32(blob) != crc:
        raise ContractError(f"{at}blob CRC mismatch (truncated or corrupt)")
    return ck


def normal_key(key: Mapping[str, Any]) -> dict[str, Any]:
    """A state key as it reads back from JSON (tuples become lists), for comparing."""
    return dict(orjson.loads(orjson.dumps(dict(key))))
