"""``forewarn run`` as a user runs it, stopped as a terminal's Ctrl-C stops it: the whole
process group gets SIGINT. For the stop test and the ``stop`` benchmark.

If it has not exited ``wait_s`` after the Ctrl-C, it is asked for every thread's stack
(SIGUSR1: ``forewarn run`` registers :mod:`faulthandler` on it), then it and every process it
started (the worker and the broker run in their own sessions) are killed by PID; the stacks
come back in the output, so a hang says where it hung."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

import psutil

from streams.runtime.broker import free_port


def run_and_stop(after_s: float = 20.0, cwd: str | None = None, wait_s: float = 120.0,
                 sigint_ignored: bool = False) -> dict[str, Any]:
    """Start ``forewarn run``, Ctrl-C it after ``after_s``; seconds to exit and its output.

    ``sigint_ignored``: start it with SIGINT ignored, as a parent that ignores SIGINT hands it
    on through ``exec`` (a shell's background job, some test runners' workers); Python then
    leaves it ignored, and only ``forewarn run``'s own handler makes Ctrl-C work."""
    env = {**os.environ, "FOREWARN_API_PORT": str(free_port())}
    with tempfile.TemporaryDirectory(prefix="forewarn-stop-") as tmp:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streams.cli", "run", "--speed", "60"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, env=env, cwd=cwd or tmp,
            preexec_fn=_ignore_sigint if sigint_ignored else None)
        hung = False
        try:
            time.sleep(after_s)
            os.killpg(proc.pid, signal.SIGINT)
            sent = time.monotonic()
            try:
                out, _ = proc.communicate(timeout=wait_s)
            except subprocess.TimeoutExpired:
                hung = True
                out = _stacks_then_kill(proc)
            took = time.monotonic() - sent
        finally:
            if proc.poll() is None:
                _kill_tree(proc.pid)
                proc.wait(10)
    text = out.decode(errors="replace")
    return {"stop_s": took, "returncode": proc.returncode, "output": text, "hung": hung,
            "stopped_lines": text.count("forewarn stopped"),
            "rdkafka_lines": sum("rdkafka" in line for line in text.splitlines())}


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _stacks_then_kill(proc: subprocess.Popen[bytes]) -> bytes:
    """The hung process's thread stacks (written to its output), then the whole tree killed."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGUSR1)
    time.sleep(2.0)
    _kill_tree(proc.pid)
    out, _ = proc.communicate(timeout=30)
    return out


def _kill_tree(pid: int) -> None:
    """Kill ``pid`` and every descendant, by PID (children first looked up, then killed)."""
    try:
        root = psutil.Process(pid)
        tree = [*root.children(recursive=True), root]
    except psutil.NoSuchProcess:
        return
    for p in tree:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()
    psutil.wait_procs(tree, timeout=10)
