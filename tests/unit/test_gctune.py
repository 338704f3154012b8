"""The worker process's garbage collector setting (``streams/runtime/gctune.py``)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.runtime.faustapp import faust_app
from streams.settings import Settings


@pytest.fixture
def thresholds() -> Iterator[tuple[int, ...]]:
    before = gc.get_threshold()
    yield before
    gc.set_threshold(*before)


def test_the_worker_app_sets_the_youngest_generation_from_the_settings(
    tmp_path: Path, thresholds: tuple[int, ...]
) -> None:
    faust_app(Settings(data_dir=str(tmp_path), worker_gc_gen0=12_345))
    assert gc.get_threshold() == (12_345, *thresholds[1:])


def test_zero_keeps_pythons_setting(tmp_path: Path, thresholds: tuple[int, ...]) -> None:
    gc.set_threshold(700, 10, 10)
    faust_app(Settings(data_dir=str(tmp_path), worker_gc_gen0=0))
    assert gc.get_threshold() == (700, 10, 10)


def test_the_default_is_read_from_the_environment(thresholds: tuple[int, ...]) -> None:
    assert Settings.load(env={}).worker_gc_gen0 == 10_000
    assert Settings.load(env={"FOREWARN_WORKER_GC_GEN0": "0"}).worker_gc_gen0 == 0
