"""``forewarn``: the command line. Settings are read here, once, and passed down.

Subcommands: ``run`` (the embedded default), ``worker``, ``actuate``, ``topics``, ``simulate``,
``broker``, ``ship`` (host shipper), ``ingest`` (Telegraf/Prometheus/OTel/Vector topics),
``replay``, ``backtest`` and ``prior`` (learn a fleet prior).
Every one takes ``--config FILE`` and ``--bootstrap-servers``; the rest comes from
``FOREWARN_*`` environment variables (see ``streams/settings.py``).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import sys
from collections.abc import Sequence

from schemas.errors import ForewarnError
from streams.settings import Settings

# Modules with an ``add_subcommand(subparsers)``; their handlers get ``(args, settings_of)``
# through ``args.func(args)`` like the ones here, and may call :func:`settings_of`.
PLUGGED: tuple[str, ...] = (
    "streams.cli.ship", "streams.cli.ingest", "streams.cli.replay", "streams.cli.backtest",
    "streams.cli.prefs", "streams.cli.api", "streams.cli.tail", "streams.cli.prior",
)
# Subcommands that talk to a broker at once: a quick check first says "unreachable" once
# (a module's parser may also set ``needs_broker=True``).
NEEDS_BROKER = ("topics", "worker", "actuate", "simulate", "ingest", "prefs")


def settings_of(args: argparse.Namespace) -> Settings:
    """The settings for a subcommand: file, environment, then the global flags."""
    return _settings(args)


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.load(
        config_path=args.config,
        bootstrap_servers=args.bootstrap_servers,
        topic_prefix=args.topic_prefix,
    )


def cmd_topics(args: argparse.Namespace) -> int:
    from streams.topics import CATALOG, ensure_topics

    settings = _settings(args)
    created = ensure_topics(settings)
    for spec in CATALOG:
        mark = "created" if settings.topic(spec.name) in created else "exists"
        kind = "compacted" if spec.compacted else "delete"
        events = ", ".join(spec.events) or "(opaque)"
        print(f"{settings.topic(spec.name):28} {mark:8} {kind:9} {events}")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from streams.runtime.worker import run_worker

    run_worker(_settings(args), loglevel=args.loglevel)
    return 0


def cmd_actuate(args: argparse.Namespace) -> int:
    from streams.runtime.actuator import run_actuator

    settings = _settings(args)
    if args.backend:
        settings = settings.replace(backend=args.backend)
    if args.sizing:
        from streams.runtime.actuator import make_backend
        from streams.runtime.sizing import run_sizing

        run_sizing(settings, make_backend(settings), args.sizing, args.sizing_knob,
                   args.delay_s, args.step_s, args.workloads)
        return 0
    run_actuator(settings)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from streams.app.embedded import run_embedded

    return run_embedded(
        Settings.load(config_path=args.config),
        scenario=args.scenario,
        speed=args.speed,
        duration_s=args.duration,
        seed=args.seed,
    )


def cmd_simulate(args: argparse.Namespace) -> int:
    from streams.sim.publish import simulate_to_kafka

    return simulate_to_kafka(
        _settings(args), args.scenario, seed=args.seed, speed=args.speed, out=args.out
    )


def cmd_broker(args: argparse.Namespace) -> int:
    import signal
    import threading

    from streams.runtime.broker import EmbeddedBroker

    with EmbeddedBroker(port=args.port, log_path=args.log) as broker:
        print(f"Tansu listening on {broker.bootstrap_servers} (memory only, pid "
              f"{broker.pid}); Ctrl-C stops it", flush=True)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is the way to stop it
            while not stop.wait(0.5):
                broker.check_alive()  # a dead child is an error, not a silent wait
    print("forewarn broker stopped")
    return 0


def documented_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser],
                      name: str, help: str, doc: str) -> argparse.ArgumentParser:
    """A subcommand whose description is the first paragraph of ``doc`` (its module's
    docstring) and whose epilog is the rest, examples included, as written."""
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=help, description=doc.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=doc.split("\n\n", 1)[1])
    return parser


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="forewarn", description="Predictive prevention for server fleets on Kafka."
    )
    p.add_argument("--config", help="TOML settings file (also FOREWARN_CONFIG)")
    p.add_argument("--bootstrap-servers", help="Kafka bootstrap servers (host:port,...)")
    p.add_argument("--topic-prefix", help="topic name prefix (default 'forewarn.')")
    p.add_argument("--log-level", default="INFO")
    p.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = p.add_subparsers(dest="command", required=True)

    from streams.sim.scenarios import NEEDS_DATA, SCENARIOS

    scenarios = sorted(set(SCENARIOS) - NEEDS_DATA)  # a trace-driven fleet needs its data
    _add_processes(sub, scenarios)
    _add_tools(sub, scenarios)
    # Subcommands that live with their code; each module keeps heavy imports inside functions.
    for module in PLUGGED:
        importlib.import_module(module).add_subcommand(sub)
    return p


def _add_processes(sub: argparse._SubParsersAction[argparse.ArgumentParser],
                   scenarios: list[str]) -> None:
    """run, worker, actuate: the long-running processes."""
    s = sub.add_parser("run", help="embedded default: broker + simulated fleet + worker + actuator")
    s.add_argument("--scenario", default="ramp", choices=scenarios, metavar="NAME",
                   help=f"the simulated fleet: {', '.join(scenarios)} (default ramp)")
    s.add_argument("--speed", type=float, default=60.0, help="simulated seconds per wall second")
    s.add_argument("--duration", type=float, default=0.0, help="wall seconds; 0 = until Ctrl-C")
    s.add_argument("--seed", type=int, default=42)
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("worker", help="a processor worker (Faust) in the group")
    s.add_argument("--log-level", "--loglevel", dest="loglevel", default="info",
                   help="the worker's log level (default info)")
    s.set_defaults(func=cmd_worker)

    s = sub.add_parser("actuate", help="an actuator (consumer group) applying allocations")
    s.add_argument("--backend", help="override FOREWARN_BACKEND: dryrun, linux, kubernetes, aws")
    s.add_argument("--sizing",
                   choices=("static", "reactive", "vpa", "autopilot", "forewarn", "fleet"),
                   help="right-size each component's cpu and memory from forewarn.metrics "
                        "(and forewarn.risk) with this policy, the code `backtest trace` "
                        "measures, instead of the risk-driven engine")
    s.add_argument("--sizing-knob", type=float,
                   help="the policy's knob (default: its default; see backtest trace --help)")
    s.add_argument("--delay-s", type=int, default=300,
                   help="with --sizing: provisioning delay the sizing plans for (default 300)")
    s.add_argument("--step-s", type=int, default=300,
                   help="with --sizing: the decision interval, the samples' step (default 300)")
    s.add_argument("--workloads", metavar="FILE",
                   help="with --sizing fleet: the components as provisioned (JSON list; "
                        "docs/closedloop.md); fleet sizes their cgroup knobs and replicas")
    s.set_defaults(func=cmd_actuate)


def _add_tools(sub: argparse._SubParsersAction[argparse.ArgumentParser],
               scenarios: list[str]) -> None:
    """topics, simulate, broker: set-up and test inputs."""
    s = sub.add_parser("topics", help="create the topic catalog and list it")
    s.set_defaults(func=cmd_topics)

    s = sub.add_parser("simulate", help="publish a simulated fleet to forewarn.metrics")
    s.add_argument("--scenario", default="mixed", choices=scenarios, metavar="NAME",
                   help=f"{', '.join(scenarios)} (default mixed)")
    s.add_argument("--seed", type=int, default=42)
    s.add_argument("--speed", type=float, default=0.0, help="0 = as fast as possible")
    s.add_argument("--out", help="directory for the ground-truth timeline")
    s.set_defaults(func=cmd_simulate)

    s = sub.add_parser("broker", help="start the embedded Tansu broker and wait")
    s.add_argument("--port", type=int, default=9092)
    s.add_argument("--log", help="Tansu's log file (default: discarded)")
    s.set_defaults(func=cmd_broker)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand. Every error a user can cause is one ``forewarn: ...`` line on
    stderr and a non-zero exit (2: forewarn's own errors, 1: anything else); ``--debug``
    shows the traceback instead."""
    try:  # building the parser imports the pipeline (~1 s): Ctrl-C then is no traceback either
        args = build_parser().parse_args(argv)
    except KeyboardInterrupt:
        print("forewarn: interrupted", file=sys.stderr)
        return 130
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        if args.command in NEEDS_BROKER or getattr(args, "needs_broker", False):
            from streams.topics import check_broker

            check_broker(_settings(args))
        return int(args.func(args))
    except BrokenPipeError:  # `forewarn ... | head`: the reader left; so do we, quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # as a process killed by SIGPIPE
    except KeyboardInterrupt:
        print("forewarn: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        what = str(exc) if isinstance(exc, ForewarnError | OSError | ValueError) else repr(exc)
        hint = "" if isinstance(exc, ForewarnError) else " (--debug shows the traceback)"
        print(f"forewarn: {what}{hint}", file=sys.stderr)
        return 2 if isinstance(exc, ForewarnError) else 1


if __name__ == "__main__":
    sys.exit(main())
