"""A newcomer's first hour: one-line errors, the broker command's port and child, `ingest` on a
topic created later, `tail` decoding a topic, `prefs` refusing to clear what is not there."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from confluent_kafka.admin import NewTopic

from schemas.codec import Codec
from streams.runtime.broker import free_port
from streams.runtime.ingest import Ingestor
from streams.settings import Settings
from streams.topics import admin_client
from tests.apiutil import grant, produce, risk
from tests.kafkautil import producer, read_all

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
T0 = 1_767_571_200_000


def forewarn(*args: str, settings: Settings | None = None, timeout_s: float = 120,
             stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ}
    if settings is not None:
        env.update(FOREWARN_BOOTSTRAP_SERVERS=settings.bootstrap_servers,
                   FOREWARN_TOPIC_PREFIX=settings.topic_prefix)
    return subprocess.run([sys.executable, "-m", "streams.cli", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=timeout_s)


def test_unreachable_broker_is_one_line() -> None:
    for command in (["topics"], ["prefs", "list"], ["tail", "risk"]):
        got = forewarn("--bootstrap-servers", "127.0.0.1:1", *command)
        assert got.returncode == 2, got
        lines = got.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("forewarn: cannot reach a Kafka broker"), \
            got.stderr
        assert "rdkafka" not in got.stdout + got.stderr


def test_user_errors_are_one_line_and_debug_shows_the_traceback(tmp_path: Path) -> None:
    got = forewarn("backtest", "fleet", "--scenario", "nosuch", "--out", str(tmp_path))
    assert got.returncode != 0
    assert got.stderr.strip().splitlines() == [got.stderr.strip()]
    assert got.stderr.startswith("forewarn: unknown scenario 'nosuch'")
    got = forewarn("--debug", "replay", "--nab", "/nonexistent.csv")
    assert got.returncode != 0 and "Traceback" in got.stderr
    got = forewarn("replay", "--nab", "/nonexistent.csv")
    assert got.returncode != 0 and got.stderr.startswith("forewarn: ") and \
        len(got.stderr.strip().splitlines()) == 1
    got = forewarn("run", "--scenario", "nosuch")
    assert got.returncode == 2 and "invalid choice: 'nosuch'" in got.stderr
    assert "ramp" in forewarn("run", "--help").stdout  # the scenarios are listed


def test_a_closed_pipe_ends_quietly() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "streams.cli", "replay", "--scenario", "ramp", "--out", "-"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline()
    proc.stdout.close()  # as `| head -1` does
    assert proc.stderr is not None
    err = proc.stderr.read()
    proc.stderr.close()
    proc.wait(120)
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err


def test_broker_names_a_taken_port_and_notices_a_dead_child(tmp_path: Path) -> None:
    port = free_port()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen()
        got = forewarn("broker", "--port", str(port))
        assert got.returncode == 2
        assert got.stderr.strip() == (
            f"forewarn: port {port} on 127.0.0.1 is taken by another process (Address already "
            "in use); stop it or choose another port (--port)")
    proc = subprocess.Popen([sys.executable, "-m", "streams.cli", "broker", "--port", str(port)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert f"Tansu listening on 127.0.0.1:{port}" in first, first
        tansu = int(first.split("pid ")[1].split(")")[0])
        os.kill(tansu, signal.SIGKILL)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 2
        assert err.strip() == f"forewarn: Tansu (pid {tansu}) exited with code -9", err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_ingest_picks_up_a_topic_created_later(settings: Settings) -> None:
    source = f"telegraf-{uuid.uuid4().hex[:8]}"
    ing = Ingestor(settings, "telegraf", source, group=f"g-{uuid.uuid4().hex[:8]}")
    stop = threading.Event()
    thread = threading.Thread(target=ing.run, args=(stop,), daemon=True)
    thread.start()
    try:
        time.sleep(2)  # the ingestor is running, the topic is not there yet
        admin = admin_client(settings)
        admin.create_topics([NewTopic(source, 1, 1)])[source].result()
        p = producer(settings)
        line = (b'{"name":"cpu","tags":{"host":"late-1"},"fields":{"usage_user":20.0,'
                b'"usage_system":5.0},"timestamp":1714564800}')
        deadline = time.monotonic() + 60
        while ing.stats.messages == 0 and time.monotonic() < deadline:
            p.produce(source, value=line)
            p.flush(10)
            time.sleep(1)
        assert ing.stats.messages > 0
    finally:
        stop.set()
        thread.join(30)
        # closing the consumer while the loop still uses it would abort the test process
        assert not thread.is_alive(), "the ingest loop did not stop within 30 s of stop"
        ing.close()
    got = read_all(settings, "metrics", until=lambda r: len(r) >= 1, codec=Codec())
    assert got[0][3]["component"] == "late-1"


def test_tail_decodes_one_line_per_record(settings: Settings) -> None:
    produce(settings, [("risk", "RiskScore", risk("web-01", T0, 0.42)),
                       ("risk", "RiskScore", risk("db-01", T0, 0.1, eta_s=None)),
                       ("allocations", "AllocationCommand", grant("web-01", T0, cid="x"))])
    got = forewarn("tail", "risk", "--from-beginning", "--component", "web-*", "--max", "1",
                   settings=settings)
    assert got.returncode == 0, got.stderr
    assert got.stdout == ("2026-01-05T00:00:00Z web-01 risk 0.420 anomaly 0.20 breach "
                          "cpu.util>0.9 in 10.0 min p=0.42 model warm/component\n")
    got = forewarn("tail", "allocations", "--from-beginning", "--json", "--max", "1",
                   settings=settings)
    assert got.stdout.startswith('{"_type":"AllocationCommand","command_id":"x"')


def test_prefs_clear_refuses_an_unknown_selector(settings: Settings) -> None:
    got = forewarn("prefs", "clear", "nosuch", settings=settings)
    assert got.returncode == 2
    assert got.stderr.startswith("forewarn: no preference for 'nosuch' to clear")
    got = forewarn("prefs", "set", "db-*", "--criticality", "9", "--max", "MEMORY_HIGH=8192",
                   settings=settings)
    assert got.stdout.strip() == "set db-* criticality 9 active allow * max MEMORY_HIGH=8192"


def test_forewarn_api_says_it_is_open_and_stops_on_ctrl_c(settings: Settings) -> None:
    import json
    import urllib.request

    port = free_port()
    env = {**os.environ, "FOREWARN_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
           "FOREWARN_TOPIC_PREFIX": settings.topic_prefix, "FOREWARN_API_PORT": str(port)}
    proc = subprocess.Popen([sys.executable, "-m", "streams.cli", "api"], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz") as resp:
                    assert json.loads(resp.read())["following"] is True
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.3)
        os.killpg(proc.pid, signal.SIGINT)  # a terminal's Ctrl-C
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    text = out.decode()
    assert proc.returncode == 0, text
    assert "no FOREWARN_API_TOKENS: the API is open, so it listens on 127.0.0.1 only" in text
    assert text.rstrip().endswith("forewarn api stopped")
    assert "Traceback" not in text
