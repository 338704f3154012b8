"""``FOREWARN_BACKEND`` and ``FOREWARN_BACKEND_OPTIONS`` → the actuator's backend."""

from __future__ import annotations

import pytest

from actuators.backends.dryrun import DryRunBackend
from schemas.errors import ConfigError
from streams.runtime.actuator import BACKENDS, make_backend
from streams.settings import Settings


def test_dryrun_owns_the_configured_hosts() -> None:
    backend = make_backend(Settings(backend="dryrun", owned="web-*,db-1"))
    assert isinstance(backend, DryRunBackend)
    assert backend.ownership.hosts == ("web-*", "db-1")


@pytest.mark.parametrize(
    ("settings", "match"),
    [
        (Settings(backend="chaos"), "unknown backend 'chaos'; known: dryrun"),
        (Settings(backend="simulator"), "only inside `forewarn run`"),
        (Settings(backend="dryrun", backend_options='{"x": 1}'), "takes no options"),
    ],
)
def test_bad_backend_settings_are_config_errors(settings: Settings, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        make_backend(settings)


@pytest.mark.parametrize("name", sorted(set(BACKENDS) - {"dryrun"}))
def test_every_backend_refuses_unknown_options_by_name(name: str) -> None:
    with pytest.raises(ConfigError, match="no_such_option"):
        make_backend(Settings(backend=name, backend_options='{"no_such_option": 1}'))
