"""The codec: round trips in every wire format, schema evolution, and clear errors."""

from __future__ import annotations

import copy
import math
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.codec import (
    EVENT_TYPES,
    SCHEMA_DIR,
    SINGLE_OBJECT_MARKER,
    Codec,
    Schema,
    load_schemas,
)
from schemas.errors import DecodeError, UnknownSchemaError, ValidationError

names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)
finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
ts = st.integers(min_value=0, max_value=2**53)

metric_sample = st.fixed_dictionaries(
    {
        "component": names,
        "host": names,
        "ts": ts,
        "metrics": st.dictionaries(names, finite, max_size=8),
        "tags": st.dictionaries(names, names, max_size=4),
    }
)
risk_score = st.fixed_dictionaries(
    {
        "component": names,
        "ts": ts,
        "risk": finite,
        "anomaly": finite,
        "horizon_s": st.integers(0, 2**31 - 1),
        "breach": st.none()
        | st.fixed_dictionaries(
            {"metric": names, "threshold": finite, "eta_s": finite, "probability": finite}
        ),
        "forecasts": st.lists(
            st.fixed_dictionaries(
                {
                    "metric": names,
                    "horizon_s": st.integers(0, 10**6),
                    "mean": finite,
                    "lower": finite,
                    "upper": finite,
                }
            ),
            max_size=3,
        ),
        "contributors": st.dictionaries(names, finite, max_size=4),
        "model": st.fixed_dictionaries(
            {
                "version": names,
                "samples_seen": st.integers(0, 2**62),
                "warm": st.booleans(),
                "source": st.sampled_from(["component", "fleet"]),
            }
        ),
        "act": st.none() | st.fixed_dictionaries({"risk": finite, "anomaly": finite}),
        "alarm": st.none() | st.booleans(),
    }
)
dead_letter = st.fixed_dictionaries(
    {
        "source_topic": names,
        "partition": st.integers(0, 2**31 - 1),
        "offset": st.integers(0, 2**62),
        "ts": ts,
        "reason": names,
        "error": names,
        "stage": names,
        "key": st.none() | st.binary(max_size=16),
        "original": st.binary(max_size=64),
    }
)
command = st.fixed_dictionaries(
    {
        "command_id": names,
        "component": names,
        "host": names,
        "ts": ts,
        "resource": st.sampled_from(["CPU_WEIGHT", "MEMORY_HIGH", "REPLICAS", "NET_BANDWIDTH"]),
        "action": st.sampled_from(["GRANT", "RELEASE", "PREEMPT"]),
        "amount": finite,
        "unit": names,
        "lease_s": st.integers(0, 2**31 - 1),
        "reason": names,
        "risk": finite,
        "priority": st.integers(-(2**31), 2**31 - 1),
    }
)
CASES = [
    ("MetricSample", metric_sample),
    ("RiskScore", risk_score),
    ("DeadLetter", dead_letter),
    ("AllocationCommand", command),
]


@pytest.mark.parametrize("fmt", ["avro", "json"])
@pytest.mark.parametrize(("event_type", "strategy"), CASES, ids=[c[0] for c in CASES])
def test_round_trip(fmt: str, event_type: str, strategy: st.SearchStrategy[dict]) -> None:
    codec = Codec(fmt)  # type: ignore[arg-type]

    @settings(max_examples=60, deadline=None)
    @given(strategy)
    def check(record: dict) -> None:
        got_type, got = codec.decode(codec.encode(event_type, record), (event_type,))
        assert got_type == event_type
        assert got == record

    check()


@settings(max_examples=40, deadline=None)
@given(metric_sample)
def test_confluent_round_trip_through_registry_client(record: dict) -> None:
    # confluent-kafka's own registry client; "mock://" is its in-memory registry.
    codec = Codec("confluent", registry_url=f"mock://{uuid.uuid4().hex}")
    data = codec.encode("MetricSample", record, topic="forewarn.metrics")
    assert data[0] == 0
    assert codec.decode(data, ("MetricSample",)) == ("MetricSample", record)


def test_single_object_header_is_marker_and_fingerprint() -> None:
    codec = Codec()
    rec = {"component": "a", "host": "a", "ts": 1, "metrics": {}, "tags": {}}
    data = codec.encode("MetricSample", rec)
    assert data[:2] == SINGLE_OBJECT_MARKER
    assert data[2:10] == codec.schemas["MetricSample"].fingerprint


def test_every_event_has_a_schema_with_a_distinct_fingerprint() -> None:
    schemas = load_schemas()
    assert set(EVENT_TYPES) <= set(schemas)
    assert len({s.fingerprint for s in schemas.values()}) == len(schemas)


def _with_added_field(schema: Schema) -> Schema:
    raw = copy.deepcopy(schema.raw)
    raw["fields"].append({"name": "site", "type": ["null", "string"], "default": None})
    return Schema.from_dict(raw)


def test_old_reader_reads_records_with_an_added_optional_field() -> None:
    old = load_schemas()
    new = dict(old, MetricSample=_with_added_field(old["MetricSample"]))
    writer, reader = Codec(schemas=new), Codec(schemas=old)
    rec = {"component": "a", "host": "h", "ts": 5, "metrics": {"x": 1.0}, "tags": {}}
    data = writer.encode("MetricSample", {**rec, "site": "eu-1"})
    assert reader.decode(data, ("MetricSample",)) == ("MetricSample", rec)


