"""The what-if of ``page_growth`` (s32, issue #15): ``python growthgate.py DIR [--check]``
(DIR: a ``docs/analysis/s13-breach/diag13.py`` run at the default, ``cascade_page`` on, the
alarm state pickled).

The alarm state is recomputed per component, parents first (``lift.order``): a window at or
over the alarm point opens a page only where its ``growth`` evidence is 1, its largest positive
log-odds term is ``context`` or its risk is ``cascade_page``'s floor (``processors/pagegrowth.py``);
a page firing is held as at the default (the hold; in a rule FAIL until it ends). A child's
default floor stays only where a parent's page still fires as the pipeline holds it
(``cascade.at``, the run's event order; a parent fires on a subset of its default windows, so
no floor is new); an unfloored window's risk falls under the alarm point (its value before the
floor is not pickled: pages and recall are exact, the Brier is given as its exact range,
``parentside.brier_bounds``). The gate changes nothing else: the risk, ``act`` and learning
are untouched (``--check``: with the gate open everywhere the recomputed alarm equals the
pickled one on every window)."""
import collections
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
for sub in ("s31-breach-parent", "s30-breach-cascade", "s30-breach-false"):
    sys.path.insert(0, os.path.join(HERE, "..", sub))
import cascade  # noqa: E402
from cascade import THR  # noqa: E402
from falsepages import opener  # noqa: E402
from lift import order  # noqa: E402
from parentside import brier_bounds, floors, page_list, paging  # noqa: E402

HOLD = 900_000


def alarm_of(c, risk: np.ndarray, may: np.ndarray) -> np.ndarray:
    """``processors.alarmstate.firing`` over the windows, a page opened only where ``may``."""
    out = np.zeros(risk.size, dtype=bool)
    hi = None
    for i in range(risk.size):
        t = int(c.ts[i])
        if risk[i] >= THR and (hi is not None or may[i]):
            hi = t
        elif hi is None or not (c.rows[i][4].get("fail", 0.0) > 0.0 or t - hi < HOLD):
            hi = None  # released (or never firing); a firing page is held otherwise
        out[i] = hi is not None
    return out


def gated(scen: dict, fls: dict, gate: bool = True) -> tuple[dict, dict, dict, dict]:
    """Per ``(scenario, component)``: the risk, the alarm, the unfloored windows and the
    floor kept."""
    risk, alarm, gone, kept = {}, {}, {}, {}
    for name, comps in scen.items():
        now: dict = {}
        for comp in order(comps):
            c = comps[comp]
            fl = fls[name][comp]
            r = c.risk
            stay = fl
            if fl.any():
                on, _ = paging(c, comps, {k: now.get(k, comps[k].alarm) for k in comps})
                stay = fl & on
                if (fl & ~stay).any():
                    r = np.where(fl & ~stay, np.nextafter(THR, 0.0), c.risk)
                    gone[(name, comp)] = fl & ~stay
            if gate:
                may = np.array([x[4].get("growth", 0.0) > 0.0 or opener(x[6]) == "context"
                                for x in c.rows]) | stay
            else:
                may = np.ones(r.size, dtype=bool)
            a = alarm_of(c, r, may)
            now[comp] = a
            risk[(name, comp)], alarm[(name, comp)], kept[(name, comp)] = r, a, stay
    return risk, alarm, gone, kept


def main(d: str, check: bool) -> None:
    seed, scen = cascade.load(d)
    base = cascade.score(scen)
    fls = {name: floors(comps) for name, comps in scen.items()}
    if check:
        _, alarm, gone, _ = gated(scen, fls, gate=False)
        bad = sum(int((alarm[k] != scen[k[0]][k[1]].alarm).sum()) for k in alarm)
        print(f"seed {seed} gate open: alarm differs on {bad} windows, unfloored {len(gone)}")
        assert bad == 0 and not gone
    risk, alarm, gone, _ = gated(scen, fls)
    s = cascade.score(scen, risk, alarm)
    lo, up, k, pos = brier_bounds(scen, gone, base["brier"])
    n = sum(int(g.sum()) for g in gone.values())
    f0, f1 = base["episodes"] - base["true"], s["episodes"] - s["true"]
    print(f"seed {seed} page_growth: pages {s['episodes']} false {f1} P {s['P']:.4f} "
          f"R@5m {s['R5']:.4f} Brier in [{lo:.6f}, {up:.6f}] (default {base['episodes']} / {f0} / "
          f"{base['P']:.4f} / {base['R5']:.4f} / {base['brier']:.6f}); unfloored windows {n} "
          f"(label known {k}, positive {pos})")
    moved = collections.Counter()
    for name, comps in scen.items():
        fl = {comp: np.zeros(c.ts.size, dtype=bool) for comp, c in comps.items()}
        old = {(p["comp"], p["t0"]): p for p in page_list(name, comps, fl)}
        new = {(p["comp"], p["t0"]): p for p in page_list(
            name, comps, fl, {k[1]: v for k, v in alarm.items() if k[0] == name},
            {k[1]: v for k, v in risk.items() if k[0] == name})}
        for key in sorted(set(old) ^ set(new)):
            p = old.get(key) or new[key]
            tag = "gone" if key in old else "new "
            moved[(tag, p["true"])] += 1
            print(f"  {tag} {'T' if p['true'] else 'F'} {name:22} {p['comp']:16} "
                  f"min {p['min']:7.1f} hot {p['hot']:3} max {p['risk']:.2f}")
    print("  moved:", dict(moved))


if __name__ == "__main__":
    main(sys.argv[1], "--check" in sys.argv)
