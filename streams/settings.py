"""Settings: read once at the entry point into one frozen object and passed down.

Sources, later wins: built-in defaults, a TOML file (``--config`` or ``FOREWARN_CONFIG``), then
environment variables ``FOREWARN_<FIELD>`` (upper case, e.g. ``FOREWARN_BOOTSTRAP_SERVERS``).
Nothing here runs at import time.

Every knob of the core is a setting too: the ``[forewarn.engine]`` table and
``FOREWARN_ENGINE__<FIELD>`` variables set any field of ``actuators.config.EngineConfig``, the
``[forewarn.pipeline]`` table and ``FOREWARN_PIPELINE__<FIELD>`` any of
``processors.config.PipelineConfig`` (values in the environment are JSON where they are not
strings). Each value is checked against its field's type (pydantic) and the configs' own range
checks run when the settings are loaded, so ``risk_threshold = 7`` or an unknown knob stops the
process at start with one line naming it. :meth:`Settings.engine_config` and
:meth:`Settings.pipeline_config` build what the actuator and the worker run; the table of every
knob is ``docs/settings.md`` (generated: ``python -m streams.cli.knobs``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from schemas.errors import ConfigError

if TYPE_CHECKING:
    from actuators.config import EngineConfig
    from processors.config import PipelineConfig
    from schemas.codec import WireFormat

ENV_PREFIX = "FOREWARN_"
_FLAGS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False, "": False}


@dataclass(frozen=True)
class Settings:
    """Everything a forewarn process needs to know, with defaults for the embedded broker."""

    bootstrap_servers: str = "127.0.0.1:9092"
    topic_prefix: str = "forewarn."
    registry_url: str = ""
    wire_format: WireFormat = "avro"  # avro | confluent | json (what we write; reading takes all)
    partitions: int = 3
    replication_factor: int = 1
    worker_group: str = "forewarn-processors"
    actuator_group: str = "forewarn-actuators"
    # Tansu holds a join for about half of this; Apache Kafka refuses less than 6000
    # (group.min.session.timeout.ms) and holds no join
    session_timeout_ms: int = 6000
    # the worker runs the messages its fetcher has delivered, up to worker_batch, through the
    # pipeline together (the batch core, #14: the same outputs; it never waits for more);
    # 1: one message at a time (the per-message path)
    worker_batch: int = 64
    # the worker process's garbage collector runs its youngest generation every this many net
    # allocations (Python's default: 700; 0 keeps it): streams/runtime/gctune.py
    worker_gc_gen0: int = 10_000
    # true: the pure core runs from its sources even where `make compiled` built it with mypyc
    # (FOREWARN_PURE_PYTHON=1; the environment only: processors/__init__.py reads it on import)
    pure_python: bool = False
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
    # evicted components' last checkpoints kept in memory (~8 KB each against ~62 KB live),
    # restored from there when seen again; past it the oldest start cold (docs/state.md)
    park_mb: int = 1024
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
    # allocation. The alarm point: risk is a calibrated P(a new FAIL within horizon_s), so
    # acting pays when risk > 1 / (1 + miss_cost_ratio), the cost of a missed breach over that
    # of a false alarm (processors.calibration.alarm_threshold). risk_threshold > 0 overrides
    # it; 0 (the default) takes it from the ratio: 1/3. The release point moves with it.
    miss_cost_ratio: float = 2.0
    risk_threshold: float = 0.0
    backend: str = "dryrun"  # dryrun | linux | kubernetes | aws (simulator: inside `run`)
    # the backend's own options as a JSON object; a TOML file may give a [backend_options] table
    backend_options: str = ""
    # `forewarn actuate --sizing forewarn`: a fleet prior file (actuators/fleetprior.py; a JSON
    # of other components' pooled outcomes) each new component's memory histograms start from,
    # taken out over its first week; "builtin" (the default since session 25): the prior shipped
    # with forewarn, learnt on the Bitbrains subset; empty or "off": off (docs/closedloop.md,
    # session 25)
    sizing_fleet_prior: str = "builtin"
    owned: str = "*"  # comma-separated globs of hosts/components this actuator may act on
    # [forewarn.engine] / [forewarn.pipeline]: EngineConfig / PipelineConfig knobs, validated
    engine: tuple[tuple[str, Any], ...] = ()
    pipeline: tuple[tuple[str, Any], ...] = ()
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

    def __post_init__(self) -> None:
        from processors.calibration import alarm_threshold

        if not self.miss_cost_ratio > 0:
            raise ConfigError(f"miss_cost_ratio={self.miss_cost_ratio}: must be > 0")
        if not self.risk_threshold <= 1.0:
            raise ConfigError(f"risk_threshold={self.risk_threshold}: must be <= 1")
        if self.risk_threshold <= 0:  # resolved once; replace(miss_cost_ratio=...) keeps it
            object.__setattr__(self, "risk_threshold", alarm_threshold(self.miss_cost_ratio))

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
            if key in env and f.name not in KNOB_TABLES:
                values[f.name] = env[key]
        from_env = _env_knobs(env, values)
        for table in KNOB_TABLES:  # knobs given as arguments join those of file and env
            if isinstance(overrides.get(table), Mapping):
                overrides = {**overrides, table: {**(values.get(table) or {}),
                                                  **overrides[table]}}
        values.update({k: v for k, v in overrides.items() if v is not None})
        knobs = {t: _knobs(t, values.pop(t, None) or {}, from_env[t]) for t in KNOB_TABLES}
        _fold_aliases(values, knobs)
        settings = cls._coerce(values)
        settings = settings.replace(**{t: tuple(sorted(knobs[t].items())) for t in KNOB_TABLES})
        settings.engine_config()  # the configs' own checks, now: one clear error at start
        settings.pipeline_config()
        return settings

    @classmethod
    def _coerce(cls, values: Mapping[str, Any]) -> Settings:
        known = {f.name: f for f in fields(cls)}
        out: dict[str, Any] = {}
        for name, raw in values.items():
            if name not in known:
                raise ConfigError(
                    f"unknown setting {name!r}; known: {', '.join(sorted(known))}"
                )
            kind: type[Any] = type(known[name].default)  # every field has a default
            if kind is bool and isinstance(raw, str):  # bool("0") is True: read it as a flag
                if raw.strip().lower() not in _FLAGS:
                    raise ConfigError(f"setting {name}={raw!r}: expected 1 or 0, true or false")
                raw = _FLAGS[raw.strip().lower()]
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

    def engine_config(self) -> EngineConfig:
        """The allocation engine's config: every ``[forewarn.engine]`` knob given."""
        from actuators.config import EngineConfig
        from processors.calibration import release_threshold_for

        knobs = dict(self.engine)
        if "resources" in knobs:  # resources given replace those; the others keep defaults
            knobs["resources"] = {**EngineConfig().resources, **knobs["resources"]}
        knobs.setdefault("release_threshold", release_threshold_for(self.risk_threshold))
        try:
            return EngineConfig(**{"risk_threshold": self.risk_threshold, **knobs})
        except ConfigError as exc:
            raise ConfigError(f"[forewarn.engine] / FOREWARN_ENGINE__*: {exc}") from exc

    def pipeline_config(self) -> PipelineConfig:
        """The processing core's config: the modelling settings, then every
        ``[forewarn.pipeline]`` knob given."""
        from processors.config import PipelineConfig
        from processors.health import load_rules

        kwargs: dict[str, Any] = {
            "window_s": self.window_s,
            "lateness_s": self.lateness_s,
            "horizon_s": self.horizon_s,
            "alarm_threshold": self.risk_threshold,
            "dependencies": self.dependency_pairs(),
        }
        if self.health_rules:
            kwargs["rules"] = load_rules(self.health_rules)
        try:
            return PipelineConfig(**{**kwargs, **dict(self.pipeline)})
        except ConfigError as exc:
            raise ConfigError(f"[forewarn.pipeline] / FOREWARN_PIPELINE__*: {exc}") from exc

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

