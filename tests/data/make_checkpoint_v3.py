"""Writes ``checkpoint-v3-pre14.bin``: a component snapshot in format 3 as written before the
compact in-memory forms of #14 (pending windows as typed rows, Bayes counts as arrays,
snapshots read without ``vars``), by commit 70442cf.

Kept as the fixture of ``tests/unit/test_state_compact.py``: a worker upgraded past that
change restores checkpoints its predecessor wrote and continues as if it had never stopped.
Regenerate only from a tree of that commit (a ``git worktree``), e.g.::

    PYTHONPATH=/tmp/old .venv/bin/python tests/data/make_checkpoint_v3.py
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from make_checkpoint_v2 import samples  # noqa: E402

from processors.pipeline import Pipeline, PipelineConfig  # noqa: E402

N, ACTED_MS = 2400, 23_000_000  # samples before the snapshot; an action still open at it


def main() -> None:
    p = Pipeline(PipelineConfig())
    for s in samples("db-1", N, seed=7):
        p.ingest(s)
    p.on_action("db-1", ACTED_MS)
    (HERE / "checkpoint-v3-pre14.bin").write_bytes(p.snapshot("db-1"))


if __name__ == "__main__":
    main()
