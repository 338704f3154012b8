"""``forewarn ship``'s command line and its Prometheus exporter.

The shipper itself is imported when a command runs; its benchmark is ``streams.bench.shipper``.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import socket
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from schemas.errors import ConfigError
from streams.ship.collect import CgroupCollector, Collector, HostCollector, HttpProbes, parse_probe

if TYPE_CHECKING:
    from streams.ship.shipper import Shipper

log = logging.getLogger(__name__)


def serve_metrics(shipper: Shipper, port: int, host: str = "127.0.0.1") -> None:
    """Export the shipper's counters for Prometheus on ``host:port`` (no-op for port 0)."""
    if port <= 0:
        return
    from prometheus_client import CollectorRegistry
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    from streams.telemetry import serve

    class Exporter:
        def collect(self) -> Iterator[Any]:
            s = shipper.stats
            for name, value, doc in (
                ("collected", s.collected, "samples collected"),
                ("acked", s.acked, "samples acknowledged by the broker"),
                ("dropped", shipper.dropped, "samples dropped, buffer full (oldest first)"),
                ("rejected", s.rejected, "samples the broker refused for good"),
                ("send_errors", s.send_errors, "messages that failed and were buffered again"),
                ("producer_resets", s.resets, "producers replaced after failed deliveries"),
            ):
                yield CounterMetricFamily(f"forewarn_shipper_{name}", doc, value=value)
            yield GaugeMetricFamily("forewarn_shipper_buffered",
                                    "samples not yet acknowledged", value=shipper.buffered)

    registry = CollectorRegistry()
    registry.register(Exporter())
    serve(port, registry, host)


# ---------------------------------------------------------------------------------- CLI


def add_subcommand(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    s = sub.add_parser("ship", help="ship this host's metrics to forewarn.metrics",
                       description="Collect this host's metrics (and its cgroups', and HTTP "
                       "probes') every interval and send them to forewarn.metrics.")
    s.add_argument("--interval", type=float, default=10.0, help="seconds between collections")
    s.add_argument("--host", help="this host's component id (default: the hostname)")
    s.add_argument("--per-message", type=int, default=1,
                   help="samples of a component per message (more: fewer messages, later)")
    s.add_argument("--max-per-message", type=int, default=100,
                   help="most samples in one message when a backlog is sent")
    s.add_argument("--buffer-samples", type=int, default=20_000,
                   help="unacknowledged samples kept for an outage; past it the oldest go")
    s.add_argument("--delivery-timeout", type=float, default=30.0,
                   help="seconds before an unacknowledged message is sent again")
    s.add_argument("--mount", action="append", dest="mounts", metavar="PATH",
                   help="filesystem for disk.used_pct, fullest wins (repeatable; default /)")
    s.add_argument("--proc-root", default="/proc")
    s.add_argument("--sys-root", default="/sys")
    s.add_argument("--no-host", action="store_true", help="no host sample (cgroups/probes only)")
    s.add_argument("--cgroups", action="append", default=[], metavar="GLOB",
                   help="cgroup v2 directories under --cgroup-root, e.g. 'system.slice/*.service'")
    s.add_argument("--cgroup-root", default="/sys/fs/cgroup")
    s.add_argument("--probe", action="append", default=[], metavar="NAME=URL",
                   help="GET URL every interval as component <host>/NAME (repeatable)")
    s.add_argument("--probe-timeout", type=float, default=2.0)
    s.add_argument("--probe-window", type=int, default=30,
                   help="probes behind errors.rate and latency.p99_ms")
    s.add_argument("--no-create-topics", action="store_true",
                   help="never create topics (the broker or an operator does)")
    s.add_argument("--duration", type=float, default=0.0, help="seconds to run; 0: until stopped")
    s.set_defaults(func=cmd_ship)


def build_collectors(args: argparse.Namespace, host: str) -> list[Collector]:
    collectors: list[Collector] = []
    if not args.no_host:
        collectors.append(HostCollector(host, proc_root=args.proc_root, sys_root=args.sys_root,
                                        mounts=args.mounts or ["/"]))
    try:
        if args.cgroups:
            collectors.append(CgroupCollector(host, args.cgroups, root=args.cgroup_root))
        if args.probe:
            probes = dict(parse_probe(p) for p in args.probe)
            collectors.append(HttpProbes(host, probes, timeout_s=args.probe_timeout,
                                         window=args.probe_window))
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    if not collectors:
        raise ConfigError("nothing to collect: --no-host without --cgroups or --probe")
    return collectors


def cmd_ship(args: argparse.Namespace) -> int:
    import signal

    from streams.cli.commands import settings_of
    from streams.ship.shipper import Shipper
    from streams.topics import check_access

    settings = settings_of(args)
    # a missing ACL: one line, not a buffer filling up (a broker that is away: start anyway)
    check_access(settings, "shipper", timeout_s=3.0)
    host = args.host or socket.gethostname()
    shipper = Shipper(
        settings, build_collectors(args, host), interval_s=args.interval,
        per_message=args.per_message, max_per_message=args.max_per_message,
        buffer_samples=args.buffer_samples, delivery_timeout_s=args.delivery_timeout,
        create_topics=not args.no_create_topics,
    )
    serve_metrics(shipper, settings.metrics_port, settings.metrics_host)
    stop = threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    log.info("shipping %s every %gs to %s on %s", host, args.interval, shipper.topic,
             settings.bootstrap_servers)
    try:
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is a normal stop
            shipper.run(stop, args.duration)
    finally:
        left = shipper.close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0 if left == 0 else 1

