"""The docs' tables (docs/closedloop.md "Measured") from a trace JSON: python mdtables.py J."""
import json
import sys
from pathlib import Path

PEERS = ("autopilot", "reactive", "static", "vpa")


def n(v: float | None, f: str = ",.0f") -> str:
    return "–" if v is None else format(v, f)


def matched(r: dict) -> list[str]:
    out = ["| peer at its default | resource | slack | peer viol. min | forewarn viol. min at "
           "that slack | ratio | ≤ 0.5× | ratio, strict reading |",
           "|---|---|---:|---:|---:|---:|---|---:|"]
    for p in PEERS:
        for res in ("cpu", "mem"):
            c, s = r["matched"][p][res], r["matched_strict"][p][res]
            met = "–" if c["met"] is None else ("yes" if c["met"] else "**no**")
            out.append(f"| {p} | {res} | {100 * c['slack']:.1f} % | "
                       f"{n(c['peer_violation_minutes'])} | {n(c['forewarn_violation_minutes'])} "
                       f"| {n(c['ratio'], '.2f')} | {met} | "
                       f"{'not readable' if s['ratio'] is None else format(s['ratio'], '.2f')} |")
    return out


def dominance(r: dict) -> list[str]:
    out = ["| peer | resource | slack range compared | forewarn below everywhere | worst "
           "forewarn/peer | worst, strict reading |", "|---|---|---|---|---:|---:|"]
    for p in PEERS:
        for res in ("cpu", "mem"):
            c, s = r["dominance"][p][res], r["dominance_strict"][p][res]
            ov = c["overlap"]
            rng = "–" if ov is None else f"{100 * ov[0]:.0f}-{100 * ov[1]:.0f} %"
            below = "–" if c["below"] is None else ("yes" if c["below"] else "**no**")
            out.append(f"| {p} | {res} | {rng} | {below} | {n(c['worst_ratio'], '.2f')} | "
                       f"{n(s['worst_ratio'], '.2f')} |")
    return out


def main(path: str) -> None:
    r = json.loads(Path(path).read_text())
    lines = [f"{r['components']} VMs, {r['hours']:,.0f} VM-hours, delay {r['delay_s']} s", "",
             "| policy (default knob) | cpu viol. min | cpu slack | mem viol. min | mem slack | "
             "total viol. min | unmet demand % | resource-h vs static |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for p in sorted(r["policies"]):
        e = r["policies"][p]
        t = e["total"]
        lines.append(f"| {p} ({e['knob']['name']} {e['knob']['default']:g}) | "
                     f"{e['cpu']['violation_minutes']:,.0f} | {100 * e['cpu']['slack']:.1f} % | "
                     f"{e['mem']['violation_minutes']:,.0f} | {100 * e['mem']['slack']:.1f} % | "
                     f"{t['violation_minutes']:,.0f} | {t['unmet_demand_pct']:.3f} | "
                     f"{t['resource_hours_vs_static']:.3f} |")
    lines += ["", "Matched slack, all 100 VMs:", "", *matched(r), "", *dominance(r)]
    for key, f in r["folds"].items():
        lines += ["", f"Fold {key.replace('..', '..')}:", "", *matched(f), "", *dominance(f)]
    lines += ["", "Curves:"]
    for p in sorted(r["policies"]):
        lines.append(f"- {p}: " + "; ".join(
            f"{c['knob']:g}: cpu {c['cpu']['violation_minutes']:,.0f} @ "
            f"{100 * c['cpu']['slack']:.0f} %, mem {c['mem']['violation_minutes']:,.0f} @ "
            f"{100 * c['mem']['slack']:.0f} %" for c in r["policies"][p]["curve"]))
    print("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1])
