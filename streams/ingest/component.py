"""Which component (the Kafka key of forewarn.metrics) a point's tags name, and its host."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

HOST_ALIASES = ("host", "hostname", "instance", "host.name", "service.instance.id")
SERVICE_ALIASES = ("service", "service.name", "job", "container", "container_name")
# Values of a service alias that name a host-metrics collector, not a service on the host
# (Prometheus' job="node" would otherwise make every node_exporter series "web-17/node").
COLLECTOR_JOBS = frozenset(
    {"node", "node_exporter", "node-exporter", "nodeexporter", "telegraf", "hostmetrics",
     "host_metrics", "otelcol", "otel-collector", "vector", "windows_exporter"}
)
# Tags that describe where a series comes from rather than which series it is: they go to
# the sample's tags, never into metric names.
CONTEXT_TAGS = frozenset(
    {"job", "instance", "region", "zone", "az", "availability_zone", "dc", "datacenter",
     "cluster", "env", "environment", "collector", "prometheus", "prometheus_replica",
     "replica", "source_type", "__name__"}
)

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


def strip_port(instance: str) -> str:
    """"web-17:9100" → "web-17", "[2001:db8::1]:9100" → "2001:db8::1"; bare IPv6 kept."""
    if instance.startswith("["):
        end = instance.find("]")
        return instance[1:end] if end > 0 else instance
    host, sep, port = instance.rpartition(":")
    if sep and port.isascii() and port.isdigit() and ":" not in host:
        return host
    return instance


@dataclass(frozen=True)
class ComponentRule:
    """How a point's tags name its component (the Kafka key of forewarn.metrics).

    ``template`` is tried first, then each of ``fallbacks``; the first whose placeholders
    all resolve to non-empty values wins. A placeholder is a tag name (``{container_name}``,
    ``{k8s.pod.name}``) or an alias:

    * ``{host}`` ← host | hostname | instance (":port" stripped) | host.name | service.instance.id
    * ``{service}`` ← service | service.name | job | container | container_name, skipping
      values that name a host-metrics collector (job="node", "telegraf", …: ``collector_jobs``)

    The sample's ``host`` is the ``{host}`` alias (else the component's first "/" part).
    The default, ``{host}/{service}`` falling back to ``{host}``, gives ``web-17`` for host
    metrics and ``web-17/postgres`` for a service's.

    >>> ComponentRule().resolve({"instance": "web-17:9100", "job": "node"})
    ('web-17', 'web-17')
    >>> ComponentRule().resolve({"host.name": "web-17", "service.name": "checkout"})
    ('web-17/checkout', 'web-17')
    """

    template: str = "{host}/{service}"
    fallbacks: tuple[str, ...] = ("{host}",)
    aliases: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: {"host": HOST_ALIASES, "service": SERVICE_ALIASES}
    )
    collector_jobs: frozenset[str] = COLLECTOR_JOBS
    # set by __post_init__: each template as (pieces, names)
    _compiled: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = field(
        init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fallbacks", tuple(self.fallbacks))
        templates = (self.template, *self.fallbacks)
        # each template as (pieces, names): pieces alternate literal text and placeholder
        compiled = tuple((tuple(_PLACEHOLDER.split(t)), tuple(_PLACEHOLDER.findall(t)))
                         for t in templates)
        for t, (_, names) in zip(templates, compiled, strict=True):
            if not names:
                raise ValueError(f"component template {t!r} has no {{placeholder}}")
        object.__setattr__(self, "_compiled", compiled)
        keys: set[str] = set()
        for _, names in compiled:
            for name in names:
                keys.update(self.aliases.get(name, (name,)))
        keys.update(self.aliases.get("host", ()))
        object.__setattr__(self, "identity_keys", frozenset(keys))

    identity_keys: frozenset[str] = field(init=False, repr=False, compare=False)

    def lookup(self, name: str, tags: Mapping[str, str]) -> str | None:
        keys = self.aliases.get(name)
        if keys is None:
            v = tags.get(name)
            return v if isinstance(v, str) and v else None
        for key in keys:
            v = tags.get(key)
            if not isinstance(v, str) or not v:
                continue
            if key == "instance":
                v = strip_port(v)
            if name == "service" and v.lower() in self.collector_jobs:
                continue
            return v
        return None

    def resolve(self, tags: Mapping[str, str]) -> tuple[str, str] | None:
        """(component, host) for these tags, or None when no template resolves."""
        for pieces, names in self._compiled:
            values = {}
            for name in names:
                v = self.lookup(name, tags)
                if v is None:
                    break
                values[name] = v
            else:
                component = "".join(
                    values[x] if i % 2 else x for i, x in enumerate(pieces)
                )
                host = values.get("host") or self.lookup("host", tags)
                return component, host or component.split("/", 1)[0]
        return None
