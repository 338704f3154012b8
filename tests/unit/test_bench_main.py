"""``python -m streams.bench``'s sections find the benchmarks they run (mypy found the ingest
section importing ``bench_ingest`` from a module that has none: the section always failed)."""

from __future__ import annotations

import importlib
import inspect
import re

import pytest

import streams.bench.ingest
from streams.bench import main


def test_ingest_section_runs_the_ingest_benchmark_per_format(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[str, int]] = []

    def one_run(fmt: str, messages: int) -> dict[str, float]:  # the broker run, not under test
        calls.append((fmt, messages))
        return {"messages_s": float(len(calls))}

    monkeypatch.setattr(streams.bench.ingest, "bench_ingest", one_run)
    out = main.section_ingest(3)
    assert set(out) == {"telegraf", "prometheus", "otlp-json", "vector"}
    assert len(calls) == 12
    assert out["telegraf"] == {"messages_s": 2.0}  # median of runs 1, 2, 3
    assert dict(calls)["otlp-json"] == 5_000


def test_every_optional_section_names_a_benchmark_that_exists() -> None:
    source = inspect.getsource(main)
    named = re.findall(r'_optional\("([\w.]+)", "(\w+)"', source)
    assert len(named) >= 8
    for module, fn in named:
        assert callable(getattr(importlib.import_module(module), fn)), f"{module}.{fn}"
