"""What an actuator is made of besides its loop: which components it owns
(``FOREWARN_OWNED``) and which backend applies its commands (``FOREWARN_BACKEND``).

>>> owns = ownership("web-*,db-01/pg")
>>> owns("web-17/api"), owns("db-01/pg"), owns("db-01/redis"), host_of("web-17/api")
(True, True, False, 'web-17')
"""

from __future__ import annotations

import fnmatch
import importlib
from collections.abc import Callable

from actuators.backends.base import Backend
from actuators.backends.dryrun import DryRunBackend
from schemas.errors import ConfigError
from streams.settings import Settings


def host_of(component: str) -> str:
    """The host part of a component id: ``web-17/postgres`` → ``web-17``."""
    return component.split("/", 1)[0]


def owned_globs(owned: str) -> tuple[str, ...]:
    """``FOREWARN_OWNED`` as globs; ``*`` (or nothing) owns everything."""
    return tuple(g.strip() for g in owned.split(",") if g.strip() and g.strip() != "*")


def ownership(owned: str) -> Callable[[str], bool]:
    """Whether a component id is owned: its host or the id itself matches a glob.

    Each actuator's engine keeps one pool per host, so the hosts of a fleet must be split
    between actuators, not shared; and risk of components it does not own never reaches its
    engine (their clocks and pools are another actuator's business).
    """
    globs = owned_globs(owned)
    if not globs:
        return lambda component: True
    return lambda component: any(
        fnmatch.fnmatchcase(host_of(component), g) or fnmatch.fnmatchcase(component, g)
        for g in globs
    )


# FOREWARN_BACKEND → the class, imported only when chosen (each pulls in its own client).
BACKENDS = {
    "dryrun": "actuators.backends.dryrun:DryRunBackend",
    "linux": "actuators.backends.linux:LinuxBackend",
    "kubernetes": "actuators.backends.kubernetes:KubernetesBackend",
    "aws": "actuators.backends.aws:AwsAutoScalingBackend",
}


def make_backend(settings: Settings) -> Backend:
    """The configured backend, built from ``backend_options`` and owning ``owned``."""
    if settings.backend == "simulator":
        raise ConfigError("backend 'simulator' runs only inside `forewarn run`, beside its "
                          f"simulated fleet; standalone backends: {', '.join(BACKENDS)}")
    if settings.backend not in BACKENDS:
        raise ConfigError(f"unknown backend {settings.backend!r}; known: {', '.join(BACKENDS)}")
    module, _, name = BACKENDS[settings.backend].partition(":")
    try:
        cls = getattr(importlib.import_module(module), name)
    except ImportError as exc:
        extra = {"kubernetes": "kubernetes", "aws": "aws"}.get(settings.backend)
        hint = f" (pip install 'forewarn[{extra}]')" if extra else ""
        raise ConfigError(f"backend {settings.backend!r} cannot load: {exc}{hint}") from exc
    options = settings.backend_options_map()
    hosts = owned_globs(settings.owned)
    if cls is DryRunBackend:
        if options:
            raise ConfigError(f"the dryrun backend takes no options, got {sorted(options)}")
        return DryRunBackend(hosts=hosts)
    backend: Backend = cls.from_options(options, hosts=hosts)
    return backend
