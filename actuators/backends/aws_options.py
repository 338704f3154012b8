"""The AWS Auto Scaling backend's options (``backend_options``, docs/backends/aws.md): which
group a component maps to (``groups`` keys or globs, else ``group_template``), and how the
client is made and behaves. Parsed once, every bad value named."""

from __future__ import annotations

import fnmatch
import math
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from actuators.backends.base import check_options
from schemas.errors import ConfigError

TEMPLATE_FIELDS = ("component", "host")
# the options backend_options may hold; docs/backends/aws.md has more on each
OPTIONS = (
    "region",  # AWS region (default: the boto3 chain, e.g. AWS_DEFAULT_REGION)
    "endpoint_url",  # e.g. moto or localstack (default: AWS's own)
    "groups",  # table of component id or glob -> ASG name
    "group_template",  # ASG name from {component} and {host}, when no key of groups matches
    "honor_cooldown",  # SetDesiredCapacity's HonorCooldown (default false)
    "raise_max",  # raise MaxSize for a grant over it, restore it on release (default false)
    "max_attempts",  # botocore attempts per call, retries included (default 3)
    "timeout_s",  # connect and read timeout per call (default 10)
    "client",  # a ready boto3 autoscaling client (tests), instead of CLIENT_OPTIONS
)
CLIENT_OPTIONS = ("region", "endpoint_url", "max_attempts", "timeout_s")


def _need(ok: bool, key: str, want: str, value: Any) -> None:
    if not ok:
        raise ConfigError(f"aws backend option {key!r} must be {want}, got {value!r}")


@dataclass(frozen=True)
class AwsOptions:
    """The backend's options, checked: where to find the groups and how to change them."""

    region: str | None = None
    endpoint_url: str | None = None
    groups: tuple[tuple[str, str], ...] = ()
    group_template: str | None = None
    honor_cooldown: bool = False
    raise_max: bool = False
    max_attempts: int = 3
    timeout_s: float = 10.0

    @classmethod
    def parse(cls, options: Mapping[str, Any]) -> AwsOptions:
        """Options from plain JSON-like values (the ``client`` key is not one of them)."""
        check_options("aws", options, OPTIONS)
        values: dict[str, Any] = {}
        for key in ("region", "endpoint_url", "group_template"):
            if options.get(key) is not None:
                value = options[key]
                _need(isinstance(value, str) and bool(value.strip()), key, "a non-empty string",
                      value)
                values[key] = value
        url = values.get("endpoint_url")
        if url is not None:
            _need(url.startswith(("http://", "https://")), "endpoint_url", "an http(s) URL", url)
        for key in ("honor_cooldown", "raise_max"):
            if key in options:
                _need(isinstance(options[key], bool), key, "true or false", options[key])
                values[key] = options[key]
        if "max_attempts" in options:
            value = options["max_attempts"]
            ok = isinstance(value, int) and not isinstance(value, bool) and value >= 1
            _need(ok, "max_attempts", "a whole number >= 1", value)
            values["max_attempts"] = value
        if "timeout_s" in options:
            value = options["timeout_s"]
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            _need(ok and math.isfinite(value) and value > 0, "timeout_s", "a number > 0", value)
            values["timeout_s"] = float(value)
        if options.get("groups") is not None:
            values["groups"] = _parse_groups(options["groups"])
        template = values.get("group_template")
        if template is not None:
            _check_template(template)
        if not values.get("groups") and template is None:
            raise ConfigError(
                "aws backend needs 'groups' (component id or glob -> ASG name) or "
                "'group_template' (e.g. \"{component}\") to find a component's group"
            )
        return cls(**values)

    def group_for(self, component: str, host: str) -> str | None:
        """The ASG of a component: an exact key of ``groups``, a glob in order, the template."""
        for key, group in self.groups:
            if key == component:
                return group
        for key, group in self.groups:
            if fnmatch.fnmatchcase(component, key):
                return group
        if self.group_template is not None:
            return self.group_template.format(component=component, host=host)
        return None


def _parse_groups(raw: Any) -> tuple[tuple[str, str], ...]:
    _need(isinstance(raw, Mapping), "groups", "a table of component id or glob -> ASG name",
          raw)
    pairs = []
    for key, group in raw.items():
        ok = isinstance(key, str) and bool(key) and isinstance(group, str) and bool(group)
        _need(ok, "groups", "non-empty strings on both sides", {key: group})
        pairs.append((key, group))
    return tuple(pairs)


def _check_template(template: str) -> None:
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise ConfigError(f"aws backend option 'group_template' {template!r}: {exc}") from exc
    bad = [n for n in names if n not in TEMPLATE_FIELDS]
    if bad:
        raise ConfigError(
            f"aws backend option 'group_template' {template!r} uses {', '.join(bad)!s}; "
            f"it may use {{component}} and {{host}} only"
        )
