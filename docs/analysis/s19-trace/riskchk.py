"""The risk records at this tree against the s16 cache (/tmp/hC/risk), per VM.

python riskchk.py I ...   (PYTHONPATH=. from the repository root)"""
import pickle
import sys
from pathlib import Path

from streams.lab.trace.loop import risk_by_step
from streams.sim.traces import read_bitbrains

DATA = Path("/work/shared/data/bitbrains/rnd")


def triples(rs: list) -> list:
    return [[(r.get("ts"), r.get("risk"), r.get("anomaly")) for r in step] for step in rs]


def alarms(rs: list) -> int:
    return sum(1 for s in rs for r in s if float(r.get("anomaly") or 0) >= 0.9)


for i in [int(x) for x in sys.argv[1:]]:
    t = read_bitbrains(DATA / "2013-7" / f"{i}.csv.gz", component=f"2013-7/{i}")
    new = risk_by_step(t, None)
    old = pickle.loads(Path(f"/tmp/hC/risk/{i}.pkl").read_bytes())
    diff = sum(a != b for a, b in zip(triples(new), triples(old), strict=True))
    print(i, "equal" if new == old else "differ", "steps with (ts, risk, anomaly) differing:",
          diff, "anomaly >= 0.9 records new/old:", alarms(new), alarms(old), flush=True)
