"""``forewarn tail TOPIC``: a forewarn topic, decoded, one line per record.

    forewarn tail risk                       # from now on
    forewarn tail allocations --from-beginning --component 'web-*'
    forewarn tail deadletter --json | jq .reason

Every partition is read (no consumer group, nothing committed); a topic created after the
start is picked up. An unreadable record is one line on stderr and the tail goes on.
"""

from __future__ import annotations

import argparse
import base64
import fnmatch
import sys
import time
from collections.abc import Mapping
from typing import Any

TOPICS = ("risk", "health", "allocations", "outcomes", "deadletter", "preferences", "feedback",
          "metrics")


def iso(ts_ms: int) -> str:
    """Event time as ISO 8601 UTC, to the second."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts_ms / 1000))


def _n(x: float) -> str:
    return f"{x:.4g}"


def line(kind: str, rec: Mapping[str, Any]) -> str:
    """One human line for a decoded record of event type ``kind``."""
    if kind == "RiskScore":
        b = rec["breach"]
        breach = (f"breach {b['metric']}>{_n(b['threshold'])} in {b['eta_s'] / 60:.1f} min "
                  f"p={b['probability']:.2f}" if b else "no breach forecast")
        m = rec["model"]
        return (f"{iso(rec['ts'])} {rec['component']} risk {rec['risk']:.3f} anomaly "
                f"{rec['anomaly']:.2f} {breach} model {'warm' if m['warm'] else 'cold'}/"
                f"{m['source']}" + (" PAGE" if rec.get("alarm") else ""))  # the page fires
    if kind == "HealthSignal":
        th = "" if rec["threshold"] is None else f" threshold {_n(rec['threshold'])}"
        hb = " (heartbeat)" if rec.get("heartbeat") else ""
        return (f"{iso(rec['ts'])} {rec['component']} {rec['status']} {rec['metric']}="
                f"{_n(rec['value'])}{th} rule {rec['rule']}{hb}")
    if kind == "AllocationCommand":
        return (f"{iso(rec['ts'])} {rec['component']} {rec['action']} {rec['resource']} "
                f"{_n(rec['amount'])} {rec['unit']} lease {rec['lease_s']}s risk "
                f"{rec['risk']:.2f} priority {rec['priority']} id {rec['command_id']}: "
                f"{rec['reason']}")
    if kind == "AllocationOutcome":
        e = rec.get("effect")
        effect = "" if not e else (
            f" effect {e['metric']} {_n(e['before'])}→"
            f"{'?' if e['after'] is None else _n(e['after'])}"
            + ("" if e["breach_avoided"] is None
               else (" breach avoided" if e["breach_avoided"] else " breach NOT avoided")))
        return (f"{iso(rec['ts'])} {rec['component']} {rec['status']} by {rec['backend']} "
                f"id {rec['command_id']}: {rec['detail']}{effect}")
    if kind == "DeadLetter":
        return (f"{iso(rec['ts'])} {rec['source_topic']}[{rec['partition']}]@{rec['offset']} "
                f"{rec['stage']} {rec['error']}: {rec['reason']}")
    if kind == "Preference":
        allowed = ",".join(rec["allowed_resources"] or ["*"])
        maxima = ",".join(f"{k}={_n(v)}" for k, v in sorted(rec["maxima"].items())) or "-"
        return (f"{iso(rec['ts'])} {rec['selector']} criticality {rec['criticality']} "
                f"{'PAUSED' if rec['paused'] else 'active'} allow {allowed} max {maxima}")
    if kind == "Feedback":
        note = f": {rec['note']}" if rec["note"] else ""
        return f"{iso(rec['ts'])} {rec['component']} {rec['verdict']} by {rec['operator']}{note}"
    if kind == "MetricSample":
        return f"{iso(rec['ts'])} {rec['component']} {_metrics(rec['metrics'])}"
    if kind == "MetricBatch":
        return "\n".join(f"{iso(p['ts'])} {rec['component']} {_metrics(p['metrics'])}"
                         for p in rec["points"])
    return f"{kind} {dict(rec)}"


def _metrics(metrics: Mapping[str, float]) -> str:
    return " ".join(f"{k}={_n(v)}" for k, v in sorted(metrics.items()))


def as_json(kind: str, rec: Mapping[str, Any]) -> bytes:
    """The record as one JSON object, ``_type`` naming the event; bytes in base64."""
    import orjson

    def default(obj: Any) -> Any:
        if isinstance(obj, bytes):
            return base64.b64encode(obj).decode()
        raise TypeError

    return orjson.dumps({"_type": kind, **rec}, default=default)


def subject(rec: Mapping[str, Any]) -> str:
    return str(rec.get("component") or rec.get("selector") or rec.get("source_topic") or "")


def cmd_tail(args: argparse.Namespace) -> int:
    from schemas.codec import Codec
    from schemas.errors import ContractError
    from streams.api.follow import Follower
    from streams.cli.commands import settings_of
    from streams.topics import events_of

    settings = settings_of(args)  # the broker was checked before (needs_broker)
    codec = Codec(settings.wire_format, registry_url=settings.registry_url or None)
    topic = settings.topic(args.topic)
    expected = events_of(args.topic)
    follower = Follower(settings, [topic], from_beginning=args.from_beginning)
    out = sys.stdout.buffer
    shown = 0
    try:
        while args.max is None or shown < args.max:  # Ctrl-C ends it (main: quietly, 0)
            for msg in follower.poll(0.5):
                if msg.value() is None:  # a tombstone on a compacted topic
                    key = (msg.key() or b"").decode(errors="replace")
                    if args.component is None or fnmatch.fnmatchcase(key, args.component):
                        out.write(f"{key} cleared (tombstone)\n".encode())
                        shown += 1
                    continue
                try:
                    kind, rec = codec.decode(msg.value(), expected)
                except ContractError as exc:
                    print(f"forewarn: {topic}[{msg.partition()}]@{msg.offset()}: {exc}",
                          file=sys.stderr)
                    continue
                if args.component and not fnmatch.fnmatchcase(subject(rec), args.component):
                    continue
                out.write(as_json(kind, rec) + b"\n" if args.json
                          else line(kind, rec).encode() + b"\n")
                shown += 1
                if args.max is not None and shown >= args.max:
                    break
            out.flush()
    except KeyboardInterrupt:  # the normal way to stop a tail
        pass
    finally:
        follower.close()
    return 0


def add_subcommand(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from streams.cli.commands import documented_parser

    p = documented_parser(sub, "tail", "print a topic's records, decoded, one line each",
                          __doc__ or "")
    p.add_argument("topic", choices=TOPICS)
    p.add_argument("--from-beginning", action="store_true",
                   help="start at the oldest record kept (default: only new ones)")
    p.add_argument("--component", metavar="GLOB",
                   help="only these components (fnmatch glob; preferences: selector)")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--max", type=int, metavar="N", help="stop after N records")
    p.set_defaults(func=cmd_tail, needs_broker=True)
