"""Reference detectors: one contract suite for all, then each one's own behaviour."""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable

import numpy as np
import pytest

from streams.lab.detectors import (
    HSTDetector,
    NullDetector,
    RandomDetector,
    UnivariateDetector,
    WindowedGaussian,
    run_detector,
)

FACTORIES: dict[str, Callable[[], UnivariateDetector]] = {
    "null": NullDetector,
    "random": lambda: RandomDetector(seed=7),
    "gaussian": lambda: WindowedGaussian(window=40, step=5),
    "hst": lambda: HSTDetector(n_trees=3, height=4, window_size=20, seed=3),
}


def _series(n: int = 300, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.sin(np.arange(n) / 10.0) + 0.1 * rng.standard_normal(n)
    x[n // 2] += 5.0
    return x


@pytest.fixture(params=list(FACTORIES), ids=list(FACTORIES))
def factory(request: pytest.FixtureRequest) -> Callable[[], UnivariateDetector]:
    return FACTORIES[request.param]


def test_scores_lie_in_unit_interval(factory: Callable[[], UnivariateDetector]) -> None:
    scores = run_detector(factory(), _series())
    assert scores.shape == (300,)
    assert np.all((scores >= 0.0) & (scores <= 1.0))


def test_score_one_has_no_side_effects(factory: Callable[[], UnivariateDetector]) -> None:
    plain = run_detector(factory(), _series())
    det = factory()
    nosy = []
    for x in _series():
        first = det.score_one(x)
        assert det.score_one(x) == first
        det.score_one(x + 100.0)  # an unrelated probe must not leak into the state
        nosy.append(first)
        det.learn_one(x)
    assert np.array_equal(plain, np.asarray(nosy))


def test_deterministic(factory: Callable[[], UnivariateDetector]) -> None:
    assert np.array_equal(run_detector(factory(), _series()), run_detector(factory(), _series()))


def test_pickle_round_trip_mid_stream(factory: Callable[[], UnivariateDetector]) -> None:
    x = _series()
    det = factory()
    run_detector(det, x[:150])
    copy = pickle.loads(pickle.dumps(det))
    assert np.array_equal(run_detector(det, x[150:]), run_detector(copy, x[150:]))


def test_run_detector_scores_before_learning() -> None:
    # The first score is the untrained one: WindowedGaussian gives 0 before any value.
    assert run_detector(WindowedGaussian(window=4, step=1), [1.0, 2.0])[0] == 0.0
    assert run_detector(NullDetector(), []).shape == (0,)


def test_constructor_parameters_are_stored() -> None:
    assert RandomDetector(seed=5).seed == 5
    g = WindowedGaussian(window=10, step=2)
    assert (g.window, g.step) == (10, 2)
    h = HSTDetector(n_trees=4, height=5, window_size=30, seed=9)
    assert (h.n_trees, h.height, h.window_size, h.seed) == (4, 5, 30, 9)
    # River's defaults, as the plain-River baseline.
    assert (HSTDetector().n_trees, HSTDetector().height, HSTDetector().window_size) == (10, 8, 250)


def test_random_detector_is_uniform_and_seeded() -> None:
    a = run_detector(RandomDetector(seed=42), np.zeros(20_000))
    b = run_detector(RandomDetector(seed=43), np.zeros(20_000))
    assert abs(a.mean() - 0.5) < 0.01
    assert np.histogram(a, bins=10, range=(0, 1))[0].min() > 1800
    assert not np.array_equal(a, b)
    assert len(np.unique(a)) == a.size


def _nab_windowed_gaussian(values: np.ndarray, window: int, step: int) -> list[float]:
    """A line-by-line port of NAB's windowedGaussian_detector.handleRecord, for comparison."""
    data: list[float] = []
    buffer: list[float] = []
    mean, std = 0.0, 1.0
    out = []
    for x in values.tolist():
        score = 0.0
        if data:
            xp = 2 * mean - x if x < mean else x
            score = 1 - 0.5 * math.erfc(((xp - mean) / std) / math.sqrt(2))
        refit = False
        if len(data) < window:
            data.append(x)
            refit = True
        else:
            buffer.append(x)
            if len(buffer) == step:
                data = data[step:] + buffer
                buffer = []
                refit = True
        if refit:
            mean = float(np.mean(data))
            std = float(np.std(data)) or 0.000001
        out.append(score)
    return out


@pytest.mark.parametrize(("window", "step"), [(50, 5), (7, 7), (30, 1)])
def test_windowed_gaussian_matches_nab(window: int, step: int) -> None:
    x = _series(400, seed=1)
    ours = run_detector(WindowedGaussian(window=window, step=step), x)
    assert np.allclose(ours, _nab_windowed_gaussian(x, window, step), rtol=0, atol=1e-12)


def test_windowed_gaussian_flat_series_uses_tiny_std() -> None:
    det = WindowedGaussian(window=10, step=2)
    for _ in range(10):
        det.learn_one(3.0)
    assert det.score_one(3.0) == 0.5
    assert det.score_one(3.0 + 1e-5) > 0.99  # z = 10 with std 1e-6


def test_windowed_gaussian_rejects_bad_parameters() -> None:
    with pytest.raises(ValueError):
        WindowedGaussian(window=5, step=6)
    with pytest.raises(ValueError):
        WindowedGaussian(window=5, step=0)


def test_hst_scores_zero_in_first_window_then_flags_an_outlier() -> None:
    det = HSTDetector(seed=1, window_size=50)
    rng = np.random.default_rng(2)
    normal = 0.5 + 0.05 * rng.standard_normal(600)
    normal[0], normal[1] = 0.0, 1.0  # fix the scaling range early
    scores = run_detector(det, normal)
    assert np.all(scores[:50] == 0.0)
    typical = float(np.median(scores[100:]))
    assert det.score_one(0.98) > typical + 0.1
