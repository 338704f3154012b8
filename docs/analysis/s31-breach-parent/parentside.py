"""The false pages a component's parents carry (s31, issue #15): ``python parentside.py DIR
[--list]`` (DIR: a ``docs/analysis/s13-breach/diag13.py`` run at the default of the day, with
``cascade_page`` on and the alarm state pickled).

Every page (a run of the pickled ``alarm``, the scorer's count) is put in one class by its
opening window:

* ``floor``: the window is floored by ``cascade_page`` (its emitted risk is exactly the alarm
  point, its ``context`` at or over it, no rule ``fail`` of its own, and a parent's page firing
  as the pipeline held it when it scored the window: ``cascade.at`` in the run's event order);
* ``ctx``: else its largest positive log-odds term is ``context`` (a parent's standing opened it);
* ``own``: else.

Per class: true and false pages, and the precision without the class's false pages (what they
cost). For ``floor`` and ``ctx`` pages, the parent that carries it: its page (true or false by
the truth), how its own page opened (``floor`` / ``ctx`` / ``own``: a chain), its risk.

``unfloor(scen, keep)``: the exact what-if of a narrower ``cascade_page``, ``keep(name, comp,
i, parent)`` says which default floors stay (the others fall back under the alarm point; the
alarm state is recomputed parents first, so a grandchild's floor follows its parent's page).
The floor feeds nothing back in the pipeline (``last_risk``, ``act``, learning untouched), so
pages and recall are exact. The Brier is not: the risk before the floor is not pickled (it is
in ``[0, 1/3)``), so :func:`brier_bounds` gives the exact range over it."""
import collections
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "s30-breach-cascade"))
sys.path.insert(0, os.path.join(HERE, "..", "s30-breach-false"))
import cascade  # noqa: E402
from cascade import FORM, THR, H, state  # noqa: E402
from falsepages import opener  # noqa: E402
from lift import order  # noqa: E402

from streams.lab.scoring.breach import _episodes  # noqa: E402


def paging(c, comps: dict, alarms: dict) -> tuple[np.ndarray, list]:
    """Whether a parent's page fires as of each window of ``c`` (pipeline order), and per
    window the parents firing."""
    on = np.zeros(c.ts.size, dtype=bool)
    who = []
    for p in c.parents:
        a = cascade.at(comps[p], c, alarms[p], True)
        on |= a
        who.append((p, a))
    return on, who


def floors(comps: dict) -> dict:
    """The windows ``cascade_page`` floored at the default, per component."""
    out = {}
    for comp in order(comps):
        c = comps[comp]
        on, _ = paging(c, comps, {k: comps[k].alarm for k in comps})
        f = on & (c.context >= THR) & ~c.fail & (c.risk == THR)
        odd = int(((c.risk == THR) & ~f).sum())
        assert odd == 0, (comp, odd)
        out[comp] = f
    return out


def followed(c) -> np.ndarray:
    b = c.breaches
    return np.searchsorted(b, c.ts + H, "right") > np.searchsorted(b, c.ts, "right")


def page_list(name: str, comps: dict, fl: dict, alarms: dict | None = None,
              risks: dict | None = None) -> list[dict]:
    out = []
    for comp, c in comps.items():
        al = c.alarm if alarms is None else alarms.get(comp, c.alarm)
        rk = c.risk if risks is None else risks.get(comp, c.risk)
        hot, fol = rk >= THR, followed(c)
        for a, z in _episodes(al):
            true = bool((fol[a:z + 1] & hot[a:z + 1]).any())
            if not true and c.ts[a] + H > c.span[1]:
                continue  # censored: the scorer does not count it
            cls = ("floor" if fl[comp][a] else
                   "ctx" if opener(c.rows[a][6]) == "context" else "own")
            out.append({"scenario": name, "comp": comp, "a": a, "z": z, "t0": int(c.ts[a]),
                        "true": true, "cls": cls, "hot": int(hot[a:z + 1].sum()),
                        "floored": int(fl[comp][a:z + 1].sum()),
                        "min": (int(c.ts[a]) - c.span[0]) / 6e4, "ctx": float(c.context[a]),
                        "risk": float(rk[a:z + 1].max())})
    return out


