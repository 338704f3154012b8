"""Read and write forewarn events: Avro single-object, Confluent-framed Avro, or JSON.

The wire format belongs to the contract (``schemas/avro/*.avsc``), not to the code layout: no
Python class paths travel in messages.

- ``avro`` (default): Avro single-object encoding — ``C3 01``, the schema's CRC-64-AVRO
  fingerprint (little-endian), then the Avro body. Any reader that holds ``schemas/`` decodes it;
  no registry needed.
- ``confluent``: Confluent framing — ``00``, a 4-byte big-endian schema id, the Avro body —
  through a Schema Registry reached with confluent-kafka's own client (subject
  ``<topic>-value``).
- ``json``: the record as a JSON object (orjson), with ``"_type"`` naming the event.

Decoding sniffs the first byte, so one reader takes every format. Timestamps are plain ``int``
milliseconds on both sides: the readers parse schemas without their logical types (the
fingerprint, taken over the Parsing Canonical Form, is the same either way).

Evolution: a reader knows the current schemas and any older ones in ``avro/history/`` (and its
subfolders, one a version). A record
written with a schema the reader does not know (a newer writer that appended optional fields)
is read with the reader's own schema of the expected type, which decodes the fields it knows
and ignores the appended ones — the contract therefore only ever *appends* fields with
defaults. With a registry the writer schema is fetched by id and resolved properly.
"""

from __future__ import annotations

import base64
import copy
import io
import json
import re
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import fastavro
import orjson
from fastavro.validation import validate

from schemas.avrofast import ENCODERS, Unfit
from schemas.errors import ConfigError, DecodeError, UnknownSchemaError, ValidationError

SCHEMA_DIR = Path(__file__).parent / "avro"
SINGLE_OBJECT_MARKER = b"\xc3\x01"
CONFLUENT_MAGIC = 0
WireFormat = Literal["avro", "confluent", "json"]
EVENT_TYPES = (
    "MetricSample",
    "MetricBatch",
    "HealthSignal",
    "RiskScore",
    "AllocationCommand",
    "AllocationOutcome",
    "Preference",
    "DeadLetter",
    "Feedback",
)


def _strip_logical(schema: Any) -> Any:
    """The schema without ``logicalType`` annotations, so timestamps read as ``int`` ms."""
    if isinstance(schema, dict):
        return {k: _strip_logical(v) for k, v in schema.items() if k != "logicalType"}
    if isinstance(schema, list):
        return [_strip_logical(s) for s in schema]
    return schema


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")

@dataclass(frozen=True)
class Schema:
    """One event schema: its name, parsed form (logical types stripped) and fingerprint."""

    name: str
    raw: dict[str, Any]
    parsed: Any
    fingerprint: bytes
    # the same schema parsed with fastavro's "already parsed" mark, for its reader and writer:
    # given ``parsed`` (unmarked), they parse it again on every call, which cost 9 of the 13 µs
    # of encoding a HealthSignal (issue #14); the bytes are the same either way
    wire: Any = None

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Schema:
        parsed = fastavro.parse_schema(_strip_logical(copy.deepcopy(raw)), _write_hint=False)
        canonical = fastavro.schema.to_parsing_canonical_form(parsed)
        fp_hex = fastavro.schema.fingerprint(canonical, "CRC-64-AVRO")
        # Single-object encoding stores the 64-bit fingerprint little-endian.
        fingerprint = int(fp_hex, 16).to_bytes(8, "little")
        wire = fastavro.parse_schema(_strip_logical(copy.deepcopy(raw)))
        return cls(name=str(raw["name"]), raw=raw, parsed=parsed, fingerprint=fingerprint,
                   wire=wire)


def load_schemas(directory: Path = SCHEMA_DIR) -> dict[str, Schema]:
    """Every ``*.avsc`` in ``directory``, by event name."""
    out: dict[str, Schema] = {}
    for path in sorted(directory.glob("*.avsc")):
        schema = Schema.from_dict(json.loads(path.read_text()))
        out[schema.name] = schema
    return out


