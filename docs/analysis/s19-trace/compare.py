"""The full command's JSON against the cache reproduction (issue #11, s19): every matched cell
and dominance reading (all VMs and per fold, both readings), every policy's figures at its
default knob and every curve point; prints the cells side by side and counts what differs.

python compare.py FULL.json CACHE.json   (e.g. /tmp/hC/full19.json /tmp/hC/s18/trace18.json)"""
import json
import sys


def cells(d: dict) -> dict:
    out = {}
    for scope, part in [("all", d), *[(f, d["folds"][f]) for f in sorted(d["folds"])]]:
        for key in ("matched", "matched_strict"):
            for peer, by in part[key].items():
                for res, c in by.items():
                    out[f"{scope} {key} {peer} {res}"] = c["ratio"]
        for key in ("dominance", "dominance_strict"):
            for peer, by in part[key].items():
                for res, c in by.items():
                    out[f"{scope} {key} {peer} {res}"] = c["worst_ratio"]
    return out


def points(d: dict) -> dict:
    out = {}
    for p, e in d["policies"].items():
        for res in ("cpu", "mem", "total"):
            for k in ("violation_minutes", "slack"):
                out[f"{p} default {res} {k}"] = e[res][k]
        for pt in e["curve"]:
            for res in ("cpu", "mem"):
                for k in ("violation_minutes", "slack"):
                    out[f"{p} {pt['knob']} {res} {k}"] = pt[res][k]
    return out


def fmt(v: object) -> str:
    return "NR" if v is None else f"{v:.4f}" if isinstance(v, float) else str(v)


def main(full: str, cache: str) -> None:
    a, b = json.load(open(full)), json.load(open(cache))
    ca, cb = cells(a), cells(b)
    moved = 0
    for k in sorted(set(ca) | set(cb)):
        va, vb = ca.get(k), cb.get(k)
        same = va == vb or (va is not None and vb is not None and abs(va - vb) < 5e-4)
        moved += not same
        print(f"{'  ' if same else '* '}{k}: full {fmt(va)}  cache {fmt(vb)}")
    pa, pb = points(a), points(b)
    diff = [k for k in pa if pa[k] != pb.get(k)]
    big = [k for k in diff if k.endswith("minutes")
           and abs(pa[k] - pb[k]) > 0.005 * max(abs(pb[k]), 1.0)]
    print(f"cells: {moved} of {len(ca)} differ by >= 0.0005; curve/default figures: {len(diff)} "
          f"of {len(pa)} differ at all, {len(big)} minute figures by > 0.5 %")
    for k in big:
        print(f"  {k}: full {pa[k]:.1f} cache {pb[k]:.1f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
