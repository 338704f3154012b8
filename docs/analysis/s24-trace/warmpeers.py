"""forewarn run warm (s23's `warm.py ... --res mem` output: policies running since day 0) against
every peer's memory on the same steps started cold (the windowed command's runs), all VMs and
the folds by VM number: the matched cell and the curve check (20-80 % slack, flat end), beside
forewarn cold. Which memory failures on days 15-30 are forewarn's cold start.

python docs/analysis/s24-trace/warmpeers.py WARM_OUT COLD_OUT"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "s23-trace"))
from warmcell import FOLDS, by_policy  # noqa: E402

from streams.lab.trace.summary import dominance, matched  # noqa: E402

PEERS = ("static", "reactive", "vpa", "autopilot")


def main(warm: str, cold: str) -> None:
    cold_runs = json.loads((Path(cold) / "runs.json").read_text())
    keep = {r["component"] for r in cold_runs}
    fw_warm = {r["component"]: r["policies"]["forewarn"]
               for r in json.loads((Path(warm) / "warm" / "runs.json").read_text())
               if r["component"] in keep}
    warm_runs = [{**r, "policies": {**r["policies"], "forewarn": fw_warm[r["component"]]}}
                 for r in cold_runs]
    for label, (lo, hi) in FOLDS.items():
        for name, runs in (("warm", warm_runs), ("cold", cold_runs)):
            part = [r for r in runs if lo <= int(r["component"].rsplit("/", 1)[-1]) <= hi]
            cells = []
            for peer in PEERS:
                bp = by_policy(part, peer, "mem")
                m = matched(bp, flat_end=True)[peer]["mem"]
                d = dominance(bp, flat_end=True)[peer]["mem"]
                r = "n/a" if m["ratio"] is None else f"{m['ratio']:.2f}x"
                w = "n/a" if d["worst_ratio"] is None else f"{d['worst_ratio']:.2f}x"
                cells.append(f"{peer} {r} (curve worst {w})")
            print(f"{label:>7} ({len(part)}) fw {name}: " + "; ".join(cells))


if __name__ == "__main__":
    main(*sys.argv[1:3])