class Codec:
    """Encode and decode forewarn events in one wire format; decode any of them.

    >>> codec = Codec()
    >>> data = codec.encode("HealthSignal", {"component": "web-1", "ts": 1, "status": "PASS",
    ...     "metric": "cpu.util", "value": 0.5, "threshold": None, "rule": "cpu"})
    >>> codec.decode(data)[0]
    'HealthSignal'
    """

    def __init__(
        self,
        wire_format: WireFormat = "avro",
        *,
        registry_url: str | None = None,
        schemas: Mapping[str, Schema] | None = None,
        history: Iterable[Schema] = (),
        registry_client: Any = None,
    ) -> None:
        if wire_format not in ("avro", "confluent", "json"):
            raise ConfigError(f"wire format {wire_format!r}: use avro, confluent or json")
        if wire_format == "confluent" and not (registry_url or registry_client):
            raise ConfigError("wire format 'confluent' needs FOREWARN_REGISTRY_URL")
        self.wire_format: WireFormat = wire_format
        self.schemas: dict[str, Schema] = dict(schemas if schemas is not None else load_schemas())
        hist = list(history)
        if schemas is None and (SCHEMA_DIR / "history").is_dir():  # each version (s29)
            hist.extend(Schema.from_dict(json.loads(p.read_text()))
                        for p in sorted((SCHEMA_DIR / "history").rglob("*.avsc")))
        self._by_fingerprint: dict[bytes, Schema] = {s.fingerprint: s for s in hist}
        self._by_fingerprint.update({s.fingerprint: s for s in self.schemas.values()})
        self._registry: Any = registry_client
        self._registry_ids: dict[tuple[str, str], int] = {}
        self._registry_schemas: dict[int, Schema] = {}
        if registry_url and registry_client is None:
            from confluent_kafka.schema_registry import SchemaRegistryClient

            # new_client: a real registry, or the library's in-memory one for "mock://" URLs.
            self._registry = SchemaRegistryClient.new_client({"url": registry_url})

    def close(self) -> None:
        """Close the registry client's connections (nothing to do without a registry)."""
        close = getattr(self._registry, "close", None)
        if callable(close):
            close()

    def __enter__(self) -> Codec:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------

    def schema(self, event_type: str) -> Schema:
        try:
            return self.schemas[event_type]
        except KeyError:
            raise ValidationError(
                f"unknown event type {event_type!r}; known: {', '.join(sorted(self.schemas))}"
            ) from None

    def encode(self, event_type: str, record: Mapping[str, Any], *, topic: str = "") -> bytes:
        """``record`` as bytes in this codec's wire format; raises ValidationError if it does
        not fit its schema."""
        schema = self.schema(event_type)
        if self.wire_format == "json":
            self._validate(schema, record)
            return orjson.dumps({"_type": event_type, **_jsonable(record)})
        body = self._avro_body(schema, record)
        if self.wire_format == "avro":
            return SINGLE_OBJECT_MARKER + schema.fingerprint + body
        schema_id = self._register(schema, topic or event_type)
        return struct.pack(">bI", CONFLUENT_MAGIC, schema_id) + body

    def _avro_body(self, schema: Schema, record: Mapping[str, Any]) -> bytes:
        fast = ENCODERS.get((schema.name, schema.fingerprint))
        if fast is not None:  # the worker's hot outputs, the same bytes (schemas/avrofast.py)
            try:  # not contextlib.suppress: an object and two calls per output (#14, s28)
                return fast(record)
            except Unfit:  # a record of other types: fastavro below
                fast = None
        buf = io.BytesIO()
        try:
            fastavro.schemaless_writer(buf, schema.wire or schema.parsed, record,
                                       strict_allow_default=True)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            self._validate(schema, record)  # gives the precise field when it can
            raise ValidationError(f"{schema.name}: cannot encode: {exc}") from exc
        return buf.getvalue()

    @staticmethod
    def _validate(schema: Schema, record: Mapping[str, Any]) -> None:
        try:
            validate(dict(record), schema.parsed, raise_errors=True, strict=False)
        except fastavro.validation.ValidationError as exc:
            raise ValidationError(f"{schema.name}: {exc}") from exc

    def _register(self, schema: Schema, topic: str) -> int:
        from confluent_kafka.schema_registry import Schema as RegistrySchema

        subject = f"{topic}-value"
        key = (subject, schema.name)
        if key not in self._registry_ids:
            sid = self._registry.register_schema(
                subject, RegistrySchema(json.dumps(schema.raw), "AVRO")
            )
            self._registry_ids[key] = int(sid)
            self._registry_schemas[int(sid)] = schema
        return self._registry_ids[key]

    # -- reading ---------------------------------------------------------------------------

    def decode(
        self, data: bytes | None, expected: tuple[str, ...] = ()
    ) -> tuple[str, dict[str, Any]]:
        """``(event_type, record)`` from bytes in any supported format.

        ``expected`` names the event types the topic carries; a record of another type, or
        bytes that no format reads, raise DecodeError with the reason.
        """
        if not data:
            raise DecodeError("empty message: no bytes to decode")
        if data[:2] == SINGLE_OBJECT_MARKER:
            event_type, record = self._decode_single_object(data, expected)
        elif data[0] == CONFLUENT_MAGIC and len(data) >= 5:
            event_type, record = self._decode_confluent(data, expected)
        elif data[:1] in (b"{", b"[", b" ", b"\n", b"\t"):
            event_type, record = self._decode_json(data, expected)
        else:
            raise DecodeError(
                f"unrecognised framing (first byte 0x{data[0]:02x}): not Avro single-object "
                "(C3 01), Confluent (00 + schema id) or a JSON object"
            )
        if expected and event_type not in expected:
            raise DecodeError(f"got a {event_type}, this topic carries {', '.join(expected)}")
        return event_type, record

    def _decode_single_object(
        self, data: bytes, expected: tuple[str, ...]
    ) -> tuple[str, dict[str, Any]]:
        if len(data) < 10:
            raise DecodeError(f"truncated single-object header ({len(data)} bytes)")
        fp = data[2:10]
        writer = self._by_fingerprint.get(fp)
        if writer is not None:
            reader = self.schemas.get(writer.name, writer)
            return writer.name, self._read_body(data[10:], writer, reader)
        if len(expected) == 1:
            # A newer writer that appended fields: read the known prefix with our schema.
            own = self.schema(expected[0])
            return own.name, self._read_body(data[10:], own, own)
        raise UnknownSchemaError(
            f"unknown schema fingerprint {fp[::-1].hex()}: written with a schema this reader "
            "does not hold; update forewarn's schemas/ or use a Schema Registry"
        )

    def _decode_confluent(
        self, data: bytes, expected: tuple[str, ...]
    ) -> tuple[str, dict[str, Any]]:
        schema_id = struct.unpack(">I", data[1:5])[0]
        writer = self._registry_schemas.get(schema_id)
        if writer is None:
            if self._registry is None:
                raise UnknownSchemaError(
                    f"Confluent-framed message (schema id {schema_id}) but no registry is "
                    "configured: set FOREWARN_REGISTRY_URL"
                )
            try:
                fetched = self._registry.get_schema(schema_id)
            except Exception as exc:  # the client raises several types; wrap them all here
                raise UnknownSchemaError(f"registry has no schema id {schema_id}: {exc}") from exc
            writer = Schema.from_dict(json.loads(fetched.schema_str))
            self._registry_schemas[schema_id] = writer
        reader = self.schemas.get(writer.name, writer)
        return writer.name, self._read_body(data[5:], writer, reader)

    @staticmethod
    def _read_body(body: bytes, writer: Schema, reader: Schema) -> dict[str, Any]:
        try:
            rec = fastavro.schemaless_reader(
                io.BytesIO(body),
                writer.wire or writer.parsed,
                (reader.wire or reader.parsed) if reader is not writer else None,
            )
        except Exception as exc:  # fastavro raises assorted errors on corrupt bodies
            # without the address of the object some name ("<_io.BytesIO object at 0x...>"):
            # the dead letter of a replayed message must be the same bytes
            why = _ADDRESS.sub("", str(exc))
            raise DecodeError(f"corrupt {writer.name} Avro body: {type(exc).__name__}: {why}"
                              ) from exc
        if not isinstance(rec, dict):
            raise DecodeError(f"{writer.name} body did not decode to a record")
        return rec

    def _decode_json(self, data: bytes, expected: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
        try:
            obj = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise DecodeError(f"invalid JSON: {exc}") from exc
        if not isinstance(obj, dict):
            raise DecodeError(f"JSON {type(obj).__name__}, expected an object")
        event_type = obj.pop("_type", None)
        if event_type is None:
            if "points" in obj and "MetricBatch" in expected:
                event_type = "MetricBatch"
            elif expected:
                event_type = expected[0]
            else:
                raise DecodeError("JSON object without '_type' on a topic of unknown type")
        schema = self.schemas.get(str(event_type))
        if schema is None:
            raise DecodeError(f"JSON '_type' {event_type!r} is not a forewarn event")
        record = _from_json(schema.parsed, obj)
        try:
            validate(record, schema.parsed, raise_errors=True, strict=False)
        except fastavro.validation.ValidationError as exc:
            raise DecodeError(f"JSON {schema.name} does not fit its schema: {exc}") from exc
        return schema.name, record


def _jsonable(record: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: base64.b64encode(v).decode() if isinstance(v, bytes) else v for k, v in record.items()
    }


def _from_json(parsed: Any, obj: dict[str, Any]) -> dict[str, Any]:
    """Fill defaults and turn base64 back into bytes for top-level ``bytes`` fields."""
    out = dict(obj)
    for field in parsed.get("fields", []):
        name = field["name"]
        ftype = field["type"]
        if name not in out and "default" in field:
            out[name] = copy.deepcopy(field["default"])
        value = out.get(name)
        is_bytes = ftype == "bytes" or (isinstance(ftype, list) and "bytes" in ftype)
        if isinstance(value, str) and is_bytes:
            try:
                out[name] = base64.b64decode(value, validate=True)
            except ValueError as exc:
                raise DecodeError(f"field {name!r}: not base64: {exc}") from exc
    return out
