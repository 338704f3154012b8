"""``forewarn ingest``'s command line."""

from __future__ import annotations

import argparse
import contextlib
import threading
from collections.abc import Sequence
from typing import Any

from schemas.errors import ConfigError
from streams.runtime.ingest import FORMAT_CHOICES, Ingestor, log

# ---------------------------------------------------------------------------------- CLI


def add_subcommand(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    s = sub.add_parser(
        "ingest", help="convert a fleet's metrics topic (Telegraf, Prometheus, OTLP, Vector)",
        description="Read a topic that Telegraf, prometheus-kafka-adapter, the OpenTelemetry "
        "collector or Vector write, and produce its samples to forewarn.metrics.",
    )
    s.add_argument("--format", required=True, choices=FORMAT_CHOICES)
    s.add_argument("--source-topic", required=True, help="the topic the fleet writes")
    s.add_argument("--group", help="consumer group (default forewarn-ingest-<format>)")
    s.add_argument("--component-template", default="{host}/{service}",
                   help="component id from tags; {host} and {service} are aliases, any other "
                   "{name} is a tag")
    s.add_argument("--component-fallback", action="append", metavar="TEMPLATE",
                   help="tried in turn when the template does not resolve (default '{host}')")
    s.add_argument("--per-message", type=int, default=100,
                   help="most samples of one component per MetricBatch")
    s.add_argument("--adapter-option", action="append", default=[], metavar="KEY=VALUE",
                   help="adapter setting, e.g. timestamp_units=ms for telegraf (repeatable)")
    s.add_argument("--duration", type=float, default=0.0, help="seconds to run; 0: until stopped")
    s.set_defaults(func=cmd_ingest)


def parse_options(pairs: Sequence[str]) -> dict[str, Any]:
    """``["max_series=5000", "timestamp_units=ms"]`` → typed options for ``get_adapter``."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--adapter-option {pair!r}: expected KEY=VALUE")
        value: Any = raw
        if raw.lower() in ("true", "false"):
            value = raw.lower() == "true"
        else:
            for kind in (int, float):
                try:
                    value = kind(raw)
                    break
                except ValueError:
                    continue
        out[key] = value
    return out


def component_rule(template: str, fallbacks: Sequence[str] | None) -> Any:
    from streams.ingest import ComponentRule

    try:
        return ComponentRule(template, tuple(fallbacks) if fallbacks else ("{host}",))
    except ValueError as exc:
        raise ConfigError(f"--component-template: {exc}") from exc


def cmd_ingest(args: argparse.Namespace) -> int:
    import signal

    from streams.cli.commands import settings_of
    from streams.topics import check_access, ensure_topics

    settings = settings_of(args)
    ensure_topics(settings)
    check_access(settings, "ingest")  # a missing ACL: one line
    ingestor = Ingestor(
        settings, args.format, args.source_topic, group=args.group,
        rule=component_rule(args.component_template, args.component_fallback),
        per_message=args.per_message, adapter_options=parse_options(args.adapter_option),
    )
    stop = threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    log.info("ingesting %s (%s) into %s as group %s", args.source_topic, args.format,
             ingestor.topic, ingestor.group)
    try:
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is a normal stop
            from dataclasses import asdict

            from streams.telemetry import counters_registry, serve

            serve(settings.metrics_port, counters_registry(
                "forewarn_ingest", lambda: asdict(ingestor.stats), "ingest"),
                settings.metrics_host)
            ingestor.run(stop, args.duration)
    finally:
        ingestor.close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0
