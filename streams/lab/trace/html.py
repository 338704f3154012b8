"""The trace backtest's HTML page: violation-minutes against slack, one curve per policy and
resource (each knob a point, the default circled), the matched-slack table, the totals and the
per-component distributions. Plain SVG, no scripts (``streams/lab/report.py``'s page)."""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from streams.lab.report import legend, table_html, write_page
from streams.lab.trace.summary import _curve as efficient

COLOURS = {"static": "#718096", "reactive": "#dd6b20", "vpa": "#3182ce",
           "autopilot": "#38a169", "forewarn": "#c53030"}


def curve_svg(policies: Mapping[str, Mapping[str, Any]], res: str, width: int = 560,
              height: int = 380) -> str:
    """Violation minutes (log scale) against slack (0..1), one polyline per policy."""
    pad_l, pad_r, pad_t, pad_b = 60, 14, 14, 44
    iw, ih = width - pad_l - pad_r, height - pad_t - pad_b
    ys = [p[res]["violation_minutes"] for e in policies.values() for p in e["curve"]]
    positive = [y for y in ys if y > 0]
    lo = 10 ** math.floor(math.log10(min(positive))) if positive else 1.0
    hi = 10 ** math.ceil(math.log10(max(positive))) if positive else 10.0
    hi = max(hi, lo * 10)

    def x(s: float) -> float:
        return pad_l + max(0.0, min(1.0, s)) * iw

    def y(v: float) -> float:
        v = max(v, lo)
        return pad_t + ih - (math.log10(v) - math.log10(lo)) / (math.log10(hi) -
                                                                 math.log10(lo)) * ih

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}"><title>violation minutes vs slack, {res}</title>',
           f'<rect x="{x(0.2):.1f}" y="{pad_t}" width="{x(0.8) - x(0.2):.1f}" height="{ih}" '
           'fill="#f7fafc"/>']
    for i in range(11):
        s = i / 10
        out.append(f'<line x1="{x(s):.1f}" x2="{x(s):.1f}" y1="{pad_t}" y2="{pad_t + ih}" '
                   'stroke="#edf2f7"/>')
        out.append(f'<text x="{x(s):.1f}" y="{pad_t + ih + 14}" text-anchor="middle">'
                   f'{int(s * 100)}</text>')
    decade = lo
    while decade <= hi * 1.0001:
        out.append(f'<line x1="{pad_l}" x2="{pad_l + iw}" y1="{y(decade):.1f}" '
                   f'y2="{y(decade):.1f}" stroke="#edf2f7"/>')
        out.append(f'<text x="{pad_l - 4}" y="{y(decade) + 4:.1f}" text-anchor="end">'
                   f'{decade:g}</text>')
        decade *= 10
    for policy, entry in policies.items():
        out.extend(_policy_marks(policy, entry, res, x, y))
    out.append(f'<rect x="{pad_l}" y="{pad_t}" width="{iw}" height="{ih}" fill="none" '
               'stroke="#a0aec0"/>')
    out.append(f'<text x="{pad_l + iw / 2}" y="{height - 8}" text-anchor="middle">slack % '
               f'({res}; shaded: 20-80 %)</text>')
    out.append(f'<text x="14" y="{pad_t + ih / 2}" text-anchor="middle" '
               f'transform="rotate(-90 14 {pad_t + ih / 2})">violation minutes (log)</text>')
    out.append("</svg>")
    return "".join(out)


def _policy_marks(policy: str, entry: Mapping[str, Any], res: str,
                  x: Callable[[float], float], y: Callable[[float], float]) -> list[str]:
    """One policy's curve: the efficient points' polyline, every knob's point (hollow when
    dominated) and the default circled."""
    out: list[str] = []
    colour = COLOURS.get(policy, "#000")
    pts = sorted((p[res]["slack"], p[res]["violation_minutes"], p["knob"])
                 for p in entry["curve"])
    xs, ys = efficient(entry, res)  # the line: the efficient points only
    path = " ".join(f"{x(s):.1f},{y(v):.1f}" for s, v in zip(xs, ys, strict=True))
    out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
               'stroke-width="2"/>')
    on = set(zip(xs.tolist(), ys.tolist(), strict=True))
    for s, v, k in pts:
        fill = colour if (s, v) in on else "none"  # hollow: dominated by another knob
        out.append(f'<circle cx="{x(s):.1f}" cy="{y(v):.1f}" r="3" fill="{fill}" '
                   f'stroke="{colour}"><title>{html.escape(policy)} knob {k:g}: {v:.0f} '
                   f'min at {100 * s:.1f} % slack</title></circle>')
    d = entry[res]
    out.append(f'<circle cx="{x(d["slack"]):.1f}" cy="{y(d["violation_minutes"]):.1f}" '
               f'r="7" fill="none" stroke="{colour}" stroke-width="2"/>')
    return out


