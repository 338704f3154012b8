"""Shared by this folder's scripts: round ten's helpers (``docs/analysis/s21-nab/common.py``:
the NAB subset, the novelty's raw scores and their cache, leave-one-category-out under NAB's
protocol, the default's suppressor). Run from the repository root with ``PYTHONPATH=.``."""
import importlib.util
from pathlib import Path
from typing import Any


def load(name: str, path: str) -> Any:
    """A module of another round's folder (``path`` under ``docs/analysis``), as ``name``."""
    spec = importlib.util.spec_from_file_location(name, Path(__file__).parent.parent / path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_s21 = load("s21_common", "s21-nab/common.py")
# (the names of round ten's ``common`` its scripts import, so that they load from here too)
cached_raw, corpus, cv, horizon, line, print_folds, suppress = (
    _s21.cached_raw, _s21.corpus, _s21.cv, _s21.horizon, _s21.line, _s21.print_folds,
    _s21.suppress)
DATA = _s21.DATA
file_loss = load("s20_loss", "s20-nab/loss.py").file_loss
