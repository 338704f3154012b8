"""``forewarn ingest`` on the real embedded broker: each format's example messages (and its
awkward ones, and garbage) produced raw to a source topic come out of ``forewarn.metrics``
exactly as the adapter makes them, keyed by component; what the adapter cannot read lands in
``forewarn.deadletter`` with its reason while the messages after it still flow."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from confluent_kafka.admin import NewTopic

from schemas.codec import Codec
from streams.ingest import AdapterError, ComponentRule, get_adapter
from streams.runtime.ingest import Ingestor
from streams.settings import Settings
from streams.topics import admin_client
from tests.kafkautil import producer, read_all

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "formats"
RECV_MS = 1_714_564_900_000  # the Kafka timestamp of every source message
GARBAGE = b"\x00\x01 this is no metric {"
codec = Codec()

EXAMPLES = {
    "telegraf": ["telegraf_messages.jsonl", "telegraf_batch.json", "telegraf_lines_ms.txt"],
    "prometheus": ["prometheus_messages.jsonl"],
    "otlp-json": ["otlp_messages.jsonl"],
    "vector": ["vector_messages.jsonl"],
}
COMPONENTS = {
    "telegraf": {"web-17", "db-3", "cache-2"},
    "prometheus": {"web-17", "web-17/checkout", "10.0.3.7/payments"},
    "otlp-json": {"web-17", "web-17/checkout"},
    "vector": {"web-17", "web-17/cart", "web-17/checkout"},
}


def example_messages(fmt: str) -> list[bytes]:
    out: list[bytes] = []
    for name in EXAMPLES[fmt]:
        data = (DATA / name).read_bytes()
        if name.endswith(".jsonl"):
            out += [line for line in data.splitlines() if line.strip()]
        else:
            out.append(data)  # one message: a Telegraf batch, or newline-delimited JSON
    return out


def awkward_messages(fmt: str) -> list[bytes]:
    out: list[bytes] = []
    for line in (DATA / f"{fmt.removesuffix('-json')}_awkward.jsonl").read_bytes().splitlines():
        if not line.strip():
            continue
        c = orjson.loads(line)
        if "text" in c:
            out.append(c["text"].encode())
        else:
            out += [orjson.dumps(m) for m in c.get("messages", [c.get("message")])]
    return out


def expected(
    fmt: str, messages: list[bytes]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[bytes]]:
    """What the adapter alone makes of these messages: (samples, samples it still holds at
    the end, rejected messages)."""
    adapter = get_adapter(fmt)
    samples: list[dict[str, Any]] = []
    rejected: list[bytes] = []
    for m in messages:
        try:
            samples += adapter.parse(m, RECV_MS)
        except AdapterError:
            rejected.append(m)
    return samples, adapter.flush(), rejected


def merged(samples: Any) -> dict[tuple[str, int], dict[str, float]]:
    acc: dict[tuple[str, int], dict[str, float]] = defaultdict(dict)
    for s in samples:
        acc[(s["component"], s["ts"])].update(s["metrics"])
    return dict(acc)


def delivered(records: list[Any]) -> list[dict[str, Any]]:
    """MetricBatch records read back, as MetricSample-like dicts; checks keys on the way."""
    out = []
    for _, _, key, batch in records:
        assert key == batch["component"].encode()
        out += [{"component": batch["component"], "ts": p["ts"], "metrics": p["metrics"]}
                for p in batch["points"]]
    return out


def source_topic(settings: Settings, name: str) -> str:
    topic = settings.topic(name)
    admin = admin_client(settings)  # kept alive until the futures resolve
    for fut in admin.create_topics([NewTopic(topic, 1, 1)]).values():
        fut.result(15)
    return topic


def produce_raw(settings: Settings, topic: str, messages: list[bytes]) -> None:
    p = producer(settings)
    for m in messages:
        p.produce(topic, key=b"fleet", value=m, timestamp=RECV_MS)
    assert p.flush(15) == 0


@pytest.fixture
def running() -> Iterator[list[tuple[Ingestor, threading.Thread, threading.Event]]]:
    """Ingestors started by a test, stopped and closed by this fixture whatever happens."""
    started: list[tuple[Ingestor, threading.Thread, threading.Event]] = []
    yield started
    stop_all(started)


def stop_all(started: list[tuple[Ingestor, threading.Thread, threading.Event]]) -> None:
    while started:
        ing, thread, stop = started.pop()
        stop.set()
        thread.join(30)
        ing.close()


def start(running: list[Any], ing: Ingestor) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=ing.run, args=(stop,), daemon=True)
    thread.start()
    running.append((ing, thread, stop))


@pytest.mark.parametrize("fmt", list(EXAMPLES))
def test_examples_flow_into_metrics_and_garbage_into_deadletter(
    fmt: str, settings: Settings, running: list[Any]
) -> None:
    good = example_messages(fmt)
    half = len(good) // 2
    # garbage in the middle: the messages after it must still flow
    messages = good[:half] + [GARBAGE] + good[half:] + awkward_messages(fmt)
    parsed, held, want_rejected = expected(fmt, messages)
    want = merged(parsed + held)
    assert want_rejected[0] == GARBAGE and {c for c, _ in want} >= COMPONENTS[fmt]

    src = source_topic(settings, f"src-{fmt}")
    produce_raw(settings, src, messages)
    ing = Ingestor(settings, fmt, src, group=f"ingest-{uuid.uuid4().hex[:6]}")
    start(running, ing)

    def mine(dead: list[Any]) -> list[dict[str, Any]]:
        return [d[3] for d in dead if d[3]["source_topic"] == src]

    dead = read_all(settings, "deadletter", codec=codec,
                    until=lambda r: len(mine(r)) >= len(want_rejected))
    read_all(settings, "metrics", codec=codec,
             until=lambda r: merged(delivered(r)).keys() >= merged(parsed).keys())
    stop_all(running)  # closing sends what the adapter still holds (half-joined rounds)
    got = read_all(settings, "metrics", codec=codec,
                   until=lambda r: merged(delivered(r)).keys() >= want.keys())
    have = merged(delivered(got))
    assert have.keys() == want.keys()
    for key, metrics in want.items():
        assert have[key] == pytest.approx(metrics), key

    letters = mine(dead)
    assert [d["original"] for d in letters] == want_rejected
    assert all(d["stage"] == "decode" and d["error"] == "AdapterError" for d in letters)
    assert f"{src}[0]@{half}" in letters[0]["reason"]  # where: topic[partition]@offset
    assert f"{fmt} adapter" in letters[0]["reason"]  # why, as the adapter said it
    assert ing.stats.dead == {"decode": len(want_rejected)}


def test_component_template_from_the_command_line(settings: Settings) -> None:
    messages = example_messages("vector")
    src = source_topic(settings, "src-cli")
    produce_raw(settings, src, messages)
    shim = ("import sys, streams.cli.commands as c; "
            "sys.exit(c.main(sys.argv[1:]))")
    env = {**os.environ, "FOREWARN_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
           "FOREWARN_TOPIC_PREFIX": settings.topic_prefix}
    proc = subprocess.run(
        [sys.executable, "-c", shim, "ingest", "--format", "vector", "--source-topic", src,
         "--group", f"cli-{uuid.uuid4().hex[:6]}", "--component-template", "dc1/{host}/{service}",
         "--component-fallback", "dc1/{host}", "--duration", "10"],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    rule = ComponentRule("dc1/{host}/{service}", ("dc1/{host}",))
    want = {s["component"] for s in expected_with(rule, messages)}
    assert want == {"dc1/web-17", "dc1/web-17/cart", "dc1/web-17/checkout"}
    got = read_all(settings, "metrics", codec=codec,
                   until=lambda r: {b[3]["component"] for b in r} >= want)
    assert {b[3]["component"] for b in got} == want


def expected_with(rule: ComponentRule, messages: list[bytes]) -> list[dict[str, Any]]:
    adapter = get_adapter("vector", rule)
    out: list[dict[str, Any]] = []
    for m in messages:
        out += adapter.parse(m, RECV_MS)
    return out + adapter.flush()
