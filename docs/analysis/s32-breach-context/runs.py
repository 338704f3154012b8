"""The source parents' concern over a context page's first windows (s32, issue #15): ``python
runs.py DIR``. Per ``ctxpages.py`` page: the lead to the child's next breach, its windows at
risk >= 1/3 (``#``) and, per parent with a concern, ``st`` at each of the page's first 25
windows (consecutive windows with a named metric; 99: the parent pages)."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ctxpages as cp  # noqa: E402,I001
import cascade  # noqa: E402
from cascade import THR  # noqa: E402


def main(d: str) -> None:
    _, scen = cascade.load(d)
    for r in sorted(cp.rows_for(d), key=lambda r: (r["true"], r["scenario"], r["comp"],
                                                    r["min"])):
        comps = scen[r["scenario"]]
        c, a, z = comps[r["comp"]], r["a"], r["z"]
        end = min(z + 1, a + 25)
        out = []
        for q in c.parents:
            pq = comps[q]
            seq = []
            for i in range(a, end):
                k = int(np.searchsorted(pq.gi, c.gi[i], "left")) - 1
                seq.append(99 if pq.alarm[k] else cp.stood_run(pq, k))
            if max(seq) > 0:
                out.append(f"{q.split('/')[0]}:{','.join(str(s) for s in seq)}")
        br = c.breaches[c.breaches >= c.ts[a]]
        lead = (br[0] - c.ts[a]) / 6e4 if br.size else -1
        hot = "".join("#" if x >= THR else "." for x in c.risk[a:end])
        print(f"{'T' if r['true'] else 'F'} {r['scenario'][:12]:12} {r['comp'][:10]:10} "
              f"m{r['min']:5.0f} z-a {z - a:3} lead {lead:5.1f} hot {hot} | {' '.join(out)}")


if __name__ == "__main__":
    main(sys.argv[1])
