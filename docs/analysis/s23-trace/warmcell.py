"""The matched-slack cell of one peer and resource, warm against cold on the same steps: the
warm runs from `warm.py ... --res RES` (policies running since the trace's first step), the
cold from the windowed command's `runs.json` (`--start SPLIT`); the VMs of the cold run only
(a VM the window leaves out is left out of both). All VMs and the folds by VM number.

python docs/analysis/s23-trace/warmcell.py WARM_OUT COLD_OUT PEER RES"""
import json
import sys
from pathlib import Path

from streams.lab.trace.summary import _resource, matched

FOLDS = {"all": (1, 100), "1-50": (1, 50), "51-100": (51, 100)}


def by_policy(runs: list, peer: str, res: str) -> dict:
    out = {}
    for policy in ("forewarn", peer):
        es = [r["policies"][policy][res] for r in runs]
        knobs = runs[0]["policies"][policy]["knobs"]
        e: dict = {"cpu": _resource(es, 0), "mem": _resource(es, 0), "curve": []}
        for k in sorted(range(len(knobs)), key=lambda i: knobs[i]):
            f = _resource(es, k)
            pt = {"violation_minutes": f["violation_minutes"], "slack": f["slack"]}
            e["curve"].append({"knob": knobs[k], "cpu": pt, "mem": pt})
        out[policy] = e
    return out


def main(warm: str, cold: str, peer: str, res: str) -> None:
    cold_runs = json.loads((Path(cold) / "runs.json").read_text())
    keep = {r["component"] for r in cold_runs}
    warm_runs = [r for r in json.loads((Path(warm) / "warm" / "runs.json").read_text())
                 if r["component"] in keep]
    for label, (lo, hi) in FOLDS.items():
        for name, runs in (("warm", warm_runs), ("cold", cold_runs)):
            part = [r for r in runs if lo <= int(r["component"].rsplit("/", 1)[-1]) <= hi]
            m = matched(by_policy(part, peer, res), flat_end=True)[peer][res]
            fw, ratio = m["forewarn_violation_minutes"], m["ratio"]
            fws = "n/a" if fw is None else f"{fw:,.0f}"
            rs = "n/a" if ratio is None else f"{ratio:.3f}x"
            print(f"{label:>7} ({len(part)}) {name}: {peer} {m['peer_violation_minutes']:,.0f} "
                  f"min @ {100 * m['slack']:.1f} %, forewarn {fws} min: {rs}")


if __name__ == "__main__":
    main(*sys.argv[1:5])
