"""Bad input at volume: a deterministic mix of valid and malformed messages for
``forewarn.metrics`` and for each ingest format's topic, each labelled with what the pipeline
must do with it (score it, or dead-letter it at a given stage).

Pure: the same ``seed``, ``n`` and ``now_ms`` give the same bytes. The fuzz test
(``tests/integration/test_fuzz.py``) and ``python -m streams.bench fuzz`` send them to a real
broker and check that every message is accounted for: scored, or dead-lettered with its reason.

Kinds on ``forewarn.metrics`` (valid ones carry their own component, keyed, in event-time
order; null-keyed valid ones each a component of their own, since a null key spreads a
component over partitions):

========================  ===========  =============================================
kind                      expected     what
========================  ===========  =============================================
avro                      scored       a MetricSample, Avro single-object encoding
batch                     scored       a MetricBatch of two points
json                      scored       the JSON encoding
null_key / empty_key      scored       a valid sample with a null / empty key
truncated_avro            decode       a valid sample cut short
random_bytes              decode       1-2000 random bytes
unknown_fingerprint       decode       single-object framing, a fingerprint nobody has
json_nan / json_inf       decode       ``NaN`` / ``Infinity`` in the JSON (not JSON)
json_strings              decode       metric values that are strings
huge_map                  validate     ~1 MB JSON map of metrics (over ``max_metrics``)
huge_random               decode       ~1 MB of random bytes (the 1 MB attack)
null_value / empty_value  decode       a tombstone / zero bytes
ts_1970 / ts_3000         time         valid records stamped in 1970 / the year 3000
empty_component           validate     a valid record with ``component: ""``
========================  ===========  =============================================
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import orjson

from schemas.codec import Codec

STEP_MS = 10_000  # event time between one component's samples
YEAR_3000_MS = 32_503_680_000_000

BAD_KINDS: dict[str, str] = {  # kind -> the dead-letter stage it must get
    "truncated_avro": "decode",
    "random_bytes": "decode",
    "unknown_fingerprint": "decode",
    "json_nan": "decode",
    "json_inf": "decode",
    "json_strings": "decode",  # the JSON codec checks values against the schema
    "null_value": "decode",
    "empty_value": "decode",
    "ts_1970": "time",
    "ts_3000": "time",
    "empty_component": "validate",
}
RARE_BAD = {"huge_map": "validate", "huge_random": "decode"}  # ~1 MB each: every RARE_EVERY
RARE_EVERY = 10_000
VALID_KINDS = ("avro", "avro", "avro", "batch", "json", "null_key", "empty_key")


@dataclass(frozen=True)
class FuzzMessage:
    kind: str
    key: bytes | None
    value: bytes | None
    stage: str  # the dead-letter stage expected; "" when it must be scored
    component: str = ""  # valid ones: the component it feeds
    last_ts: int = 0  # valid ones: its latest sample's event time


def metrics_messages(n: int, *, seed: int = 12, now_ms: int, components: int = 40,
                     bad_share: float = 0.5) -> list[FuzzMessage]:
    """``n`` messages for ``forewarn.metrics``; about ``bad_share`` of them bad."""
    fuzz = _MetricsFuzz(random.Random(seed), n, now_ms, components, bad_share)
    bad_kinds = sorted(BAD_KINDS)
    rare = max(2, min(RARE_EVERY, n // 2))
    out: list[FuzzMessage] = []
    for i in range(n):
        if i % rare == rare // 2:
            out.append(fuzz.bad("huge_map" if (i // rare) % 2 == 0 else "huge_random", i))
        elif fuzz.rng.random() < bad_share:
            out.append(fuzz.bad(bad_kinds[fuzz.rng.randrange(len(bad_kinds))], i))
        else:
            out.append(fuzz.valid(i))
    return out


class _MetricsFuzz:
    """The valid and the bad messages of :func:`metrics_messages`, from one generator."""

    def __init__(self, rng: random.Random, n: int, now_ms: int, components: int,
                 bad_share: float) -> None:
        self.rng, self.codec, self.components = rng, Codec(), components
        n_valid = max(1, round(n * (1 - bad_share)))
        self.per_comp = n_valid // components + 2
        self.start = now_ms - (self.per_comp + 2) * STEP_MS * 2  # valid stamps lie behind now
        self.seq = [0] * components  # samples so far per component

    def sample(self, comp: str, ts: int, **over: object) -> dict[str, Any]:
        rng = self.rng
        s = {"component": comp, "host": comp.split("/")[0], "ts": ts,
             "metrics": {"cpu.util": round(0.3 + 0.4 * rng.random(), 4),
                         "mem.used_pct": round(40 + 20 * rng.random(), 3)},
             "tags": {"fuzz": "1"}}
        s.update(over)
        return s

    def valid(self, i: int) -> FuzzMessage:
        rng, codec = self.rng, self.codec
        kind = VALID_KINDS[rng.randrange(len(VALID_KINDS))]
        if kind in ("null_key", "empty_key"):
            comp = f"fz-nk-{i}"
            s = self.sample(comp, self.start + rng.randrange(self.per_comp) * STEP_MS)
            return FuzzMessage(kind, None if kind == "null_key" else b"",
                               codec.encode("MetricSample", s), "", comp, s["ts"])
        c = rng.randrange(self.components)
        comp = f"fz-{c}"
        ts = self.start + self.seq[c] * 2 * STEP_MS
        self.seq[c] += 1
        if kind == "batch":
            self.seq[c] += 1
            points = [{"ts": ts, "metrics": self.sample(comp, ts)["metrics"]},
                      {"ts": ts + STEP_MS, "metrics": self.sample(comp, ts)["metrics"]}]
            value = codec.encode("MetricBatch", {"component": comp, "host": comp,
                                                 "points": points, "tags": {}})
            return FuzzMessage(kind, comp.encode(), value, "", comp, ts + STEP_MS)
        s = self.sample(comp, ts)
        value = (orjson.dumps({"_type": "MetricSample", **s}) if kind == "json"
                 else codec.encode("MetricSample", s))
        return FuzzMessage(kind, comp.encode(), value, "", comp, ts)

    def bad(self, kind: str, i: int) -> FuzzMessage:
        comp = f"fz-bad-{i % 97}"
        key: bytes | None = comp.encode()
        good = self.codec.encode("MetricSample", self.sample(comp, self.start))
        if kind == "random_bytes":
            value: bytes | None = self.rng.randbytes(self.rng.randrange(1, 2000))
            key = self.rng.choice([None, b"", self.rng.randbytes(8)])
        else:
            value = self.bad_value(kind, i, comp, good)
        stage = BAD_KINDS.get(kind) or RARE_BAD[kind]
        return FuzzMessage(kind, key, value, stage)

    def bad_value(self, kind: str, i: int, comp: str, good: bytes) -> bytes | None:
        """A malformed value of ``kind`` (``good``: a valid one to spoil)."""
        rng, codec, start = self.rng, self.codec, self.start
        if kind == "truncated_avro":
            return good[: rng.randrange(1, len(good) - 1)]
        if kind == "unknown_fingerprint":
            return good[:2] + rng.randbytes(8) + good[10:]
        if kind in ("json_nan", "json_inf"):
            word = b"NaN" if kind == "json_nan" else b"Infinity"
            return orjson.dumps({"_type": "MetricSample", **self.sample(comp, start)}).replace(
                b'"cpu.util":', b'"cpu.util":' + word + b',"x":', 1)
        if kind == "json_strings":
            return orjson.dumps({"_type": "MetricSample",
                                 **self.sample(comp, start, metrics={"cpu.util": "high",
                                                                     "mem.used_pct": "NaN"})})
        if kind in ("null_value", "empty_value"):
            return None if kind == "null_value" else b""
        if kind == "ts_1970":
            return codec.encode("MetricSample", self.sample(comp, rng.randrange(0, 10**9)))
        if kind == "ts_3000":
            return codec.encode("MetricSample", self.sample(comp, YEAR_3000_MS + i))
        if kind == "empty_component":
            return codec.encode("MetricSample", self.sample("", start))
        if kind == "huge_map":
            metrics = {f"m{j:06d}.{rng.randrange(10**6)}": rng.random() for j in range(24_000)}
            return orjson.dumps({"_type": "MetricSample",
                                 **self.sample(comp, start, metrics=metrics)})
        if kind == "huge_random":
            return b"\xfe" + rng.randbytes(990_000)
        raise ValueError(kind)


# -- ingest formats ---------------------------------------------------------------------------

INGEST_BAD = ("random_bytes", "truncated", "json_nan", "empty_value", "huge_map", "wrong_shape")


def ingest_messages(fmt: str, n: int, *, seed: int = 7, now_ms: int, good: list[bytes],
                    bad_share: float = 0.5) -> list[FuzzMessage]:
    """``n`` messages for a ``fmt`` topic: the format's own good messages (``good``, e.g.
    ``tests/data/formats/<fmt>_messages.jsonl``) mixed with malformed ones. Good ones carry
    stage "" (they may still be dead-lettered at ``validate`` for content the format allows
    but forewarn refuses); bad ones stage "decode" or "validate"."""
    rng = random.Random(seed)
    out: list[FuzzMessage] = []
    for i in range(n):
        if rng.random() >= bad_share:
            out.append(FuzzMessage("good", f"host-{i % 13}".encode(), good[i % len(good)], ""))
            continue
        kind = INGEST_BAD[rng.randrange(len(INGEST_BAD))]
        base = good[rng.randrange(len(good))]
        if kind == "random_bytes":
            value: bytes | None = rng.randbytes(rng.randrange(1, 1500))
        elif kind == "truncated":
            value = base[: rng.randrange(1, max(2, len(base) - 1))]
        elif kind == "json_nan":
            value = b'{"value": NaN, "name": "x", "timestamp": 1}'
        elif kind == "empty_value":
            value = rng.choice([None, b""])
        elif kind == "huge_map":
            if i % 500:
                kind, value = "wrong_shape", b"[1, 2, 3]"
            else:
                value = orjson.dumps({"fields": {f"f{j}": j for j in range(30_000)},
                                      "name": "cpu", "tags": {"host": "h"},
                                      "timestamp": now_ms // 1000})
        else:
            value = rng.choice([b"[1, 2, 3]", b'"a string"', b"42", b"{}", b"null"])
        out.append(FuzzMessage(kind, rng.choice([None, b"", b"k"]), value, "bad"))
    return out
