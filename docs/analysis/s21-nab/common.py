"""Shared by this folder's scripts: round nine's helpers (``docs/analysis/s20-nab/common.py``:
the NAB subset, the novelty's raw scores and their cache, leave-one-category-out under NAB's
protocol) and the default's suppressor or, with ``confirm``, the confirming one. Run from the
repository root with ``PYTHONPATH=.``."""
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from processors.noveltyconfirm import ConfirmingSuppressor
from processors.univariate import Suppressor
from streams.lab.scoring.nab import rest_rows


def load(name: str, path: str) -> Any:
    """A module of another round's folder (``path`` under ``docs/analysis``), as ``name``."""
    spec = importlib.util.spec_from_file_location(name, Path(__file__).parent.parent / path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_s20 = load("s20_common", "s20-nab/common.py")
cached_raw, corpus, cv, line, print_folds, raw_scores = (
    _s20.cached_raw, _s20.corpus, _s20.cv, _s20.line, _s20.print_folds, _s20.raw_scores)
DATA = _s20._s19.DATA


def horizon(h: Any, rows: int) -> int:
    """A ``confirm`` horizon: an int, or ``"rest"`` (NAB's probation / 5 of the file), or
    ``"rest/4"``."""
    if h == "rest":
        return rest_rows(rows)
    if h == "rest/4":
        return max(1, rest_rows(rows) // 4)
    return int(h)


def suppress(raw: np.ndarray, confirm: Any = 0, hold: bool = True, quiet: float = 10.0
             ) -> np.ndarray:
    """The detector's suppressor (rest: NAB's probation / 5) over one file's raw scores,
    with ``confirm`` (a horizon: :func:`horizon`) and ``quiet`` the confirming one (``hold``)."""
    rest = rest_rows(raw.size)
    sup = ConfirmingSuppressor(rest, 0.75, horizon(confirm, raw.size), 3, quiet) if confirm \
        else Suppressor(rest, 0.75, hold)
    return np.array([sup.step(float(x)) for x in raw])