def carrier(name: str, comps: dict, pages: dict, p: dict) -> str:
    """The parents firing (or with the highest risk) at the page's first window, each with its
    own page: true / false and its class."""
    c = comps[p["comp"]]
    bits = []
    for q in c.parents:
        pq = comps[q]
        i = np.searchsorted(pq.gi, c.gi[p["a"]], "left") - 1
        if i < 0:
            continue
        mine = [x for x in pages[(name, q)] if x["a"] <= i <= x["z"]]
        tag = (f"{'T' if mine[0]['true'] else 'F'}:{mine[0]['cls']}" if mine
               else "-")
        bits.append(f"{q.split('/')[0]}[r{pq.risk[i]:.2f} {tag}]")
    return " ".join(bits)


def all_pages(scen: dict) -> tuple[dict, list]:
    fls = {name: floors(comps) for name, comps in scen.items()}
    ps = []
    for name, comps in scen.items():
        ps += page_list(name, comps, fls[name])
    return fls, ps


def main(d: str, listing: bool) -> None:
    seed, scen = cascade.load(d)
    s = cascade.score(scen)
    fls, ps = all_pages(scen)
    t, n = sum(p["true"] for p in ps), len(ps)
    print(f"seed {seed}: scorer pages {s['episodes']} true {s['true']} P {s['P']:.4f} "
          f"R@5m {s['R5']:.4f} Brier {s['brier']:.6f}; recount {n} / {t}")
    assert (n, t) == (s["episodes"], s["true"])
    print(f"  floored windows {sum(int(f.sum()) for fl in fls.values() for f in fl.values())}")
    for cls in ("floor", "ctx", "own"):
        f = sum(1 for p in ps if p["cls"] == cls and not p["true"])
        tt = sum(1 for p in ps if p["cls"] == cls and p["true"])
        print(f"  {cls:5}: true {tt:3} false {f:3}; P without its false pages "
              f"{t / (n - f):.4f} (+{t / (n - f) - t / n:.4f})")
    by = collections.defaultdict(list)
    for p in ps:
        by[(p["scenario"], p["comp"])].append(p)
    if listing:
        for p in sorted(ps, key=lambda p: (p["cls"], p["true"], p["scenario"], p["comp"])):
            if p["cls"] == "own":
                continue
            print(f"  {p['cls']:5} {'T' if p['true'] else 'F'} {p['scenario']:20} "
                  f"{p['comp']:16} min {p['min']:7.0f} hot {p['hot']:3} floored "
                  f"{p['floored']:3} ctx {p['ctx']:.2f} max {p['risk']:.2f} <- "
                  f"{carrier(p['scenario'], scen[p['scenario']], by, p)}")


if __name__ == "__main__":
    main(sys.argv[1], "--list" in sys.argv)


def unfloor(scen: dict, fls: dict, keep) -> tuple[dict, dict, dict, int]:
    """The exact what-if of a narrower ``cascade_page``: a window floored at the default stays
    floored iff a parent's page still fires (recomputed, parents first) and ``keep(comps, c, i,
    firing, alarms)`` (``firing``: the parents whose page fires at window ``i`` of ``c``;
    ``alarms``: every component's alarm state as recomputed so far). Returns the risk
    (an unfloored window just under the alarm point: pages and recall are exact), the alarm
    state, the unfloored windows per ``(name, comp)`` and their count."""
    risk, alarm, gone, n = {}, {}, {}, 0
    for name, comps in scen.items():
        al = {}
        for comp in order(comps):
            c = comps[comp]
            fl = fls[name][comp]
            if not fl.any():
                al[comp] = c.alarm  # no floor at the default: none in a narrower form
                continue
            now = {k: al.get(k, comps[k].alarm) for k in comps}
            _, who = paging(c, comps, now)
            stay = np.zeros(c.ts.size, dtype=bool)
            for i in np.flatnonzero(fl).tolist():
                firing = [p for p, a in who if a[i]]
                stay[i] = bool(firing) and keep(comps, c, i, firing, now)
            drop = fl & ~stay
            if drop.any():
                r = np.where(drop, np.nextafter(THR, 0.0), c.risk)
                a = state(c.rows, c.ts, r, FORM)
                risk[(name, comp)], alarm[(name, comp)] = r, a
                gone[(name, comp)] = drop
                n += int(drop.sum())
                al[comp] = a
            else:
                al[comp] = c.alarm
    return risk, alarm, gone, n