def test_new_reader_reads_records_written_with_the_old_schema() -> None:
    old = load_schemas()
    new_schema = _with_added_field(old["MetricSample"])
    new = dict(old, MetricSample=new_schema)
    writer = Codec(schemas=old)
    reader = Codec(schemas=new, history=[old["MetricSample"]])
    rec = {"component": "a", "host": "h", "ts": 5, "metrics": {}, "tags": {"k": "v"}}
    _, got = reader.decode(writer.encode("MetricSample", rec), ("MetricSample",))
    assert got == {**rec, "site": None}


def _risk_record(**act: float) -> dict[str, Any]:
    return {"component": "web-1", "ts": 60_000, "risk": 0.25, "anomaly": 0.5, "horizon_s": 900,
            "breach": None, "forecasts": [], "contributors": {},
            "model": {"version": "v", "samples_seen": 3, "warm": True, "source": "fleet"},
            **({"act": act} if act else {})}


def test_risk_scores_written_before_act_read_as_before() -> None:
    """A RiskScore of the s19 schema (``schemas/avro/history``: no ``act``) is read by the
    current codec with ``act`` null: the allocators' signal is then its risk and anomaly; an
    old reader reads a new record's known fields and drops ``act``."""
    from actuators.signal import signal

    old = load_schemas(SCHEMA_DIR / "history")["RiskScore"]
    rec = _risk_record()
    data = Codec(schemas={"RiskScore": old}).encode("RiskScore", rec)
    _, got = Codec().decode(data, ("RiskScore",))
    assert got == {**rec, "act": None, "alarm": None}
    assert signal(got) == (0.25, 0.5)
    new = _risk_record(risk=0.75, anomaly=0.5)
    old_reader = Codec(schemas=dict(load_schemas(), RiskScore=old))
    assert old_reader.decode(Codec().encode("RiskScore", new), ("RiskScore",)) == (
        "RiskScore", rec)
    assert signal(new) == (0.75, 0.5)


def test_risk_scores_written_before_the_alarm_state_read_as_before() -> None:
    """A RiskScore of the s28 schema (``schemas/avro/history/s28``: no ``alarm``) is read by
    the current codec with ``alarm`` null (an alarm is then risk >= the alarm point); an old
    reader reads a new record's known fields and drops ``alarm`` (s29)."""
    old = load_schemas(SCHEMA_DIR / "history" / "s28")["RiskScore"]
    rec = _risk_record(risk=0.75, anomaly=0.5)
    data = Codec(schemas={"RiskScore": old}).encode("RiskScore", rec)
    assert Codec().decode(data, ("RiskScore",)) == ("RiskScore", {**rec, "alarm": None})
    old_reader = Codec(schemas=dict(load_schemas(), RiskScore=old))
    new = Codec().encode("RiskScore", {**rec, "alarm": True})
    assert old_reader.decode(new, ("RiskScore",)) == ("RiskScore", rec)


def test_added_field_through_the_registry_resolves() -> None:
    url = f"mock://{uuid.uuid4().hex}"
    old = load_schemas()
    new = dict(old, MetricSample=_with_added_field(old["MetricSample"]))
    rec = {"component": "a", "host": "h", "ts": 5, "metrics": {}, "tags": {}}
    from confluent_kafka.schema_registry import SchemaRegistryClient

    registry = SchemaRegistryClient.new_client({"url": url})  # one registry, two codecs
    new_bytes = Codec("confluent", registry_client=registry, schemas=new).encode(
        "MetricSample", {**rec, "site": "x"}, topic="m"
    )
    old_reader = Codec("confluent", registry_client=registry, schemas=old)
    assert old_reader.decode(new_bytes) == ("MetricSample", rec)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", "empty"),
        (b"\xff\x00garbage", "unrecognised framing"),
        (b"{not json", "invalid JSON"),
        (b"[1, 2]", "expected an object"),
        (b'{"component": "a"}', "does not fit"),
        (SINGLE_OBJECT_MARKER + b"\x01" * 8 + b"\x00", "fingerprint"),
        (SINGLE_OBJECT_MARKER + b"\x01", "truncated"),
        (b"\x00\x00\x00\x00\x07\x02", "no registry"),
    ],
)
def test_malformed_input_raises_decode_error_with_reason(data: bytes, match: str) -> None:
    with pytest.raises(DecodeError, match=match):
        Codec().decode(data, ("MetricSample", "MetricBatch"))


def test_corrupt_avro_body_is_a_decode_error() -> None:
    codec = Codec()
    good = codec.encode(
        "MetricSample", {"component": "a", "host": "h", "ts": 1, "metrics": {}, "tags": {}}
    )
    with pytest.raises(DecodeError, match="corrupt MetricSample"):
        codec.decode(good[:11])


def test_unknown_fingerprint_without_a_single_expected_type() -> None:
    with pytest.raises(UnknownSchemaError):
        Codec().decode(SINGLE_OBJECT_MARKER + b"\x02" * 8 + b"\x00", ())


def test_wrong_event_type_for_the_topic() -> None:
    codec = Codec()
    data = codec.encode(
        "HealthSignal",
        {"component": "a", "ts": 1, "status": "PASS", "metric": "m", "value": 0.0,
         "threshold": None, "rule": "r", "heartbeat": False},
    )
    with pytest.raises(DecodeError, match="this topic carries"):
        codec.decode(data, ("MetricSample",))


def test_encode_rejects_a_record_that_does_not_fit() -> None:
    with pytest.raises(ValidationError, match="MetricSample"):
        Codec().encode("MetricSample", {"component": "a", "ts": "yesterday"})


def test_nan_survives_avro() -> None:
    codec = Codec()
    rec = {"component": "a", "host": "h", "ts": 1, "metrics": {"x": math.nan}, "tags": {}}
    _, got = codec.decode(codec.encode("MetricSample", rec))
    assert math.isnan(got["metrics"]["x"])
