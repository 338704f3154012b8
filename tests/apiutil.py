"""Helpers for the API tests: records as the worker and actuator write them, an HTTP client
on the standard library, and waiting for the read model to catch up."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import NewTopic

from schemas.codec import Codec
from streams.settings import Settings
from streams.topics import admin_client


def risk(component: str, ts: int, value: float, eta_s: float | None = 600.0,
         metric: str = "cpu.util", alarm: bool | None = None) -> dict[str, Any]:
    """A RiskScore; ``alarm`` (the page) left out unless given, as before s29."""
    rec = {
        "component": component, "ts": ts, "risk": value, "anomaly": 0.2, "horizon_s": 900,
        "breach": None if eta_s is None else {
            "metric": metric, "threshold": 0.9, "eta_s": eta_s, "probability": value},
        "forecasts": [{"metric": metric, "horizon_s": 300, "mean": 0.8, "lower": 0.7,
                       "upper": 0.95}],
        "contributors": {metric: 1.0},
        "model": {"version": "t", "samples_seen": 100, "warm": True, "source": "component"},
    }
    if alarm is not None:
        rec["alarm"] = alarm
    return rec


def health(component: str, ts: int, status: str, value: float = 0.5,
           metric: str = "cpu.util") -> dict[str, Any]:
    return {"component": component, "ts": ts, "status": status, "metric": metric,
            "value": value, "threshold": None if status == "PASS" else 0.9, "rule": "cpu",
            "heartbeat": False}


def grant(component: str, ts: int, amount: float = 200.0, resource: str = "CPU_WEIGHT",
          action: str = "GRANT", cid: str | None = None) -> dict[str, Any]:
    return {"command_id": cid or f"{component}-{resource}-{ts}", "component": component,
            "host": component.split("/")[0], "ts": ts, "resource": resource, "action": action,
            "amount": amount, "unit": "weight", "lease_s": 600, "reason": "risk", "risk": 0.8,
            "priority": 5}


def outcome(cid: str, component: str, ts: int, status: str = "APPLIED") -> dict[str, Any]:
    return {"command_id": cid, "component": component, "ts": ts, "status": status,
            "detail": "ok", "backend": "dryrun", "effect": None}


def produce(settings: Settings, items: list[tuple[str, str, dict[str, Any]]]) -> None:
    """``(catalog name, event type, record)`` onto the topics, keyed by component."""
    from tests.kafkautil import producer

    codec, p = Codec(), producer(settings)
    for name, kind, rec in items:
        key = rec.get("component") or rec.get("selector")
        p.produce(settings.topic(name), key=str(key).encode(), value=codec.encode(kind, rec))
    assert p.flush(10) == 0


def ensure_topic(settings: Settings, name: str) -> None:
    admin = admin_client(settings)
    full = settings.topic(name)
    if full not in admin.list_topics(timeout=10).topics:
        for fut in admin.create_topics([NewTopic(full, settings.partitions, 1)]).values():
            try:
                fut.result()
            except KafkaException as exc:  # created meanwhile (seen on Apache Kafka): fine
                if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                    raise


def call(method: str, url: str, body: Any = None, token: str | None = None,
         timeout_s: float = 10.0) -> tuple[int, Any]:
    """(status, decoded JSON or text) for one request."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            status, raw, ctype = resp.status, resp.read(), resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        status, raw, ctype = exc.code, exc.read(), exc.headers.get("Content-Type", "")
    if "json" in ctype and raw:
        return status, json.loads(raw)
    return status, raw.decode()


def wait_for(check: Callable[[], Any], timeout_s: float = 30.0, every_s: float = 0.2) -> Any:
    """``check()``'s first truthy value; AssertionError after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout_s} s: {check}")
        time.sleep(every_s)
