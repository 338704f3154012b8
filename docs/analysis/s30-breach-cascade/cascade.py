"""The cascade children (s30, issue #15): shared loading for ``children.py`` and ``lift.py``.

``load(DIR)``: per scenario of a ``docs/analysis/s13-breach/diag13.py`` run, per component its
windows (ts, risk, eta, context, fail), its alarm state (the pickled ``alarm`` where the run
carries one, else hA's ``whatif.state`` ``open:15:1/3``, which equals the pipeline's on every
window), its breaches, span and FAIL intervals, and its parents (the scenario's
``depends_on``, rebuilt from the seed in ``figures.json``)."""
import collections
import glob
import json
import os
import pickle
import sys
from dataclasses import dataclass, field

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "s13-breach"))
sys.path.insert(0, os.path.join(HERE, "..", "s29-breach-alarm"))
from episodes import THR, H, L  # noqa: E402,F401
from whatif import state  # noqa: E402

FORM = "open:15:0.3333333333333333"


@dataclass
class Comp:
    name: str
    ts: np.ndarray
    risk: np.ndarray
    eta: np.ndarray
    context: np.ndarray
    fail: np.ndarray
    alarm: np.ndarray
    breaches: np.ndarray
    span: tuple
    failing: list
    rows: list
    gi: np.ndarray  # each window's index in the run's event order (the order scored)
    parents: list = field(default_factory=list)
    children: list = field(default_factory=list)


def topology(name: str, seed: int) -> dict:
    from streams.sim.simulator import scenario
    sc = scenario(name, seed=seed)
    return {c.id: list(c.depends_on) for c in sc.components}


def load_scenario(path: str, seed: int) -> dict:
    d = pickle.load(open(path, "rb"))
    name = os.path.basename(path)[:-4]
    by = collections.defaultdict(list)
    for i, r in enumerate(d["rows"]):
        by[r[0]].append(i)
    al = d.get("alarm")
    br = collections.defaultdict(list)
    for b in d["breaches"]:
        br[b.component].append(b.breach_ms)
    deps = topology(name, seed)
    comps = {}
    for comp, idx in by.items():
        rs = [d["rows"][i] for i in idx]
        ts = np.array([r[1] for r in rs], dtype=np.int64)
        risk = np.array([r[2] for r in rs])
        if al is not None and al[idx[0]] is not None:
            alarm = np.array([bool(al[i]) for i in idx])
        else:
            alarm = state(rs, ts, risk, FORM)
        comps[comp] = Comp(
            comp, ts, risk, np.array([np.nan if r[3] is None else r[3] for r in rs]),
            np.array([r[4].get("context", 0.0) for r in rs]),
            np.array([r[4].get("fail", 0.0) > 0.0 for r in rs]), alarm,
            np.array(sorted(br.get(comp, [])), dtype=np.int64), d["spans"][comp],
            list(d["failing"].get(comp, [])), rs, np.array(idx, dtype=np.int64))
    for comp, c in comps.items():
        c.parents = [p for p in deps.get(comp, []) if p in comps]
        for p in c.parents:
            comps[p].children.append(comp)
    return comps


def load(d: str) -> tuple[int, dict]:
    seed = json.load(open(os.path.join(d, "figures.json")))["seed"]
    out = {}
    for p in sorted(glob.glob(os.path.join(d, "*.pkl"))):
        if p.endswith(".x.pkl"):
            continue
        out[os.path.basename(p)[:-4]] = load_scenario(p, seed)
    return seed, out


def at(parent: Comp, child: Comp, arr: np.ndarray, order: bool = True) -> np.ndarray:
    """``arr`` of ``parent`` as of each window of ``child``: its latest window scored before
    the child's (``order``: the pipeline's state when it scores the child's window) or, else,
    its latest window ending at or before the child's; False/0 before its first."""
    if order:
        i = np.searchsorted(parent.gi, child.gi, "left") - 1
    else:
        i = np.searchsorted(parent.ts, child.ts, "right") - 1
    out = arr[np.maximum(i, 0)]
    return np.where(i >= 0, out, np.zeros_like(out))


def score(scen: dict, risk: dict | None = None, alarm: dict | None = None) -> dict:
    """The scorer's own figures (pages) over every scenario, with ``risk`` / ``alarm``
    replaced per ``(scenario, component)`` where given."""
    from streams.lab.scoring.breach import Breach, RiskEvent, score_breaches
    ev, br, sp = [], [], {}
    for name, comps in scen.items():
        for comp, c in comps.items():
            key = f"{name}:{comp}"
            r = c.risk if risk is None or (name, comp) not in risk else risk[(name, comp)]
            a = c.alarm if alarm is None or (name, comp) not in alarm else alarm[(name, comp)]
            for t, x, e, z in zip(c.ts.tolist(), r.tolist(), c.eta.tolist(), a.tolist(),
                                  strict=True):
                ev.append(RiskEvent(key, t, x, None if e != e else e, bool(z)))
            br += [Breach(key, "m", b) for b in c.breaches.tolist()]
            sp[key] = c.span
    rep = score_breaches(ev, br, sp, threshold=THR, horizon_s=H / 1000, leads_s=(60, 300, 900),
                         failing=None)  # the Brier label breach_figures reports
    return {"episodes": rep.episodes, "true": rep.true_episodes, "P": rep.precision,
            "R5": rep.recall[300], "brier": rep.brier, "breaches": rep.breaches}
