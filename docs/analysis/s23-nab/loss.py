"""Round nine's loss table (``docs/analysis/s20-nab/loss.py``) for the confirmed partial onset
with ``quiet`` from the series' longest gap (``record``; any novelty, the file's rest; threshold
only): where the held-out loss is left (``docs/modelling.md``, "NAB round eleven").
``PYTHONPATH=. python docs/analysis/s23-nab/loss.py [standard|reward_low_FP_rate]``."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import load  # noqa: E402

from processors.noveltyconfirm import ConfirmingSuppressor  # noqa: E402
from streams.lab.scoring.nab import rest_rows  # noqa: E402


def recordgap(raw: np.ndarray) -> np.ndarray:
    rest = rest_rows(raw.size)
    sup = ConfirmingSuppressor(rest, 0.75, rest, 3, record=True)
    return np.array([sup.step(float(x)) for x in raw])


if __name__ == "__main__":
    load("s20_loss", "s20-nab/loss.py").main(recordgap)
