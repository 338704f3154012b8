"""Preference records as ``forewarn prefs`` builds them."""

from __future__ import annotations

import pytest

from schemas.codec import Codec
from schemas.errors import ConfigError
from streams.runtime.prefs import make_preference, parse_maxima


def test_new_selector_gets_defaults_and_round_trips_the_contract() -> None:
    rec = make_preference("db-*", 7, criticality=9, maxima={"MEMORY_HIGH": 8192})
    assert rec == {"selector": "db-*", "ts": 7, "criticality": 9, "allowed_resources": None,
                   "maxima": {"MEMORY_HIGH": 8192.0}, "paused": False}
    codec = Codec()
    assert codec.decode(codec.encode("Preference", rec))[1] == rec


def test_set_changes_only_the_given_fields() -> None:
    first = make_preference("web-3/app", 1, criticality=8, allow=["CPU_WEIGHT"])
    paused = make_preference("web-3/app", 2, first, paused=True)
    assert paused == {**first, "ts": 2, "paused": True}
    assert make_preference("web-3/app", 3, paused, allow=[])["allowed_resources"] is None


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"criticality": 11}, "outside 0..10"),
        ({"allow": ["GPU"]}, "unknown resources \\['GPU'\\]"),
        ({"maxima": {"CPU_WEIGHT": -1.0}}, "must be >= 0"),
    ],
)
def test_bad_preferences_are_refused(kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        make_preference("x", 0, **kwargs)


def test_maxima_pairs() -> None:
    assert parse_maxima(["MEMORY_HIGH=8192", "REPLICAS=3"]) == {"MEMORY_HIGH": 8192.0,
                                                               "REPLICAS": 3.0}
    with pytest.raises(ConfigError, match="RESOURCE=AMOUNT"):
        parse_maxima(["MEMORY_HIGH"])
