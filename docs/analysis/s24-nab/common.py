"""Shared by this folder's scripts: round ten's helpers (``docs/analysis/s21-nab/common.py``, as round eleven's:
the NAB subset, the novelty's raw scores and their cache, leave-one-category-out under NAB's
protocol) and the default's suppressor (``hold`` with the record-gap confirmation,
``anomaly_confirm``). Run from the repository root with ``PYTHONPATH=.``."""
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from processors.noveltyconfirm import ConfirmingSuppressor
from streams.lab.scoring.nab import rest_rows


def load(name: str, path: str) -> Any:
    """A module of another round's folder (``path`` under ``docs/analysis``), as ``name``."""
    spec = importlib.util.spec_from_file_location(name, Path(__file__).parent.parent / path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_s21 = load("s21_common", "s21-nab/common.py")
# (the names round nine's ``loss.py`` imports from ``common``, defined before it loads)
cached_raw, corpus, cv, line, print_folds, suppress = (
    _s21.cached_raw, _s21.corpus, _s21.cv, _s21.line, _s21.print_folds, _s21.suppress)
DATA = _s21.DATA
file_loss = load("s20_loss", "s20-nab/loss.py").file_loss


def default(raw: np.ndarray) -> np.ndarray:
    """The default's suppressor (s23: ``hold``, a partial onset within the series' longest
    gap confirmed within a rest; rest = NAB's probation / 5) over one file's raw scores."""
    rest = rest_rows(raw.size)
    sup = ConfirmingSuppressor(rest, 0.75, rest, 3, record=True)
    return np.array([sup.step(float(x)) for x in raw])
