"""Shared by this folder's scripts: round eight's helpers (``docs/analysis/s19-nab/common.py``:
the NAB subset, the novelty's raw scores, leave-one-category-out under NAB's protocol), the
default's suppressor, and an optional cache of raw scores. Run from the repository root with
``PYTHONPATH=.``."""
import importlib.util
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from processors.univariate import Suppressor
from streams.lab.scoring.nab import rest_rows

_spec = importlib.util.spec_from_file_location(
    "s19_common", Path(__file__).parent.parent / "s19-nab" / "common.py")
assert _spec is not None and _spec.loader is not None
_s19 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_s19)
corpus, cv, line, print_folds, raw_scores = (
    _s19.corpus, _s19.cv, _s19.line, _s19.print_folds, _s19.raw_scores)


def cached_raw(tag: str, values: Mapping[str, Any], **params: Any) -> dict[str, np.ndarray]:
    """:func:`raw_scores`; kept as ``<dir>/raw-<tag>.npz`` between runs when the environment
    names a scratch folder in ``NAB_RAW_CACHE`` (delete it after changing the detector)."""
    folder = os.environ.get("NAB_RAW_CACHE")
    path = os.path.join(folder, f"raw-{tag}.npz") if folder else None
    if path and os.path.exists(path):
        with np.load(path) as z:
            return {n: z[n] for n in values}
    out: dict[str, np.ndarray] = raw_scores(values, **params)
    if path:
        np.savez(path, **out)
    return out


def suppress(raw: np.ndarray, hold: bool = True) -> np.ndarray:
    """The detector's suppressor over one file's raw scores (rest: NAB's probation / 5)."""
    sup = Suppressor(rest_rows(raw.size), 0.75, hold)
    return np.array([sup.step(float(x)) for x in raw])
