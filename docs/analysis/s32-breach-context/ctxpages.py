"""The context term's pages (s32, issue #15): ``python ctxpages.py DIR`` (DIR: a
``docs/analysis/s13-breach/diag13.py`` run at the default, alarm state pickled).

Every page whose opening window's largest positive log-odds term is ``context``
(``parentside.py``'s ``ctx`` class; pages opened by ``cascade_page``'s floor are not here), with
what is visible at that window: the context value and its log-odds term, the child's own
log-odds (the other terms' sum), its own named metrics (WARN or a breach forecast), how many
windows its context had stood at or over the alarm point before the page, and per parent at
the window the child read (the pipeline's order): its emitted risk, its page (true/false),
its named metrics, its rule status and how many consecutive windows its concern had stood."""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "s31-breach-parent"))
import parentside  # noqa: E402,I001
import cascade  # noqa: E402
from cascade import THR  # noqa: E402

FAIL_STATE = 9
WARN_STATE = 6


def named(states: dict) -> list[str]:
    return sorted(k.split(".")[0] + ("!" if s >= WARN_STATE else "~" * (s % 3))
                  for k, s in states.items()
                  if k != "context" and s < FAIL_STATE and (s >= WARN_STATE or s % 3))


def stood_run(q, k: int) -> int:
    """Consecutive windows of ``q`` up to ``k`` with a named metric."""
    n = 0
    while k - n >= 0 and named(q.rows[k - n][5]):
        n += 1
    return n


def ctx_age(c, a: int) -> int:
    n = 0
    while a - 1 - n >= 0 and c.context[a - 1 - n] >= THR:
        n += 1
    return n


def rows_for(d: str) -> list[dict]:
    seed, scen = cascade.load(d)
    fls, ps = parentside.all_pages(scen)
    by: dict = {}
    for p in ps:
        by.setdefault((p["scenario"], p["comp"]), []).append(p)
    out = []
    for p in ps:
        if p["cls"] != "ctx":
            continue
        comps = scen[p["scenario"]]
        c = comps[p["comp"]]
        a = p["a"]
        terms = c.rows[a][6]
        own = sum(v for k, v in terms.items() if k != "context")
        par = []
        for q in c.parents:
            pq = comps[q]
            k = int(np.searchsorted(pq.gi, c.gi[a], "left")) - 1
            if k < 0:
                continue
            mine = [x for x in by.get((p["scenario"], q), []) if x["a"] <= k <= x["z"]]
            tag = ("T" if mine[0]["true"] else "F") if mine else "-"
            par.append({"p": q.split("/")[0], "risk": float(pq.risk[k]), "page": tag,
                        "named": named(pq.rows[k][5]), "stood": stood_run(pq, k),
                        "fail": bool(pq.fail[k]), "base": pq.rows[k][4]})
        out.append({**p, "seed": seed, "cterm": terms.get("context", 0.0), "own": own,
                    "own_named": named(c.rows[a][5]), "age": ctx_age(c, a),
                    "base": c.rows[a][4], "parents": par})
    return out


def main(d: str) -> None:
    for r in sorted(rows_for(d), key=lambda r: (r["true"], r["scenario"], r["comp"], r["min"])):
        b = r["base"]
        own_ev = " ".join(f"{k}={v:.2f}" for k, v in b.items() if k != "context" and v)
        src = max(r["parents"], key=lambda x: x["risk"] if x["named"] else -1)
        ps = "; ".join(f"{x['p']} r{x['risk']:.2f} pg{x['page']} {','.join(x['named']) or '.'}"
                       f" st{x['stood']}" for x in r["parents"] if x["named"] or x["risk"] > 0.1)
        print(f"{'T' if r['true'] else 'F'} {r['scenario']:18} {r['comp']:16} m{r['min']:6.0f} "
              f"ctx {r['ctx']:.2f} (lo {r['cterm']:.2f}) own {r['own']:+.2f} "
              f"[{own_ev or '-'}] {','.join(r['own_named']) or '.'} age {r['age']:2} "
              f"hot {r['hot']:2} | {ps or '-'}")
        del src


if __name__ == "__main__":
    main(sys.argv[1])
