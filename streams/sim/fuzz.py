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
    rng = random.Random(seed)
    codec = Codec()
    n_valid = max(1, round(n * (1 - bad_share)))
    per_comp = n_valid // components + 2
    start = now_ms - (per_comp + 2) * STEP_MS * 2  # every valid stamp lies behind now
    seq = [0] * components  # samples so far per component
    out: list[FuzzMessage] = []

    def sample(comp: str, ts: int, **over: object) -> dict:
        s = {"component": comp, "host": comp.split("/")[0], "ts": ts,
             "metrics": {"cpu.util": round(0.3 + 0.4 * rng.random(), 4),
                         "mem.used_pct": round(40 + 20 * rng.random(), 3)},
             "tags": {"fuzz": "1"}}
        s.update(over)
        return s

    def next_valid(i: int) -> FuzzMessage:
        kind = VALID_KINDS[rng.randrange(len(VALID_KINDS))]
        if kind in ("null_key", "empty_key"):
            comp = f"fz-nk-{i}"
            s = sample(comp, start + rng.randrange(per_comp) * STEP_MS)
            return FuzzMessage(kind, None if kind == "null_key" else b"",
                               codec.encode("MetricSample", s), "", comp, s["ts"])
        c = rng.randrange(components)
        comp = f"fz-{c}"
        ts = start + seq[c] * 2 * STEP_MS
        seq[c] += 1
        if kind == "batch":
            seq[c] += 1
            points = [{"ts": ts, "metrics": sample(comp, ts)["metrics"]},
                      {"ts": ts + STEP_MS, "metrics": sample(comp, ts)["metrics"]}]
            value = codec.encode("MetricBatch", {"component": comp, "host": comp,
                                                 "points": points, "tags": {}})
            return FuzzMessage(kind, comp.encode(), value, "", comp, ts + STEP_MS)
        s = sample(comp, ts)
        value = (orjson.dumps({"_type": "MetricSample", **s}) if kind == "json"
                 else codec.encode("MetricSample", s))
        return FuzzMessage(kind, comp.encode(), value, "", comp, ts)

    def bad(kind: str, i: int) -> FuzzMessage:
        comp = f"fz-bad-{i % 97}"
        key = comp.encode()
        good = codec.encode("MetricSample", sample(comp, start))
        if kind == "truncated_avro":
            value = good[: rng.randrange(1, len(good) - 1)]
        elif kind == "random_bytes":
            value = rng.randbytes(rng.randrange(1, 2000))
            key = rng.choice([None, b"", rng.randbytes(8)])
        elif kind == "unknown_fingerprint":
            value = good[:2] + rng.randbytes(8) + good[10:]
        elif kind in ("json_nan", "json_inf"):
            word = b"NaN" if kind == "json_nan" else b"Infinity"
            value = orjson.dumps({"_type": "MetricSample", **sample(comp, start)}).replace(
                b'"cpu.util":', b'"cpu.util":' + word + b',"x":', 1)
        elif kind == "json_strings":
            value = orjson.dumps({"_type": "MetricSample",
                                  **sample(comp, start, metrics={"cpu.util": "high",
                                                                 "mem.used_pct": "NaN"})})
        elif kind == "null_value":
            value = None
        elif kind == "empty_value":
            value = b""
        elif kind == "ts_1970":
            value = codec.encode("MetricSample", sample(comp, rng.randrange(0, 10**9)))
        elif kind == "ts_3000":
            value = codec.encode("MetricSample", sample(comp, YEAR_3000_MS + i))
        elif kind == "empty_component":
            value = codec.encode("MetricSample", sample("", start))
        elif kind == "huge_map":
            metrics = {f"m{j:06d}.{rng.randrange(10**6)}": rng.random() for j in range(24_000)}
            value = orjson.dumps({"_type": "MetricSample", **sample(comp, start,
                                                                     metrics=metrics)})
        elif kind == "huge_random":
            value = b"\xfe" + rng.randbytes(990_000)
        else:
            raise ValueError(kind)
        stage = BAD_KINDS.get(kind) or RARE_BAD[kind]
        return FuzzMessage(kind, key, value, stage)

    bad_kinds = sorted(BAD_KINDS)
    rare = max(2, min(RARE_EVERY, n // 2))
    for i in range(n):
        if i % rare == rare // 2:
            out.append(bad("huge_map" if (i // rare) % 2 == 0 else "huge_random", i))
        elif rng.random() < bad_share:
            out.append(bad(bad_kinds[rng.randrange(len(bad_kinds))], i))
        else:
            out.append(next_valid(i))
    return out


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
