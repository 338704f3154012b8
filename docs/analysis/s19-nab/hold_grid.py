"""Every label-chosen parameter held out, with and without ``hold``: the novelty grid of 96
(``streams.lab.grids.NOVELTY_GRID``) with the suppressor's ``hold`` off (the default's grid),
on (the ``novelty-hold`` grid) and both (192: the folds choose ``hold`` too). The raw novelty
is computed once per raw configuration. ``PYTHONPATH=. python docs/analysis/s19-nab/
hold_grid.py [OUT.json]``; ``python -m streams.lab.cv nab --data ../shared/data/nab
--detector novelty-hold --select-on standard`` gives the second alone."""
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import corpus, cv, line, print_folds, raw_scores  # noqa: E402

from processors.univariate import Suppressor  # noqa: E402
from streams.lab.grids import NOVELTY_GRID, expand  # noqa: E402
from streams.lab.scoring.nab import rest_rows  # noqa: E402

RAW = ("warm", "order", "margin", "s_lo", "s_hi")


def suppress(raw: np.ndarray, hold: bool) -> np.ndarray:
    """The detector's suppressor over one file's raw scores (rest: NAB's probation / 5)."""
    sup = Suppressor(rest_rows(raw.size), 0.75, hold)
    return np.array([sup.step(float(x)) for x in raw])


def main() -> None:
    c, values = corpus()
    configs = expand({**NOVELTY_GRID, "hold": (False, True)})
    scores: dict[tuple[Any, ...], dict[str, np.ndarray]] = {}
    for cfg in configs:
        key = tuple(cfg[k] for k in RAW)
        if (*key, False) not in scores:
            raw = raw_scores(values, **{k: cfg[k] for k in RAW})
            for hold in (False, True):
                scores[(*key, hold)] = {n: suppress(r, hold) for n, r in raw.items()}

    def scores_of(cfg: dict[str, Any]) -> dict[str, np.ndarray]:
        return scores[(*(cfg[k] for k in RAW), cfg["hold"])]

    out = {}
    for name, holds in (("off", (False,)), ("on", (True,)), ("both", (False, True))):
        chosen = [cfg for h in holds for cfg in configs if cfg["hold"] == h]  # default first
        res = cv(c, chosen, scores_of)
        print(line(f"hold {name} ({len(chosen)})", res))
        print_folds(res, (*RAW, "hold"))
        out[name] = {p: r.as_dict() for p, r in res.items()}
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(json.dumps(out, indent=1, sort_keys=True, default=str))


if __name__ == "__main__":
    main()