def brier_bounds(scen: dict, gone: dict, base: float) -> tuple[float, float, int, int]:
    """The Brier's exact range over the unknown risk before the floor (in ``[0, 1/3)``) of the
    unfloored windows ``gone``, around the default's ``base``: per window ``(r - y)^2`` is
    convex in ``r``, so its extremes are at the ends. Also the unfloored windows with a known
    label, and those labelled 1."""
    n_known = 0
    for comps in scen.values():
        for c in comps.values():
            fol = followed(c)
            n_known += int((fol | (c.ts + H <= c.span[1])).sum())
    up = lo = 0.0
    k = pos = 0
    for (name, comp), drop in gone.items():
        c = scen[name][comp]
        fol = followed(c)
        known = drop & (fol | (c.ts + H <= c.span[1]))
        y1 = int((known & fol).sum())
        y0 = int((known & ~fol).sum())
        k, pos = k + y1 + y0, pos + y1
        up += y1 * (1.0 - (2 / 3) ** 2)   # r = 0 where y = 1; r -> 1/3 where y = 0
        lo += y0 * (0.0 - (1 / 3) ** 2)   # r = 0 where y = 0; r -> 1/3 where y = 1
    return base + lo / n_known, base + up / n_known, k, pos


def whatif(d: str, keep, label: str) -> dict:
    """Pages, precision, recall@5m and the Brier's range of the narrower floor ``keep``."""
    seed, scen = cascade.load(d)
    base = cascade.score(scen)
    fls = {name: floors(comps) for name, comps in scen.items()}
    risk, alarm, gone, n = unfloor(scen, fls, keep)
    s = cascade.score(scen, risk, alarm)
    lo, up, k, pos = brier_bounds(scen, gone, base["brier"])
    print(f"seed {seed} {label}: pages {s['episodes']} false {s['episodes'] - s['true']} "
          f"P {s['P']:.4f} R@5m {s['R5']:.4f} Brier in [{lo:.6f}, {up:.6f}] "
          f"(default {base['episodes']} / {base['episodes'] - base['true']} / "
          f"{base['P']:.4f} / {base['R5']:.4f} / {base['brier']:.6f}); unfloored windows {n} "
          f"(label known {k}, positive {pos})")
    return {"seed": seed, "base": base, "new": s, "brier_lo": lo, "brier_up": up,
            "unfloored": n, "risk": risk, "alarm": alarm, "scen": scen}


def onset_between(q, lo: int, hi: int) -> bool:
    """Whether a FAIL onset of ``q`` (a truth FAIL interval starting more than a horizon after
    the one before ended) falls in ``(lo, hi]``: the pipeline's label event, which labels (and
    drops) every pending window of ``q`` ending before it."""
    prev_end = None
    for s, e in q.failing:
        if (prev_end is None or s - prev_end > H) and lo < s <= hi:
            return True
        prev_end = e
    return False


def keep_rooted(comps: dict, c, i: int, firing: list, alarms: dict) -> bool:
    """``cascade_rooted``: a firing parent counts iff its latest window (the pipeline's order)
    had ``context`` under the alarm point, or a FAIL onset of it came after that window (its
    pending row labelled: none kept), or one of its own parents pages as of ``c``'s window."""
    for p in firing:
        q = comps[p]
        k = int(np.searchsorted(q.gi, c.gi[i], "left")) - 1
        if k < 0 or q.context[k] < THR or onset_between(q, int(q.ts[k]), int(c.ts[i])):
            return True
        if any(cascade.at(comps[g], c, alarms[g], True)[i] for g in q.parents):
            return True
    return False
