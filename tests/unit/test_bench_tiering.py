"""Issue #14: the two-tier state bench (``streams.bench.tiering``) runs the worker's eviction
and says whether the tiered pipeline's outputs equal the uncapped one's."""

from __future__ import annotations

from streams.bench.tiering import child_cpu, child_rss, feed


def test_the_feeds_are_round_robin_and_skewed_as_documented() -> None:
    assert list(feed("round_robin", 3, 2, 0.1, 30)) == [
        (0, 1), (1, 1), (2, 1), (0, 2), (1, 2), (2, 2)]
    # one hot component of four every tick; the other three each every second tick
    assert list(feed("skewed", 4, 2, 0.25, 2)) == [(0, 1), (1, 1), (3, 1), (0, 2), (2, 1)]


def test_tiered_outputs_equal_the_uncapped_ones_and_every_sample_unparks() -> None:
    args = ("round_robin", 12, 4, 2, 0.1, 30)
    kept, tiered = child_cpu("uncapped", *args), child_cpu("tiered", *args)
    assert kept["unparked"] == 0 and tiered["unparked"] == tiered["samples"] == 24
    assert tiered["dropped"] == 0 and kept["outputs"] > 0
    assert tiered["digest"] == kept["digest"]
    polled = child_cpu("tiered", *args, poll=8)  # as the batch worker runs them
    assert polled["unparked"] == 24 and polled["digest"] == kept["digest"]


def test_the_identity_check_sees_states_that_came_back_cold() -> None:
    args = ("round_robin", 12, 4, 2, 0.1, 30)
    kept, cold = child_cpu("uncapped", *args), child_cpu("tiered", *args, park_mb=0)
    assert cold["unparked"] == 0 and cold["dropped"] > 0
    assert cold["digest"] != kept["digest"]


def test_the_rss_child_holds_cap_states_and_parks_the_rest() -> None:
    got = child_rss(30, 10)
    assert (got["live"], got["parked"], got["dropped"]) == (10, 20, 0)
    assert 0 < got["parked_bytes_per_component"] < 20_000
