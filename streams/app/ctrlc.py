"""``forewarn run`` as a user runs it, stopped as a terminal's Ctrl-C stops it: the whole
process group gets SIGINT. For the stop test and the ``stop`` benchmark."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

from streams.runtime.broker import free_port


def run_and_stop(after_s: float = 20.0, cwd: str | None = None) -> dict[str, Any]:
    """Start ``forewarn run``, Ctrl-C it after ``after_s``; seconds to exit and its output."""
    env = {**os.environ, "FOREWARN_API_PORT": str(free_port())}
    with tempfile.TemporaryDirectory(prefix="forewarn-stop-") as tmp:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streams.cli", "run", "--speed", "60"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, env=env, cwd=cwd or tmp)
        try:
            time.sleep(after_s)
            os.killpg(proc.pid, signal.SIGINT)
            sent = time.monotonic()
            out, _ = proc.communicate(timeout=120)
            took = time.monotonic() - sent
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
    text = out.decode(errors="replace")
    return {"stop_s": took, "returncode": proc.returncode, "output": text,
            "stopped_lines": text.count("forewarn stopped"),
            "rdkafka_lines": sum("rdkafka" in line for line in text.splitlines())}