# -- the core's knobs: [forewarn.engine] / [forewarn.pipeline], FOREWARN_ENGINE__<FIELD> ------

KNOB_TABLES = ("engine", "pipeline")
# knobs that older top-level settings also set: the two are one knob, given once
ALIASES = {("engine", "risk_threshold"): "risk_threshold",
            ("pipeline", "alarm_threshold"): "risk_threshold",
            ("pipeline", "window_s"): "window_s", ("pipeline", "lateness_s"): "lateness_s",
            ("pipeline", "horizon_s"): "horizon_s"}
_CLASS_CHOICES = ("trailing-number", "component")  # EngineConfig.component_class by name
def knob_class(table: str) -> type:
    from actuators.config import EngineConfig
    from processors.config import PipelineConfig

    return EngineConfig if table == "engine" else PipelineConfig


def knob_fields(table: str) -> list[dataclasses.Field[Any]]:
    """The settable fields of ``EngineConfig`` (``engine``) or ``PipelineConfig``."""
    return [f for f in fields(knob_class(table)) if f.init]


def knob_hints(table: str) -> dict[str, Any]:
    import typing

    return typing.get_type_hints(knob_class(table))


def _component_class(name: object) -> Any:
    from actuators.config import default_component_class

    if name == "trailing-number":
        return default_component_class
    if name == "component":
        return str  # every component its own class
    raise ConfigError(f"[forewarn.engine] component_class={name!r}: use "
                      f"{' or '.join(_CLASS_CHOICES)}")


