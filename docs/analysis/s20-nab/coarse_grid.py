"""Every label-chosen parameter held out for ``hold`` with the coarse resolution: the grid of
96 (``NOVELTY_HOLD_GRID``) × ``coarse`` 0 (off: the default), 4, 2, 3, 8 = 480, scored with the
folds choosing ``coarse`` too; and the subsets ``coarse`` 0 only (the default's grid, 96) and
``coarse`` 4, 2, 3, 8 only (384, the ``novelty-coarse`` grid with ``hold``). NAB's protocol
(``select_on="standard"``). ``PYTHONPATH=. python docs/analysis/s20-nab/coarse_grid.py
[OUT.json]``."""
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import corpus, cv, line, print_folds, raw_scores, suppress  # noqa: E402

from streams.lab.grids import NOVELTY_HOLD_GRID, expand  # noqa: E402

RAW = ("warm", "order", "margin", "s_lo", "s_hi", "coarse")


def main() -> None:
    c, values = corpus()
    configs = expand({**NOVELTY_HOLD_GRID, "coarse": (0, 4, 2, 3, 8)})
    scores: dict[tuple[Any, ...], dict[str, np.ndarray]] = {}
    for i, cfg in enumerate(configs):
        key = tuple(cfg[k] for k in RAW)
        if key not in scores:
            raw = raw_scores(values, **{k: cfg[k] for k in RAW})
            scores[key] = {n: suppress(r).astype(np.float32) for n, r in raw.items()}
        if i % 48 == 0:
            print(f"{i}/{len(configs)}", flush=True)

    def scores_of(cfg: dict[str, Any]) -> dict[str, np.ndarray]:
        return {n: s.astype(np.float64) for n, s in scores[tuple(cfg[k] for k in RAW)].items()}

    out = {}
    for name, cs in (("off", (0,)), ("on", (4, 2, 3, 8)), ("both", (0, 4, 2, 3, 8))):
        chosen = [cfg for k in cs for cfg in configs if cfg["coarse"] == k]  # default first
        res = cv(c, chosen, scores_of)
        print(line(f"coarse {name} ({len(chosen)})", res))
        print_folds(res, RAW)
        out[name] = {p: r.as_dict() for p, r in res.items()}
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(json.dumps(out, indent=1, sort_keys=True, default=str))


if __name__ == "__main__":
    main()
