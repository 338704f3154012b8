"""What a per-series threshold offset from NAB's probation (its first 15 % of rows) could read:
per file the rows, the probation, the raw onsets (raw >= 0.75) and non-zero raw rows in the
probation after ``warm`` (250), the onsets after it, and the default's false-alarm rows and
detected windows at the folds' threshold (0.525, standard). No variant was scored from it
(``docs/modelling.md``, "NAB round nine"). ``PYTHONPATH=. python docs/analysis/s20-nab/
probation.py``."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import cached_raw, corpus, suppress  # noqa: E402

from streams.lab.scoring.nab import rest_rows  # noqa: E402


def main() -> None:
    c, values = corpus()
    raw = cached_raw("default", values)
    for n in sorted(c.names):
        r, prep = raw[n], c._prep["standard"][n]
        p, s = prep.probation, suppress(raw[n])
        inside = np.zeros(r.size, bool)
        for a, b in prep.windows:
            inside[a : b + 1] = True
        det = s >= 0.525
        det[:p] = False
        on = r >= 0.75
        tp = sum(bool(det[a : b + 1].any()) for a, b in prep.windows)
        print(f"{n.split('/')[-1][:38]:38s} rows {r.size:5d} prob {p:4d} rest "
              f"{rest_rows(r.size):3d} onsets_prob {int(on[250:p].sum()):3d} nonzero_prob "
              f"{int((r[250:p] > 0).sum()):3d} onsets_after {int(on[p:].sum()):3d} FP "
              f"{int((det & ~inside).sum()):2d} TP {tp}/{len(prep.windows)}")


if __name__ == "__main__":
    main()
