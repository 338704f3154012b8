"""How long Ctrl-C takes to stop ``forewarn run`` (``make bench``, section ``stop``).

``forewarn run`` runs in its own process group, as under a terminal; after 20 s the whole group
gets SIGINT, as a terminal's Ctrl-C sends it, and the time to the process's exit is measured
(:func:`streams.app.ctrlc.run_and_stop`). Also counted: "stopped" and librdkafka lines.
"""

from __future__ import annotations

from streams.app.ctrlc import run_and_stop


def bench_stop(seconds: float = 3.0) -> dict[str, float]:
    got = run_and_stop(after_s=max(seconds, 20.0))
    return {"stop_s": got["stop_s"], "rdkafka_lines": got["rdkafka_lines"],
            "stopped_lines": got["stopped_lines"]}


if __name__ == "__main__":
    r = run_and_stop()
    print({k: v for k, v in r.items() if k != "output"})
