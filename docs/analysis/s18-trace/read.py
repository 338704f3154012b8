"""Read forewarn variants against the peers with the backtest's own code (summary.matched,
summary.dominance), under both readings of a curve's end (strict: None beyond the last point;
flat: the last point's minutes there), per fold and all VMs.

python read.py VARIANT ... [--json]   VARIANT = CPU_TRIAL,MEM_TRIAL ('base' = the build's
forewarn; a trial name = /tmp/hC/trials/NAME/RES/<i>.json); peers from RUNS (/tmp/hC/runs17:
VPA memory with each knob value its own VPA)."""
import json
import os
import sys
from pathlib import Path

from streams.lab.trace.summary import _resource, dominance, matched

RUNS = Path(os.environ.get("RUNS", "/tmp/hC/runs17"))
TRIALS = Path(os.environ.get("TRIALS", "/tmp/hC/trials"))
PEERS = ("static", "reactive", "vpa", "autopilot")
FOLDS = {"A": range(1, 51), "B": range(51, 101), "all": range(1, 101)}
_cache: dict[Path, dict] = {}


def load(p: Path) -> dict:
    if p not in _cache:
        _cache[p] = json.loads(p.read_text())
    return _cache[p]


def entries(policy: str, res: str, trial: str, vms) -> tuple[list, list]:
    if policy != "forewarn" or trial == "base":
        es = [load(RUNS / f"{i}.json")["policies"][policy][res] for i in vms]
        return es, load(RUNS / f"{vms[0]}.json")["policies"][policy]["knobs"]
    es = [load(TRIALS / trial / res / f"{i}.json") for i in vms]
    return es, es[0]["knobs"]


def by_policy(trial: str, res: str, vms) -> dict:
    """Every policy's entry for ``res`` alone (both keys hold its figures, so a trial may have
    its own knob values for one resource)."""
    out = {}
    for policy in ("forewarn", *PEERS):
        es, knobs = entries(policy, res, trial, vms)
        e: dict = {"curve": []}
        e["cpu"] = e["mem"] = _resource(es, 0)
        for k in sorted(range(len(knobs)), key=lambda i: knobs[i]):
            f = _resource(es, k)
            pt = {"violation_minutes": f["violation_minutes"], "slack": f["slack"]}
            e["curve"].append({"knob": knobs[k], "cpu": pt, "mem": pt})
        out[policy] = e
    return out


def reading(cpu: str, mem: str, vms, flat: bool) -> dict:
    cells, dom = {}, {}
    for res, trial in (("cpu", cpu), ("mem", mem)):
        by = by_policy(trial, res, list(vms))
        m, d = matched(by, flat_end=flat), dominance(by, flat_end=flat)
        for p in PEERS:
            cells[f"{p}.{res}"] = m[p][res]["ratio"]
            dom[f"{p}.{res}"] = d[p][res]["worst_ratio"]
    return {"cells": cells, "met": sum(v is not None and v <= 0.5 for v in cells.values()),
            "dom": dom}


def fmt(v) -> str:
    return "NR" if v is None else f"{v:.3f}"


if __name__ == "__main__":
    out = {}
    for arg in [a for a in sys.argv[1:] if not a.startswith("-")]:
        cpu, mem = arg.split(",")
        for fold, vms in FOLDS.items():
            for flat in (False, True):
                try:
                    r = reading(cpu, mem, vms, flat)
                except FileNotFoundError:
                    continue
                out[f"{arg} {fold} {'flat' if flat else 'strict'}"] = r
                cells = " ".join(f"{k}={fmt(v)}" for k, v in r["cells"].items())
                dom = " ".join(f"{k}={fmt(v)}" for k, v in r["dom"].items())
                print(f"{arg:14s} {fold:3s} {'flat  ' if flat else 'strict'} met {r['met']}/8  "
                      f"{cells}  dom: {dom}")
    if "--json" in sys.argv:
        print(json.dumps(out, indent=1))
