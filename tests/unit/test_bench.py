"""The benchmarks' own code runs (on tiny inputs): a benchmark that crashes reports nothing."""

from __future__ import annotations

from streams.bench.replay import bench_replay


def test_bench_replay_returns_rates() -> None:
    rates = bench_replay(0.3, warm_steps=5, steps=20)
    assert set(rates) == {"replay_samples_s", "handler_samples_s", "pipeline_samples_s"}
    assert all(v > 0 for v in rates.values())
