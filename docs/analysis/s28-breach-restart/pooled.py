"""Exact pooled figures of diag13.py runs (s28): ``python pooled.py DIR [DIR ...]``: episodes,
true, false, precision, recall@5m (hit of breaches), Brier (windows), from figures.json."""
import json
import os
import sys


def pooled(d: str) -> str:
    sc = {k: v for k, v in json.load(open(os.path.join(d, "figures.json")))["scenarios"].items()
          if k != "all"}
    ep = sum(s["episodes"] for s in sc.values())
    tr = sum(s["true_episodes"] for s in sc.values())
    br = sum(s["breaches"] for s in sc.values())
    hit = sum(round(s["recall"]["300"] * s["breaches"]) for s in sc.values())
    n = sum(sum(b["count"] for b in s["reliability"]) for s in sc.values())
    sq = sum(s["brier"] * sum(b["count"] for b in s["reliability"]) for s in sc.values())
    return (f"{d}: episodes {ep} true {tr} false {ep - tr} precision {tr / ep:.4f} "
            f"recall@5m {hit / br:.4f} ({hit} of {br}) Brier {sq / n:.6f}")


if __name__ == "__main__":
    for d in sys.argv[1:]:
        print(pooled(d))
