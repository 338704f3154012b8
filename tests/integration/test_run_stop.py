"""Ctrl-C on ``forewarn run``: one "stopped" line, no librdkafka noise, broker and worker gone.
(How long it takes is a benchmark: ``python -m streams.bench stop``.)"""

from __future__ import annotations

import re
import socket

import pytest

from streams.app.ctrlc import run_and_stop

pytestmark = pytest.mark.integration


def test_ctrl_c_stops_everything_quietly(tmp_path: object) -> None:
    # started with SIGINT ignored, as some parents hand it on: `forewarn run` must still stop
    # (it hung in CI when a test-runner worker had left SIGINT ignored)
    got = run_and_stop(after_s=15.0, cwd=str(tmp_path), sigint_ignored=True)
    out = got["output"]
    assert not got["hung"], "no exit 120 s after Ctrl-C; its threads' stacks:\n" + out[-6000:]
    assert got["returncode"] == 0, out[-2000:]
    assert got["stopped_lines"] == 1, out[-2000:]
    assert got["rdkafka_lines"] == 0, out[-2000:]
    assert "Traceback" not in out
    assert "dashboard http://127.0.0.1:" in out
    # the broker it started is gone: its port is free again
    port = int(re.search(r"broker 127\.0\.0\.1:(\d+)", out).group(1))  # type: ignore[union-attr]
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is not a listener
        s.bind(("127.0.0.1", port))
