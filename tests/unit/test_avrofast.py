"""The HealthSignal / RiskScore fast path writes fastavro's bytes, or declines (Unfit)."""

from __future__ import annotations

import copy
import io
import math
import random
from typing import Any

import fastavro
import numpy as np
import pytest

from processors.batch.pipeline import BatchPipeline
from schemas.avrofast import ENCODERS, Unfit, health_signal, risk_score
from schemas.codec import Codec
from streams.sim.examples import fleet_samples

CODEC = Codec()


def _fastavro(name: str, record: dict[str, Any]) -> bytes | None:
    """fastavro's body for ``record`` as the codec writes it; None if it refuses."""
    buf = io.BytesIO()
    try:
        fastavro.schemaless_writer(buf, CODEC.schema(name).wire, record,
                                   strict_allow_default=True)
    except Exception:  # noqa: BLE001 - any refusal: the fast path must refuse too
        return None
    return buf.getvalue()


def _check(name: str, record: dict[str, Any]) -> bool:
    """True when the fast path answered (with fastavro's bytes); False when it declined."""
    fast = health_signal if name == "HealthSignal" else risk_score
    try:
        got = fast(record)
    except Unfit:
        return False
    assert got == _fastavro(name, record), record
    return True


@pytest.fixture(scope="module")
def outputs() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    out = BatchPipeline().ingest_batch(fleet_samples(3_000))
    return out.health, out.risk


def test_the_fingerprints_are_the_schemas() -> None:
    """A changed .avsc leaves the fast path (and this test says so)."""
    assert set(ENCODERS) == {(n, CODEC.schema(n).fingerprint)
                             for n in ("HealthSignal", "RiskScore")}


def test_bench_outputs_bit_for_bit(outputs: tuple[list[dict[str, Any]],
                                                  list[dict[str, Any]]]) -> None:
    health, risk = outputs
    assert len(health) > 500 and len(risk) > 200
    assert all(_check("HealthSignal", r) for r in health)
    assert all(_check("RiskScore", r) for r in risk)


def _odd(rng: random.Random) -> object:
    return rng.choice([0, 1, -1, 2**31, -(2**31) - 1, 2**63 - 1, -(2**63), 2**63, True, False,
                       None, 1.5, -0.0, math.nan, math.inf, -math.inf, 5e-324, np.float64(2.5),
                       np.int64(3), "x", "", "ü€𝄞", "\ud800", b"b", [], {}, (1,)])


def _health(rng: random.Random) -> dict[str, Any]:
    return {"component": rng.choice(["web-1", "ü", "x" * 300]), "ts": rng.randrange(-2**40,
            2**42), "status": rng.choice(["PASS", "WARN", "FAIL"]), "metric": "cpu",
            "value": rng.uniform(-1e9, 1e9), "threshold": rng.choice([None, 0.9, 1e300]),
            "rule": "cpu.high", "heartbeat": rng.random() < 0.5}


def _risk(rng: random.Random) -> dict[str, Any]:
    n = rng.choice([0, 1, 24])
    return {"component": "db-1", "ts": rng.randrange(0, 2**45), "risk": rng.random(),
            "anomaly": rng.random(), "horizon_s": rng.choice([0, 900, -5, 2**31 - 1]),
            "breach": rng.choice([None, {"metric": "mem", "threshold": 90.0,
                                         "eta_s": rng.uniform(0, 900), "probability": 0.5}]),
            "forecasts": [{"metric": rng.choice(["cpu", "mem", "é"]), "horizon_s":
                           rng.choice([300, 900]), "mean": rng.gauss(0, 1e6),
                           "lower": -1.0, "upper": math.inf} for _ in range(n)],
            "contributors": rng.choice([{}, {"breach": 0.5, "warn": 0.25}]),
            "model": {"version": "v", "samples_seen": rng.randrange(0, 10**12),
                      "warm": rng.random() < 0.5, "source": "fleet"},
            **rng.choice([{}, {"act": None}, {"act": {"risk": rng.random(), "anomaly": 1.0}}])}


def _paths(record: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every field's path in a record (into nested dicts and list items)."""
    out = []
    items = record.items() if isinstance(record, dict) else enumerate(record)
    for k, v in items:
        out.append((*prefix, k))
        if isinstance(v, dict | list):
            out += _paths(v, (*prefix, k))
    return out


def _mutated(rng: random.Random, record: dict[str, Any]) -> dict[str, Any]:
    """The record with one field replaced by an odd value, or removed."""
    r = copy.deepcopy(record)
    path = rng.choice(_paths(r))
    parent = r
    for k in path[:-1]:
        parent = parent[k]
    if isinstance(parent, dict) and rng.random() < 0.2:
        del parent[path[-1]]
    else:
        parent[path[-1]] = _odd(rng)
    return r


@pytest.mark.parametrize("name", ["HealthSignal", "RiskScore"])
def test_generated_and_odd_records(name: str) -> None:
    """Well-formed records take the path; every odd value and missing field is either
    written as fastavro writes it or declined (fastavro then decides)."""
    rng = random.Random(14)
    make = _health if name == "HealthSignal" else _risk
    for _ in range(1_500):
        record = make(rng)
        assert _check(name, record)
        _check(name, _mutated(rng, record))


def test_the_codec_uses_it_and_falls_back() -> None:
    """Codec.encode: the same bytes through either path; a record fastavro refuses still
    raises the codec's ValidationError."""
    rec = _health(random.Random(1))
    assert CODEC.encode("HealthSignal", rec)[10:] == _fastavro("HealthSignal", rec)
    coerced = {**rec, "value": 1, "heartbeat": 1}  # declined here, coerced by fastavro
    assert CODEC.encode("HealthSignal", coerced)[10:] == _fastavro("HealthSignal", coerced)
    from schemas.errors import ValidationError
    with pytest.raises(ValidationError):
        CODEC.encode("HealthSignal", {**rec, "status": "NOPE"})


def test_past_the_caches() -> None:
    """More strings and forecast heads than the caches keep: emptied, still the same bytes."""
    rng = random.Random(2)
    for i in range(5_000):
        h = {**_health(rng), "component": f"c-{i}", "metric": f"m-{i % 4_500}"}
        assert _check("HealthSignal", h)
    r = _risk(rng)
    r["forecasts"] = [{"metric": f"m-{i}", "horizon_s": 300, "mean": 1.0, "lower": 0.5,
                       "upper": 2.0} for i in range(5_000)]
    assert _check("RiskScore", r)


@pytest.mark.parametrize("name", ["HealthSignal", "RiskScore"])
def test_two_odd_fields(name: str) -> None:
    rng = random.Random(41)
    make = _health if name == "HealthSignal" else _risk
    for _ in range(1_500):
        _check(name, _mutated(rng, _mutated(rng, make(rng))))
