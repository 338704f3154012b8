"""``forewarn prefs``'s command line: set, clear and list preferences."""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping
from typing import Any

from actuators.pool import RESOURCES
from schemas.codec import Codec
from schemas.errors import ConfigError, ContractError
from streams.runtime.prefs import make_preference, parse_maxima, read_preferences


def describe(p: Mapping[str, Any]) -> str:
    """One line for a preference: ``db-* criticality 9 active allow * max MEMORY_HIGH=8192``."""
    allowed = ",".join(p["allowed_resources"] or ["*"])
    maxima = ",".join(f"{k}={v:g}" for k, v in sorted(p["maxima"].items())) or "-"
    state = "PAUSED" if p["paused"] else "active"
    return f"{p['selector']} criticality {p['criticality']} {state} allow {allowed} max {maxima}"


def cmd_prefs(args: argparse.Namespace) -> int:
    from confluent_kafka import Producer

    from streams.cli.commands import settings_of
    from streams.topics import check_access, ensure_topics, producer_config

    settings = settings_of(args)
    ensure_topics(settings)
    check_access(settings, "operator")  # a missing ACL: one line
    codec = Codec(settings.wire_format, registry_url=settings.registry_url or None)
    current = read_preferences(settings, codec)
    if args.verb == "list":
        for sel, p in sorted(current.items()):
            allowed = ",".join(p["allowed_resources"] or ["*"])
            maxima = ",".join(f"{k}={v:g}" for k, v in sorted(p["maxima"].items())) or "-"
            state = "PAUSED" if p["paused"] else "active"
            print(f"{sel:30} criticality {p['criticality']:>2}  {state:6}  allow {allowed}  "
                  f"max {maxima}")
        return 0
    topic, producer = settings.topic("preferences"), Producer(producer_config(settings))
    if args.verb == "clear":
        if args.selector not in current:
            known = ", ".join(sorted(current)) or "none"
            raise ConfigError(f"no preference for {args.selector!r} to clear (in force: {known})")
        producer.produce(topic, key=args.selector.encode(), value=None)
        print(f"cleared {args.selector}")
    else:
        paused = True if args.pause else (False if args.resume else None)
        rec = make_preference(args.selector, int(time.time() * 1000),
                              current.get(args.selector), criticality=args.criticality,
                              allow=args.allow, maxima=parse_maxima(args.max) or None,
                              paused=paused)
        producer.produce(topic, key=args.selector.encode(),
                         value=codec.encode("Preference", rec, topic=topic))
        print(f"set {describe(rec)}")
    if producer.flush(10) > 0:
        raise ContractError(f"could not deliver to {topic} within 10 s")
    return 0


def add_subcommand(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("prefs", help="steer the actuators: criticality, resources, pause",
                       description="Operators steer the actuators through the compacted "
                       "preferences topic: criticality 0..10, allowed resources, maxima, pause.")
    verbs = p.add_subparsers(dest="verb", required=True)
    s = verbs.add_parser("set", help="create or change a selector's preference")
    s.add_argument("selector", help="a component id or an fnmatch glob, e.g. 'db-*'")
    s.add_argument("--criticality", type=int, help="0..10 (default 5 for a new selector)")
    s.add_argument("--allow", nargs="*", metavar="RESOURCE",
                   help=f"only these resources ({', '.join(RESOURCES)}); none given: all")
    s.add_argument("--max", action="append", default=[], metavar="RESOURCE=AMOUNT",
                   help="the largest lease of a resource (repeatable), in the resource's unit: "
                        "MEMORY_HIGH MiB, CPU_WEIGHT and IO_WEIGHT cgroup weight, CPU_QUOTA "
                        "millicores, CPU_AFFINITY cpus, NICE levels, NET_BANDWIDTH Mbit/s, "
                        "REPLICAS replicas; amounts are over the baseline")
    onoff = s.add_mutually_exclusive_group()
    onoff.add_argument("--pause", action="store_true", help="no command at all until resumed")
    onoff.add_argument("--resume", action="store_true")
    c = verbs.add_parser("clear", help="withdraw a selector's preference (a tombstone)")
    c.add_argument("selector")
    verbs.add_parser("list", help="the preferences in force")
    p.set_defaults(func=cmd_prefs)
