"""s16's read.py over the peers' runs of this round: python read.py NAME[:RES] ... [-v]
(RUNS=/tmp/hC/runs17 by default: VPA memory rerun with each knob value its own VPA;
RUNS=/tmp/hC/runs for the s16 peers)."""
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "s16-trace"))
import read as r16  # noqa: E402

DIR = Path(os.environ.get("RUNS", "/tmp/hC/runs17"))
CACHE: dict[int, dict] = {}


def runs(i):
    if i not in CACHE:
        CACHE[i] = json.loads((DIR / f"{i}.json").read_text())
    return CACHE[i]


r16.runs = runs

if __name__ == "__main__":
    for arg in [a for a in sys.argv[1:] if not a.startswith("-")]:
        name, _, res = arg.partition(":")
        r16.show({r: name for r in (res.split(",") if res else ("cpu", "mem"))}, arg)