def _pct(v: float | None) -> float | None:
    return None if v is None else 100.0 * v


def write_report(result: Mapping[str, Any], out: str | Path) -> Path:
    """``OUT/index.html``."""
    pols = result["policies"]
    curves = legend([(COLOURS.get(p, "#000"), "line", f"{p} ({e['knob']['name']})")
                     for p, e in pols.items()])
    curves += "".join(f'<div class="card" style="display:inline-block">{curve_svg(pols, r)}'
                      "</div>" for r in ("cpu", "mem"))
    rows, classes = [], []
    for peer, per in result.get("matched", {}).items():
        for res, m in per.items():
            rows.append([peer, res, _pct(m["slack"]), m["peer_violation_minutes"],
                         m["forewarn_violation_minutes"], m["ratio"],
                         "yes" if m["met"] else ("–" if m["met"] is None else "no")])
            classes.append("ours" if m["met"] else "")
    matched = table_html(["peer (default knob)", "resource", "slack %", "peer viol. min",
                          "forewarn viol. min at that slack", "ratio", "≤ 0.5 ×"],
                         rows, classes)
    dom_rows = [[peer, res, *(d["overlap"] and [100 * d["overlap"][0], 100 * d["overlap"][1]]
                              or [None, None]), d["worst_ratio"],
                 "yes" if d["below"] else ("–" if d["below"] is None else "no")]
                for peer, per in result.get("dominance", {}).items() for res, d in per.items()]
    dominance = table_html(["peer", "resource", "from slack %", "to slack %",
                            "worst forewarn / peer", "forewarn below"], dom_rows)
    tot_rows = []
    for p, e in pols.items():
        for key in ("total", "cpu", "mem"):
            f = e[key]
            tot_rows.append([p, e["knob"]["default"], key, f["violation_minutes"],
                             f["unmet_demand_pct"], 100 * f["slack"], f["resource_hours"],
                             f.get("resource_hours_vs_static")])
    totals = table_html(["policy", "knob", "resource", "violation min", "unmet demand %",
                         "slack %", "resource-h (× size)", "vs static"], tot_rows)
    dist_rows = []
    for p, e in pols.items():
        for res in ("cpu", "mem"):
            d = e.get("distribution", {}).get(res)
            if d:
                dist_rows.append([p, res, d["violation_minutes"]["p50"],
                                  d["violation_minutes"]["p90"], d["violation_minutes"]["max"],
                                  100 * d["slack"]["p10"], 100 * d["slack"]["p50"],
                                  100 * d["slack"]["p90"]])
    dist = table_html(["policy", "resource", "viol. min p50", "p90", "max", "slack % p10",
                       "p50", "p90"], dist_rows)
    intro = (f"{result['components']} components, {result['hours']:.0f} component-hours, "
             f"step {result['step_s']} s, actuation delay {result['delay_s']} s. Each point is "
             "one knob value; the circled point is the policy's default; a hollow point is "
             "dominated by another knob value (more slack and more violations) and left off "
             "the line and the readings. Lower and to the left is better: fewer violation "
             "minutes for the same slack; 0 minutes is drawn on the lowest gridline.")
    return write_page(Path(out) / "index.html", "Right-sizing on real traces", intro,
                      [("Violation minutes against slack", curves),
                       ("Matched slack: forewarn's curve at each peer's default", matched),
                       ("Curves compared over 20-80 % slack", dominance),
                       ("At the default knob", totals),
                       ("Per component (default knob)", dist)])
