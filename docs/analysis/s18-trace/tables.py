"""The full command's output reproduced from the cache (issue #11, s18): the peers' per-VM runs
(/tmp/hC/runs17: s16's build, VPA memory per knob value), forewarn's CPU from them and its
memory from a trial run on the session-18 default (TRIAL, /tmp/hC/trials/ceil/mem: the memory
ceiling), forewarn's ``violation_s_any`` at its default knob recomputed per VM (both resources
at lambda 0.01, the override's cached scores); then ``summary.result_of`` as the CLI runs it.

python tables.py OUT.json   (then --md OUT.json prints the docs' tables)"""
import json
import pickle
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "s16-trace"))
from build import trace_of  # noqa: E402

from actuators.rightsize import POLICIES  # noqa: E402
from streams.lab.trace.loop import (  # noqa: E402
    allocations,
    base_size,
    figures,
    knob_grid,
    weights,
)
from streams.lab.trace.summary import result_of  # noqa: E402

TRIAL = Path("/tmp/hC/trials/ceil/mem")


def run(i: int) -> dict:
    r = json.loads(Path(f"/tmp/hC/runs17/{i}.json").read_text())
    fw = r["policies"]["forewarn"]
    mem = json.loads((TRIAL / f"{i}.json").read_text())
    assert mem.pop("knobs") == fw["knobs"]
    fw["mem"] = {k: mem[k] for k in fw["mem"]}
    t = trace_of(i)
    risks = pickle.loads(Path(f"/tmp/hC/risk/{i}.pkl").read_bytes())
    over = np.zeros(len(t), dtype=bool)
    for res in ("cpu", "mem"):
        a = allocations(t, "forewarn", res, [fw["knobs"][0]], 300, risks, {})
        f = figures(t.demand[res], a, weights(t), base_size(t, res))
        assert abs(float(f["violation_s"][0]) - fw[res]["violation_s"][0]) < 1e-6, (i, res)
        over |= f["over"][0]
    fw["violation_s_any"][0] = float((over * weights(t)).sum())  # the default knob's
    return r


def num(v: float | None, f: str = ",.0f") -> str:
    return "–" if v is None else format(v, f)


def md(res: dict) -> None:
    scopes = [("all", res)] + list(res["folds"].items())
    for scope, r in scopes:
        print(f"\n{scope}: | peer | res | slack | peer min | forewarn min | ratio | met | strict |")
        for peer, per in r["matched"].items():
            for rs, c in per.items():
                s = r["matched_strict"][peer][rs]["ratio"]
                print(f"| {peer} | {rs} | {100 * c['slack']:.2f} % | "
                      f"{num(c['peer_violation_minutes'])} | "
                      f"{num(c['forewarn_violation_minutes'])} | {num(c['ratio'], '.3f')} | "
                      f"{c['met']} | {num(s, '.3f')} |")
        for peer, per in r["dominance"].items():
            for rs, c in per.items():
                ov = c["overlap"]
                rng = "–" if ov is None else f"{100 * ov[0]:.0f}-{100 * ov[1]:.0f} %"
                st = r["dominance_strict"][peer][rs]["worst_ratio"]
                print(f"  dom {peer} {rs}: {rng} below={c['below']} "
                      f"worst={num(c['worst_ratio'], '.3f')} strict={num(st, '.3f')}")
    for p, e in res["policies"].items():
        t = e["total"]
        print(f"| {p} ({e['knob']['default']:g}) | {e['cpu']['violation_minutes']:,.0f} | "
              f"{100 * e['cpu']['slack']:.1f} % | {e['mem']['violation_minutes']:,.0f} | "
              f"{100 * e['mem']['slack']:.1f} % | {t['violation_minutes']:,.0f} | "
              f"{t['unmet_demand_pct']:.3f} | {t['resource_hours_vs_static']:.3f} |")
    for p, e in res["policies"].items():
        print(f"- {p}: " + "; ".join(
            f"{c['knob']:g}: cpu {c['cpu']['violation_minutes']:,.0f} @ "
            f"{100 * c['cpu']['slack']:.0f} %, mem {c['mem']['violation_minutes']:,.0f} @ "
            f"{100 * c['mem']['slack']:.1f} %" for c in e["curve"]))


if __name__ == "__main__":
    if sys.argv[1] == "--md":
        md(json.loads(Path(sys.argv[2]).read_text()))
    else:
        runs = [run(i) for i in range(1, 101)]
        grid = knob_grid(POLICIES, True)
        out = result_of(runs, POLICIES, 300, grid, per_vm=True)
        out.pop("runs")
        Path(sys.argv[1]).write_text(json.dumps(out, indent=1))
        print("written", sys.argv[1])
