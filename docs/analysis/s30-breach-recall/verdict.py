"""A decision rule's pooled clauses over seeds (s30, issue #15, recall), from ``figures.json``
alone (no scenario opened): ``python verdict.py POOL_GAIN BASE NEW [BASE NEW ...]``.

Per pair (a seed's default or base run, and the candidate's), pooled over all scenarios: the
pages' episodes / false / precision, recall@5m, Brier, false pages per component-day, the risk
crossing's precision beside; then the clauses of the s30 rules: recall@5m >= base on each seed
and, over the seeds (breaches summed), >= base + POOL_GAIN; pages precision >= base - 0.01 on
each; Brier <= base + 0.0005 on each."""
import json
import os
import sys


def figs(d: str) -> dict:
    return json.load(open(os.path.join(d, "figures.json")))["scenarios"]["all"]


def line(tag: str, a: dict) -> str:
    o = a.get("risk_crossing", {})
    return (f"{tag:40} pages {a['episodes']:4} false {a['episodes'] - a['true_episodes']:4} "
            f"P {a['precision']:.4f} R@5m {a['recall']['300']:.4f} Brier {a['brier']:.6f} "
            f"false/comp-day {a['false_alarms_per_component_day']:.3f} | crossing "
            f"{o.get('episodes', '-')} P {o.get('precision', float('nan')):.4f}")


def main(gain: float, dirs: list[str]) -> None:
    ok, hits = True, [0.0, 0.0, 0]
    for base, new in zip(dirs[::2], dirs[1::2], strict=True):
        b, a = figs(base), figs(new)
        print(line(base, b))
        print(line(new, a))
        assert a["breaches"] == b["breaches"]
        c1 = a["recall"]["300"] >= b["recall"]["300"]
        c2 = a["precision"] >= b["precision"] - 0.01
        c3 = a["brier"] <= b["brier"] + 0.0005
        print(f"  recall >= base {c1} ({a['recall']['300'] - b['recall']['300']:+.4f}); pages P >= "
              f"base - 0.01 {c2} ({a['precision'] - b['precision']:+.4f}); Brier <= base + "
              f"0.0005 {c3} ({a['brier'] - b['brier']:+.6f})")
        ok = ok and c1 and c2 and c3
        hits[0] += b["recall"]["300"] * b["breaches"]
        hits[1] += a["recall"]["300"] * a["breaches"]
        hits[2] += b["breaches"]
    rb, ra = hits[0] / hits[2], hits[1] / hits[2]
    c4 = ra >= rb + gain - 1e-12
    print(f"pooled recall@5m {rb:.4f} -> {ra:.4f} ({ra - rb:+.4f}; {round(hits[1] - hits[0])} "
          f"of {hits[2]} breaches) >= base + {gain}: {c4}")
    print("ALL accuracy clauses pass" if ok and c4 else "accuracy clauses FAIL")


if __name__ == "__main__":
    main(float(sys.argv[1]), sys.argv[2:])
