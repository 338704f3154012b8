"""What-ifs of a cascade page (s30, issue #15): ``python whatif.py DIR [FORM ...]``.

A child's emitted risk is lifted to at least the alarm point (1/3) at a window where one of
its parents' pages is firing (the parent's alarm state as of its latest window before the
child's) and the child's own evidence says the parent's trouble reaches it (FORM); the child's
alarm state is then hA's (``open:15:1/3``) on the lifted risk. Components are taken parents
first, so a parent lifted by its own parent pages its children too. Nothing else moves (what
is learnt, ``act``, the context the grandchildren read keep the unlifted risk), so on a run's
pickles the what-if is exact where the pipeline reads the same.

FORM ``KEY=V,KEY=V`` (default ``ctx=0.3``): ``ctx`` the child's ``context`` at least V;
``prisk`` the firing parent's own risk at its latest window at least V (its crossing, not
held); ``lift`` the value lifted to (default 1/3); ``strict`` 1 (default) the parent's state when
the pipeline scores the child's window (its latest window in the run's event order), 0 its
latest window ending at or before the child's; ``nofail`` 1: not where the child is in a rule
FAIL itself."""
import sys

import numpy as np

import cascade
from cascade import FORM, THR, state


def parse(form: str) -> dict:
    out = {"ctx": 0.3, "prisk": 0.0, "lift": THR, "strict": 1.0, "stood": 1.0, "nofail": 0.0,
           "fresh": 0.0}
    for kv in filter(None, form.split(",")):
        k, v = kv.split("=")
        out[k] = float(v)
    return out


def confirmed(alarm: np.ndarray, risk: np.ndarray, k: int) -> np.ndarray:
    """``alarm`` where, within its current run, the risk has been at or over 1/3 in ``k``
    consecutive windows by then."""
    out = np.zeros(alarm.size, dtype=bool)
    streak, ok = 0, False
    for i in range(alarm.size):
        if not alarm[i]:
            streak, ok = 0, False
            continue
        streak = streak + 1 if risk[i] >= THR else 0
        ok = ok or streak >= k
        out[i] = ok
    return out


def young(ts: np.ndarray, alarm: np.ndarray, span_ms: float) -> np.ndarray:
    """Where a run of ``alarm`` began at most ``span_ms`` before."""
    out = np.zeros(alarm.size, dtype=bool)
    t0 = None
    for i in range(alarm.size):
        if not alarm[i]:
            t0 = None
            continue
        t0 = ts[i] if t0 is None else t0
        out[i] = ts[i] - t0 <= span_ms
    return out


def order(comps: dict) -> list[str]:
    done: list[str] = []
    seen: set[str] = set()

    def visit(c: str) -> None:
        if c in seen:
            return
        seen.add(c)
        for p in comps[c].parents:
            visit(p)
        done.append(c)
    for c in comps:
        visit(c)
    return done


def lifted(scen: dict, f: dict) -> tuple[dict, dict, int]:
    risk, alarm, n = {}, {}, 0
    for name, comps in scen.items():
        al, rk = {}, {}
        for comp in order(comps):
            c = comps[comp]
            pages = np.zeros(c.ts.size, dtype=bool)
            for p in c.parents:
                q = comps[p]
                page = al[p] if f["stood"] <= 1 else confirmed(al[p], rk[p], int(f["stood"]))
                if f["fresh"]:
                    page = page & young(q.ts, page, f["fresh"] * 60_000)
                on = cascade.at(q, c, page, bool(f["strict"]))
                if f["prisk"] > 0:
                    on &= cascade.at(q, c, rk[p], bool(f["strict"])) >= f["prisk"]
                pages |= on
            cond = pages & (c.context >= f["ctx"]) & (c.risk < f["lift"])
            if f["nofail"]:
                cond &= ~c.fail
            if cond.any():
                r = np.where(cond, f["lift"], c.risk)
                a = state(c.rows, c.ts, r, FORM)
                risk[(name, comp)], alarm[(name, comp)] = r, a
                n += int(cond.sum())
            else:
                r, a = c.risk, c.alarm
            al[comp], rk[comp] = a, r
    return risk, alarm, n


def main(d: str, forms: list[str]) -> None:
    seed, scen = cascade.load(d)
    base = cascade.score(scen)
    print(f"seed {seed} default: ep {base['episodes']} F {base['episodes'] - base['true']} "
          f"P {base['P']:.4f} R@5m {base['R5']:.4f} Brier {base['brier']:.6f}")
    for form in forms:
        risk, alarm, n = lifted(scen, parse(form))
        s = cascade.score(scen, risk, alarm)
        print(f"{form:28} ep {s['episodes']} F {s['episodes'] - s['true']} P {s['P']:.4f} "
              f"R@5m {s['R5']:.4f} Brier {s['brier']:.6f} (dBrier {s['brier'] - base['brier']:+.6f})"
              f" lifted windows {n}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:] or ["ctx=0.3"])


def per_scenario(d: str, form: str) -> None:
    """Per scenario, default against FORM (pages ep / F, R@5m)."""
    seed, scen = cascade.load(d)
    risk, alarm, _ = lifted(scen, parse(form))
    for name in scen:
        one = {name: scen[name]}
        a = cascade.score(one)
        b = cascade.score(one, risk, alarm)
        if (a["episodes"], a["true"], a["R5"]) != (b["episodes"], b["true"], b["R5"]):
            print(f"  {name:24} ep {a['episodes']:3} F {a['episodes'] - a['true']:3} R {a['R5']:.3f}"
                  f" -> ep {b['episodes']:3} F {b['episodes'] - b['true']:3} R {b['R5']:.3f}"
                  f"  Brier {a['brier']:.5f} -> {b['brier']:.5f}")