def _knob_value(table: str, name: str, raw: Any, from_env: bool) -> Any:
    """One knob's value, as its dataclass field's type; ConfigError naming it if it is not."""
    from pydantic import TypeAdapter
    from pydantic import ValidationError as PydanticError

    if table == "engine" and name == "component_class":
        return _component_class(raw)
    hint = knob_hints(table)[name]
    if from_env and hint is not str:
        try:  # numbers, booleans, null, lists and tables come as JSON
            raw = json.loads(raw)
        except json.JSONDecodeError:
            pass  # a bare word: a string
    try:
        return TypeAdapter(hint).validate_python(raw)
    except PydanticError as exc:
        problem = "; ".join(e["msg"] for e in exc.errors()[:3])
        where = f"FOREWARN_{table.upper()}__{name.upper()}" if from_env else \
            f"[forewarn.{table}] {name}"
        raise ConfigError(f"{where}={raw!r}: {problem}") from exc
    except ConfigError as exc:  # a nested value's own check (a health rule, a resource)
        raise ConfigError(f"[forewarn.{table}] {name}: {exc}") from exc


def _knobs(table: str, raw: object, env_names: frozenset[str]) -> dict[str, Any]:
    """A table's knobs, each checked against its field's type."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"[forewarn.{table}] must be a table of knobs, not {raw!r}")
    valid = [f.name for f in knob_fields(table)]
    out = {}
    for name, value in raw.items():
        if name not in valid:
            where = (f"FOREWARN_{table.upper()}__{name.upper()}" if name in env_names
                     else f"[forewarn.{table}] {name}")
            raise ConfigError(f"{where}: unknown knob; valid: {', '.join(valid)}")
        out[name] = _knob_value(table, name, value, name in env_names)
    return out


def _env_knobs(env: Mapping[str, str], values: dict[str, Any]) -> dict[str, frozenset[str]]:
    """``FOREWARN_ENGINE__<FIELD>`` and ``FOREWARN_PIPELINE__<FIELD>`` into ``values``; the
    knob names each table got from the environment."""
    got: dict[str, frozenset[str]] = {}
    for table in KNOB_TABLES:
        prefix = f"{ENV_PREFIX}{table.upper()}__"
        names = {k[len(prefix):].lower(): v for k, v in env.items() if k.startswith(prefix)}
        if names:
            merged = dict(values.get(table) or {})
            merged.update(names)
            values[table] = merged
        got[table] = frozenset(names)
    return got


def _fold_aliases(values: dict[str, Any], knobs: dict[str, dict[str, Any]]) -> None:
    """A knob that an older top-level setting also sets becomes that setting (so one value
    holds it); given both ways with different values is an error."""
    for (table, name), top in ALIASES.items():
        if name in knobs[table]:
            value = knobs[table].pop(name)
            if top in values and _same_type(values[top], value) != value:
                raise ConfigError(f"{top} is given twice: {values[top]!r} (top level or "
                                  f"FOREWARN_{top.upper()}) and [forewarn.{table}] {name} = "
                                  f"{value!r}; give it once")
            values[top] = value
    if "rules" in knobs["pipeline"] and values.get("health_rules"):
        raise ConfigError("rules are given twice: health_rules (a rule file) and "
                          "[forewarn.pipeline] rules; give one")
    if "dependencies" in knobs["pipeline"] and values.get("dependencies"):
        raise ConfigError("dependencies are given twice: the dependencies setting and "
                          "[forewarn.pipeline] dependencies; give one")


def _same_type(raw: Any, like: Any) -> Any:
    try:
        return type(like)(raw)
    except (TypeError, ValueError):
        return raw
