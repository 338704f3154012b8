"""Settings: read once at the entry point into one frozen object and passed down.

Sources, later wins: built-in defaults, a TOML file (``--config`` or ``FOREWARN_CONFIG``), then
environment variables ``FOREWARN_<FIELD>`` (upper case, e.g. ``FOREWARN_BOOTSTRAP_SERVERS``).
Nothing here runs at import time.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from schemas.errors import ConfigError

ENV_PREFIX = "FOREWARN_"


@dataclass(frozen=True)
class Settings:
    """Everything a forewarn process needs to know, with defaults for the embedded broker."""

    bootstrap_servers: str = "127.0.0.1:9092"
    topic_prefix: str = "forewarn."
    registry_url: str = ""
    wire_format: str = "avro"  # avro | confluent | json (what we write; reading takes all)
    partitions: int = 3
    replication_factor: int = 1
    worker_group: str = "forewarn-processors"
    actuator_group: str = "forewarn-actuators"
    session_timeout_ms: int = 6000  # Tansu holds a join for about half of this
    # modelling
    window_s: int = 60
    lateness_s: int = 30
    horizon_s: int = 900
    health_rules: str = ""  # path to a TOML rule file; empty: built-in defaults
    # "component=dependency" pairs, comma-separated: a dependency's state informs the risk of
    # the components that depend on it (both must be on one worker: key them to one partition)
    dependencies: str = ""
    # model state checkpoints (forewarn.checkpoints)
    checkpoint_every_messages: int = 500
    checkpoint_every_s: int = 900  # event time
    checkpoint_max_replay: int = 10_000  # re-send a quiet component's state this far behind
    # bad input and floods (docs/reliability.md): a sample stamped further ahead of / behind
    # the worker's wall clock is dead-lettered alone (a simulated fleet whose time runs ahead
    # of the wall clock needs max_future_s = 0); at most max_components states are held
    # (the least recently seen is checkpointed and evicted), and one unseen for evict_idle_s
    # of event time is checkpointed and evicted; 0 turns each off
    max_future_s: int = 3600
    max_past_s: int = 0  # off: backfills of old data are legitimate
    max_components: int = 50_000
    evict_idle_s: int = 6 * 3600
    # a secured cluster (streams/security.py, docs/security.md); secrets are never shown
    security_protocol: str = "PLAINTEXT"  # PLAINTEXT | SSL | SASL_PLAINTEXT | SASL_SSL
    sasl_mechanism: str = ""  # PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512
    sasl_username: str = ""
    sasl_password: str = dataclasses.field(default="", repr=False)
    sasl_password_file: str = ""
    ssl_ca_location: str = ""
    ssl_certificate_location: str = ""
    ssl_key_location: str = ""
    ssl_key_password: str = dataclasses.field(default="", repr=False)
    ssl_key_password_file: str = ""
    ssl_check_hostname: str = "true"  # false: skip the broker host name check
    # allocation
    risk_threshold: float = 0.6
    backend: str = "dryrun"  # dryrun | linux | kubernetes | aws (simulator: inside `run`)
    # the backend's own options as a JSON object; a TOML file may give a [backend_options] table
    backend_options: str = ""
    owned: str = "*"  # comma-separated globs of hosts/components this actuator may act on
    # operations
    worker_web_port: int = 0  # 0: Faust's web server off
    metrics_port: int = 0  # Prometheus exporter port; 0: off
    metrics_host: str = "127.0.0.1"  # the exporter's bind address (0.0.0.0: every interface)
    # the HTTP API and dashboard (`forewarn api`, started by `forewarn run`)
    api_host: str = "127.0.0.1"
    api_port: int = 8080
    # bearer tokens, "name:role:secret,..." (role read or write); empty: open, loopback only
    api_tokens: str = dataclasses.field(default="", repr=False)
    api_max_series: int = 500  # components with per-component Prometheus series, at most
    log_level: str = "INFO"
    data_dir: str = ".forewarn"

    def topic(self, name: str) -> str:
        """The full topic name for a catalog name (``risk`` → ``forewarn.risk``)."""
        return f"{self.topic_prefix}{name}"

    @classmethod
    def load(
        cls,
        env: Mapping[str, str] | None = None,
        config_path: str | os.PathLike[str] | None = None,
        **overrides: Any,
    ) -> Settings:
        """Defaults ← TOML file ← environment ← explicit overrides."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        path = config_path or env.get(f"{ENV_PREFIX}CONFIG")
        if path:
            try:
                data = tomllib.loads(Path(path).read_text())
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise ConfigError(f"config file {path}: {exc}") from exc
            values.update(data.get("forewarn", data))
            if isinstance(values.get("backend_options"), Mapping):  # a TOML table
                values["backend_options"] = json.dumps(values["backend_options"])
        for f in fields(cls):
            key = f"{ENV_PREFIX}{f.name.upper()}"
            if key in env:
                values[f.name] = env[key]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls._coerce(values)

    @classmethod
    def _coerce(cls, values: Mapping[str, Any]) -> Settings:
        known = {f.name: f for f in fields(cls)}
        out: dict[str, Any] = {}
        for name, raw in values.items():
            if name not in known:
                raise ConfigError(
                    f"unknown setting {name!r}; known: {', '.join(sorted(known))}"
                )
            kind = type(known[name].default)
            try:
                out[name] = kind(raw) if not isinstance(raw, kind) else raw
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"setting {name}={raw!r}: expected {kind.__name__}") from exc
        settings = cls(**out)
        if settings.wire_format not in ("avro", "confluent", "json"):
            raise ConfigError(
                f"wire_format={settings.wire_format!r}: use avro, confluent or json"
            )
        if settings.partitions < 1:
            raise ConfigError("partitions must be at least 1")
        from streams.security import KafkaSecurity

        KafkaSecurity.from_settings(settings, env={})  # one clear ConfigError if inconsistent
        return settings

    def dependency_pairs(self) -> tuple[tuple[str, str], ...]:
        """``dependencies`` parsed: ``(component, dependency)`` pairs."""
        pairs = []
        for item in (x.strip() for x in self.dependencies.split(",")):
            if not item:
                continue
            comp, sep, dep = (x.strip() for x in item.partition("="))
            if not sep or not comp or not dep:
                raise ConfigError(f"dependencies: {item!r} is not component=dependency")
            pairs.append((comp, dep))
        return tuple(pairs)

    def backend_options_map(self) -> dict[str, Any]:
        """``backend_options`` parsed: a JSON object (empty when unset)."""
        if not self.backend_options.strip():
            return {}
        try:
            parsed = json.loads(self.backend_options)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"backend_options is not valid JSON: {exc}") from exc
        if not isinstance(parsed, dict):
            raise ConfigError(
                f"backend_options must be a JSON object, got {type(parsed).__name__}"
            )
        return parsed

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)
