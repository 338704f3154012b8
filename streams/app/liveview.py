"""The ``forewarn run`` terminal view, drawn from the API's read model (pure: model in, lines
out), so the terminal and the dashboard show the same state.

One row per component (labelled columns: event time, risk now and its bar, the peak of the last
15 minutes so a 3-second spike stays visible, health, the page (``alarm``: since when it fires,
in event time; ``-`` not firing, ``?`` unknown), the forecast breach, the leases held, the
model that spoke), then allocations and outcomes in event-time order, newest at the bottom.
Lines are cut to the terminal's width. The header says when the scenario has ended.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from streams.api.model import ReadModel


@dataclass(frozen=True)
class ViewInfo:
    """What the view says about the run itself."""

    broker: str
    dashboard: str
    elapsed_s: float
    scenario: str
    ended_ms: int | None = None  # event time the scenario ended at (None: still running)
    this_host: str = ""  # the machine's own component id (wall-clock time, watched only)
    first_risk_s: float | None = None


def when(ts_ms: int | None) -> str:
    """``day hh:mm`` of event time (UTC): ``05 00:50`` is day 05 of its month."""
    if ts_ms is None:
        return "-"
    return time.strftime("%d %H:%M", time.gmtime(ts_ms / 1000))


def render(model: ReadModel, info: ViewInfo, width: int = 120, events: int = 12) -> list[str]:
    """The screen as lines, each at most ``width`` characters."""
    state = (f"ENDED at event time {when(info.ended_ms)} (nothing new will come; Ctrl-C stops)"
             if info.ended_ms is not None else "running")
    head = [
        f"forewarn run · scenario {info.scenario}: {state} · {info.elapsed_s:.0f} s"
        + (f" · first risk after {info.first_risk_s:.1f} s" if info.first_risk_s else ""),
        f"dashboard {info.dashboard} · broker {info.broker} · logs .forewarn/",
        "",
    ]
    cols = (f"{'component':22} {'event time':>10} {'risk':>5} {'':10} {'peak15m':>7} "
            f"{'health':6} {'page since':10} {'breach forecast (metric in min, p)':36} "
            f"{'leases held (over base)':44} model")
    rows = [cols]
    comps = [model.summary(v) for v in model.components_.values() if v.risk is not None]
    comps.sort(key=lambda c: (c["id"] == info.this_host, c["id"]))
    for c in comps:
        b = c["breach"]
        breach = f"{b['metric']} in {b['eta_s'] / 60:.1f}, p={b['probability']:.2f}" if b else "-"
        # amounts are over the baseline: +87 a grant, -50 a scale-down
        leases = ",".join(f"{x['resource']}{x['amount']:+g}" for x in c["leases"]) or "-"
        m = c["model"]
        name = c["id"] + (" (this machine)" if c["id"] == info.this_host else "")
        bar = "█" * round(c["risk"] * 10)
        page = "?" if c["alarm"] is None else when(c["alarm_since_ms"]) if c["alarm"] else "-"
        rows.append(
            f"{name:22} {when(c['ts']):>10} {c['risk']:5.2f} {bar:10} {c['peak_risk']:7.2f} "
            f"{c['health']:6} {page:10} {breach:36} {leases:44} {'warm' if m['warm'] else 'cold'}/"
            f"{m['source']}")
    if not comps:
        rows.append("  (no risk scored yet: the first windows close after a minute of event time)")
    if info.this_host and any(c["id"] == info.this_host for c in comps):
        rows.append(f"  {info.this_host}: this machine's own metrics, in wall-clock time; "
                    "watched, never actuated")
    feed = _events(model, events)
    body = head + rows + ["", "allocations and outcomes, by event time (newest last):"]
    body += feed or ["  (none yet)"]
    return [line[:width] for line in body]


def _events(model: ReadModel, n: int) -> list[str]:
    items: list[tuple[int, int, str]] = []
    for a in list(model.allocations_)[-n:]:
        items.append((a["ts"], 0, f"{when(a['ts'])} {a['action']:7} {a['resource']:12} "
                      f"{a['amount']:>8g} {a['unit']:7} → {a['component']:16} risk "
                      f"{a['risk']:.2f}  {a['reason']}"))
    for o in list(model.outcomes_)[-n:]:
        items.append((o["ts"], 1, f"{when(o['ts'])} {o['status']:9} by {o['backend']:9} "
                      f"{o['component']:16} {o['detail']}"))
    items.sort(key=lambda x: (x[0], x[1]))
    return [text for _, _, text in items[-n:]]


def plain(lines: list[str]) -> str:
    return "\n".join(lines)


def screen(lines: list[str], tty: bool) -> str:
    """What to write: the screen redrawn in place on a terminal, else a block per draw."""
    text = plain(lines)
    return f"\x1b[H\x1b[2J{text}\n" if tty else f"{text}\n\n"
