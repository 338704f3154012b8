"""Backtest reports: one self-contained ``index.html`` (inline CSS and SVG, no scripts, no
external files), with every plot drawn here in Python.

The building blocks take plain values: :func:`series_svg` (stacked panels of a series over a
shared x axis, with shaded spans, threshold lines and marked detections), :func:`reliability_svg`,
:func:`histogram_svg` and :func:`table_html`; :func:`page` wraps sections into the document.
Long series are thinned to a min/max pair per pixel column, so a spike survives the thinning
and the file stays small.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px 32px;
color:#1d2733;background:#fafbfc;max-width:1500px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid
#dde3ea;padding-bottom:4px}h3{font-size:14px;margin:14px 0 4px}
p.note{color:#5b6776;margin:4px 0 12px;max-width:1000px}
table{border-collapse:collapse;margin:6px 0 14px;background:#fff}
th,td{padding:4px 10px;border-bottom:1px solid #e6eaef;text-align:right;
font-variant-numeric:tabular-nums}th{background:#f0f3f6;font-weight:600}
td:first-child,th:first-child{text-align:left}tr.ref td{color:#7a8593}
tr.ours td{font-weight:600}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(440px,1fr));gap:12px}
.card{background:#fff;border:1px solid #e1e6ec;border-radius:6px;padding:8px 10px}
.card h3{margin:0 0 2px;font-size:13px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.card .sub{color:#6b7785;font-size:12px;margin-bottom:2px}
.row{display:flex;gap:28px;flex-wrap:wrap;align-items:flex-start}
.legend span{display:inline-block;margin-right:14px;font-size:12px;color:#4a5563}
.legend i{display:inline-block;width:14px;height:10px;margin-right:5px;vertical-align:-1px}
details>summary{cursor:pointer;font-weight:600;margin:10px 0}
svg{display:block}svg text{font:11px system-ui,sans-serif;fill:#5b6776}
"""

VALUE = "#2b6cb0"
SCORE = "#6b46c1"
RISK = "#c05621"
ALARM = "#e53e3e"
WINDOW = "#f6ad55"
PROBATION = "#cbd5e0"


@dataclass(frozen=True)
class Panel:
    """One stacked panel: ``y`` over the shared x, drawn in ``[lo, hi]`` (data range if None);
    ``hline`` is a dashed threshold."""

    y: npt.ArrayLike
    height: int = 70
    color: str = VALUE
    lo: float | None = None
    hi: float | None = None
    hline: float | None = None
    label: str = ""


@dataclass(frozen=True)
class Spans:
    """Shaded x intervals, with a fill colour and opacity."""

    intervals: Sequence[tuple[float, float]]
    color: str = WINDOW
    opacity: float = 0.35
    title: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)


def _fmt(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".") if math.isfinite(v) else "0"


def thin(x: npt.ArrayLike, y: npt.ArrayLike, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """At most two points (min and max, in x order) per pixel column."""
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    if xs.size <= 2 * columns:
        return xs, ys
    col = np.minimum(((xs - xs[0]) / max(xs[-1] - xs[0], 1e-12) * columns).astype(np.int64),
                     columns - 1)
    starts = np.flatnonzero(np.r_[True, col[1:] != col[:-1]])
    keep: list[int] = []
    for a, b in zip(starts.tolist(), [*starts[1:].tolist(), xs.size], strict=True):
        seg = ys[a:b]
        i, j = a + int(np.argmin(seg)), a + int(np.argmax(seg))
        keep += sorted({i, j})
    idx = np.asarray(keep, dtype=np.int64)
    return xs[idx], ys[idx]


def series_svg(
    x: npt.ArrayLike,
    panels: Sequence[Panel],
    *,
    width: int = 620,
    spans: Sequence[Spans] = (),
    marks: npt.ArrayLike = (),
    vlines: npt.ArrayLike = (),
    x_ticks: Sequence[tuple[float, str]] = (),
    title: str = "",
) -> str:
    """Stacked panels over one x axis. ``marks`` (detections) are ticks above the first panel,
    ``vlines`` (e.g. actual breaches) red lines across all panels."""
    xs = np.asarray(x, dtype=np.float64)
    left, right, gap, top = 44, 18, 12, 8
    bottom = 18 if x_ticks else 4
    height = top + sum(p.height for p in panels) + gap * (len(panels) - 1) + bottom
    x0, x1 = (float(xs.min()), float(xs.max())) if xs.size else (0.0, 1.0)
    span = x1 - x0 if x1 > x0 else 1.0

    def px(v: float) -> float:
        return left + (v - x0) / span * (width - left - right)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" style="max-width:100%;height:auto" role="img">'
           f"<title>{html.escape(title)}</title>"]
    plot_h = height - top - bottom
    for s in spans:
        for a, b in s.intervals:
            xa, xb = px(max(a, x0)), px(min(b, x1))
            out.append(f'<rect x="{xa:.1f}" y="{top}" width="{max(xb - xa, 1.5):.1f}" '
                       f'height="{plot_h}" fill="{s.color}" fill-opacity="{s.opacity}">'
                       f'<title>{html.escape(s.title)}</title></rect>')
    y_top = top
    columns = width - left - right
    for panel in panels:
        ys = np.asarray(panel.y, dtype=np.float64)
        finite = ys[np.isfinite(ys)]
        lo = panel.lo if panel.lo is not None else (float(finite.min()) if finite.size else 0.0)
        hi = panel.hi if panel.hi is not None else (float(finite.max()) if finite.size else 1.0)
        if panel.hline is not None and panel.lo is None:
            lo, hi = min(lo, panel.hline), max(hi, panel.hline)
        if hi <= lo:
            lo, hi = lo - 0.5, hi + 0.5
        h = panel.height

        def py(v: float, lo: float = lo, hi: float = hi, y_top: int = y_top, h: int = h) -> float:
            return y_top + h - (min(max(v, lo), hi) - lo) / (hi - lo) * h

        out.append(f'<rect x="{left}" y="{y_top}" width="{columns}" height="{h}" fill="none" '
                   'stroke="#e2e8f0"/>')
        for v in (lo, hi):
            out.append(f'<text x="{left - 4}" y="{py(v) + (9 if v == hi else 0):.1f}" '
                       f'text-anchor="end">{_short(v)}</text>')
        if panel.label:
            out.append(f'<text x="{left + 4}" y="{y_top + 12}" style="fill:{panel.color};'
                       'paint-order:stroke;stroke:#fff;stroke-width:3px">'
                       f'{html.escape(panel.label)}</text>')
        if panel.hline is not None:
            out.append(f'<line x1="{left}" x2="{width - right}" y1="{py(panel.hline):.1f}" '
                       f'y2="{py(panel.hline):.1f}" stroke="{ALARM}" stroke-dasharray="4 3" '
                       'stroke-width="1"/>')
        ok = np.isfinite(ys)
        tx, ty = thin(xs[ok], ys[ok], columns)
        pts = " ".join(f"{px(a):.1f},{py(b):.1f}" for a, b in zip(tx.tolist(), ty.tolist(),
                                                                     strict=True))
        out.append(f'<polyline points="{pts}" fill="none" stroke="{panel.color}" '
                   'stroke-width="1.1" stroke-linejoin="round"/>')
        y_top += h + gap
    cols = sorted({round(px(v)) for v in np.asarray(marks, dtype=np.float64).tolist()})
    if cols:
        path = "".join(f"M{c} {top}v7" for c in cols)
        out.append(f'<path d="{path}" stroke="{ALARM}" stroke-width="1.5"/>')
    for v in np.asarray(vlines, dtype=np.float64).tolist():
        out.append(f'<line x1="{px(v):.1f}" x2="{px(v):.1f}" y1="{top}" y2="{top + plot_h}" '
                   f'stroke="{ALARM}" stroke-width="1.5"/>')
    for v, label in x_ticks:
        anchor = "end" if px(v) > width - 24 else "middle"
        out.append(f'<text x="{px(v):.1f}" y="{height - 4}" text-anchor="{anchor}">'
                   f'{html.escape(label)}</text>')
    out.append("</svg>")
    return "".join(out)


def _short(v: float) -> str:
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:.3g}M"
    if a >= 1e4:
        return f"{v / 1e3:.3g}k"
    return f"{v:.0f}" if a >= 100 else f"{v:.3g}"


def time_ticks(t0_ms: int, t1_ms: int, n: int = 8) -> list[tuple[float, str]]:
    """Round-hour ticks (``HH:MM``, or ``Mon DD`` across days) over ``[t0, t1]`` ms."""
    span_h = max((t1_ms - t0_ms) / 3_600_000, 1e-9)
    step_h = next((s for s in (0.25, 0.5, 1, 2, 3, 6, 12, 24, 48, 168) if span_h / s <= n), 336)
    step = int(step_h * 3_600_000)
    first = -(-t0_ms // step) * step
    fmt = "%b %d" if step_h >= 24 else "%H:%M"
    return [(float(t), datetime.fromtimestamp(t / 1000, tz=UTC).strftime(fmt))
            for t in range(first, t1_ms + 1, step)]


def reliability_svg(bins: Sequence[Mapping[str, Any]], size: int = 300) -> str:
    """Observed frequency against mean predicted risk per bin, with the diagonal; dot area
    grows with the bin's count (printed beside it)."""
    pad, n = 38, max((int(b["count"] or 0) for b in bins), default=0)
    inner = size - 2 * pad

    def p(v: float) -> float:
        return pad + v * inner

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
           f'viewBox="0 0 {size} {size}"><title>reliability curve</title>',
           f'<rect x="{pad}" y="{pad}" width="{inner}" height="{inner}" fill="#fff" '
           'stroke="#cbd5e0"/>',
           f'<line x1="{p(0)}" y1="{p(1)}" x2="{p(1)}" y2="{p(0)}" stroke="#a0aec0" '
           'stroke-dasharray="4 3"/>']
    for v in (0.0, 0.5, 1.0):
        out.append(f'<text x="{p(v):.0f}" y="{size - pad + 14}" text-anchor="middle">{v:g}</text>')
        out.append(f'<text x="{pad - 5}" y="{size - p(v) + 4:.0f}" text-anchor="end">{v:g}</text>')
    out.append(f'<text x="{size / 2}" y="{size - 6}" text-anchor="middle">mean predicted '
               'risk</text>')
    out.append(f'<text x="12" y="{size / 2}" text-anchor="middle" transform="rotate(-90 12 '
               f'{size / 2})">observed frequency</text>')
    pts = [(float(b["mean_risk"]), float(b["frequency"]), int(b["count"]))
           for b in bins if b["count"] and b["mean_risk"] is not None]
    if pts:
        line = " ".join(f"{p(a):.1f},{size - p(f):.1f}" for a, f, _ in pts)
        out.append(f'<polyline points="{line}" fill="none" stroke="{RISK}" stroke-width="1.5"/>')
        for a, f, c in pts:
            r = 2.5 + 7 * math.sqrt(c / n) if n else 3
            out.append(f'<circle cx="{p(a):.1f}" cy="{size - p(f):.1f}" r="{r:.1f}" '
                       f'fill="{RISK}" fill-opacity="0.55"><title>{c} events</title></circle>')
    out.append("</svg>")
    return "".join(out)


def histogram_svg(values: Sequence[float], edges: Sequence[float], *, width: int = 420,
                  height: int = 200, x_label: str = "", fmt: Callable[[float], str] = _fmt
                  ) -> str:
    """Bars of ``values`` counted in ``[edges[i], edges[i+1])`` (the last bin closed)."""
    counts, _ = np.histogram(np.asarray(values, dtype=np.float64), bins=np.asarray(edges))
    pad_l, pad_b, pad_t = 34, 34, 10
    inner_w, inner_h = width - pad_l - 10, height - pad_b - pad_t
    top = max(int(counts.max()) if counts.size else 0, 1)
    bw = inner_w / max(len(counts), 1)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}"><title>{html.escape(x_label)}</title>']
    for i, c in enumerate(counts.tolist()):
        h = c / top * inner_h
        out.append(f'<rect x="{pad_l + i * bw + 1:.1f}" y="{pad_t + inner_h - h:.1f}" '
                   f'width="{bw - 2:.1f}" height="{h:.1f}" fill="{SCORE}" fill-opacity="0.75">'
                   f'<title>{c}</title></rect>')
    every = max(1, -(-len(edges) // 8))
    for i, e in enumerate(edges):
        if i % every == 0:
            out.append(f'<text x="{pad_l + i * bw:.1f}" y="{pad_t + inner_h + 14}" '
                       f'text-anchor="middle">{fmt(float(e))}</text>')
    out.append(f'<text x="{pad_l - 4}" y="{pad_t + 9}" text-anchor="end">{top}</text>')
    out.append(f'<text x="{pad_l - 4}" y="{pad_t + inner_h}" text-anchor="end">0</text>')
    out.append(f'<line x1="{pad_l}" x2="{width - 10}" y1="{pad_t + inner_h}" '
               f'y2="{pad_t + inner_h}" stroke="#a0aec0"/>')
    out.append(f'<text x="{pad_l + inner_w / 2}" y="{height - 4}" text-anchor="middle">'
               f'{html.escape(x_label)}</text></svg>')
    return "".join(out)


def cell(v: object, digits: int = 3) -> str:
    """A table cell's text: floats rounded, NaN/None as an en dash."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    if isinstance(v, float):
        return f"{v:.{0 if abs(v) >= 100 else 1 if abs(v) >= 10 else digits}f}"
    return str(v)


def table_html(headers: Sequence[str], rows: Iterable[Sequence[object]],
               classes: Sequence[str] = ()) -> str:
    """An HTML table; ``classes`` gives each row a CSS class (``ours``, ``ref``)."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{classes[i]}"' if i < len(classes) and classes[i] else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{html.escape(cell(v))}</td>" for v in row)
                    + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def text_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """The same table as plain text, for the terminal."""
    cells = [list(headers)] + [[cell(v) for v in row] for row in rows]
    widths = [max(len(r[j]) for r in cells) for j in range(len(headers))]
    lines = ["  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in
                       enumerate(zip(r, widths, strict=True))) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def legend(items: Sequence[tuple[str, str, str]]) -> str:
    """``(colour, kind, label)`` with kind ``box`` (a shaded span) or ``line``."""
    parts = []
    for color, kind, label in items:
        style = (f"background:{color};opacity:.6" if kind == "box"
                 else f"border-top:2px {'dashed' if kind == 'dash' else 'solid'} {color};"
                 "height:0;vertical-align:3px")
        parts.append(f'<span><i style="{style}"></i>{html.escape(label)}</span>')
    return f'<div class="legend">{"".join(parts)}</div>'


def card(title: str, sub: str, body: str) -> str:
    return (f'<div class="card"><h3 title="{html.escape(title)}">{html.escape(title)}</h3>'
            f'<div class="sub">{html.escape(sub)}</div>{body}</div>')


def page(title: str, intro: str, sections: Sequence[tuple[str, str]]) -> str:
    """The whole document: a title, an intro paragraph and ``(heading, html)`` sections."""
    parts = [f"<h2>{html.escape(h)}</h2>{body}" if h else body for h, body in sections]
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><p class=\"note\">{intro}</p>{''.join(parts)}"
            "</body></html>\n")


def write_page(path: str | Path, title: str, intro: str,
               sections: Sequence[tuple[str, str]]) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(page(title, intro, sections), encoding="utf-8")
    return p


# -- the three backtest pages ------------------------------------------------------------------

_NAB_LEGEND = legend([(VALUE, "line", "value"), (SCORE, "line", "anomaly score"),
                      (ALARM, "dash", "corpus threshold (standard)"),
                      (ALARM, "line", "detection (ticks on top)"),
                      (WINDOW, "box", "labelled anomaly window"),
                      (PROBATION, "box", "probation (not scored)")])


def _nab_grid(plots: Sequence[Mapping[str, Any]], detector: str,
              summary: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> str:
    std = summary[detector]["standard"]
    thr = float(std["threshold"])
    per_file: Mapping[str, Mapping[str, Any]] = std["per_file"]
    cards = []
    for p in plots:
        name = str(p["name"])
        values = np.asarray(p["values"], dtype=np.float64)
        scores = np.asarray(p["scores"][detector], dtype=np.float64)
        probation = int(p["probation"])
        x = np.arange(values.size)
        hits = np.flatnonzero(scores >= thr) if math.isfinite(thr) else np.empty(0, np.int64)
        hits = hits[hits >= probation]
        f = per_file.get(name)
        sub = f"{values.size:,} rows · {len(p['windows'])} windows"
        if f is not None:
            sub += f" · TP {f['tp']} FP {f['fp']} FN {f['fn']} · raw {float(f['raw']):+.2f}"
        svg = series_svg(
            x, [Panel(values, 62, VALUE), Panel(scores, 34, SCORE, lo=0.0, hi=1.0,
                                                 hline=thr if math.isfinite(thr) else None)],
            spans=[Spans([(0, probation)], PROBATION, 0.45, "probation"),
                   Spans([(a, b + 1) for a, b in p["windows"]], WINDOW, 0.4, "window")],
            marks=hits, title=name)
        cards.append(card(name, sub, svg))
    return f'<div class="grid">{"".join(cards)}</div>'


def nab_sections(table: tuple[list[str], list[list[object]], list[str]],
                 plots: Sequence[Mapping[str, Any]],
                 summary: Mapping[str, Mapping[str, Mapping[str, Any]]]
                 ) -> list[tuple[str, str]]:
    """Scores table, then a grid of small multiples per detector (the first one open)."""
    headers, rows, classes = table
    first, *rest = list(summary)
    out = [("Normalised NAB score", table_html(headers, rows, classes) + (
        '<p class="note">Bold: this run on the local subset. Grey: the published scoreboard, '
        "full 58-file corpus; a subset score is indicative, not comparable digit for digit. "
        "Each profile picks its own corpus-wide threshold.</p>")),
        (f"Per file: {first}", _NAB_LEGEND + _nab_grid(plots, first, summary))]
    for det in rest:
        out.append(("", f"<details><summary>Per file: {html.escape(det)}</summary>"
                        f"{_nab_grid(plots, det, summary)}</details>"))
    return out


def _calibration_row(f: Mapping[str, Any]) -> str:
    leads = [float(v) for v in f["lead_times_s"]]
    hist = histogram_svg(leads, list(range(0, 960, 60)), x_label="lead time before breach, min",
                         fmt=lambda v: f"{v / 60:g}")
    rel = reliability_svg(f["reliability"])
    return (f'<div class="row"><div><h3>Reliability (risk vs observed breach within horizon)'
            f'</h3>{rel}</div><div><h3>Lead time of predicted breaches ({len(leads)})</h3>'
            f"{hist}</div></div>")


def fleet_sections(table: tuple[list[str], list[list[object]]],
                   runs: Sequence[Mapping[str, Any]],
                   figures: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str]]:
    """Table across scenarios, calibration and lead times, then each incident's timeline."""
    headers, rows = table
    main = "all" if "all" in figures else next(iter(figures))
    thr = float(next(iter(figures.values()))["threshold"])
    out = [("Breach prediction", table_html(headers, rows, ["ours" if r[0] == "all" else ""
                                                           for r in rows]) + (
        '<p class="note">Precision counts alarm episodes; recall@L counts breaches with an '
        "alarm between one horizon and L before them; lead time is from the first such alarm. "
        "F1@5m combines them. With the default 15-minute horizon, recall@15m only counts alarms "
        "exactly 15 minutes ahead.</p>")),
        (f"Calibration and lead time ({main})", _calibration_row(figures[main]))]
    lg = legend([(VALUE, "line", "metric"), (RISK, "line", "risk"),
                 (ALARM, "dash", "FAIL threshold / alarm threshold"),
                 (ALARM, "line", "actual breach; ticks: alarms"),
                 (WINDOW, "box", "incident (start to fix)")])
    for run in runs:
        name = str(run["scenario"])
        t0, t1 = int(run["start_ms"]), int(run["end_ms"])
        ticks = time_ticks(t0, t1)
        cards = []
        for p in run["plots"]:
            vx, vy = (np.asarray(c, dtype=np.float64) for c in zip(*p["values"], strict=True))
            risk = np.asarray(p["risk"], dtype=np.float64).reshape(-1, 2)
            svg = series_svg(
                np.r_[t0, vx, t1], [
                    Panel(np.r_[np.nan, vy, np.nan], 90, VALUE, hline=p["threshold"],
                          label=p["metric"]),
                    Panel(np.interp(np.r_[t0, vx, t1], risk[:, 0], risk[:, 1]) if len(risk)
                          else np.zeros(vx.size + 2), 60, RISK, 0.0, 1.0, thr, "risk")],
                width=1320, spans=[Spans([p["incident"]], WINDOW, 0.22, "incident")],
                marks=risk[risk[:, 1] >= thr, 0], vlines=p["breaches"], x_ticks=ticks,
                title=p["title"])
            cards.append(card(p["title"], f"{p['metric']} FAIL at {p['threshold']:g}", svg))
        f = figures[name]
        body = "".join(cards) or '<p class="note">No incident in this scenario.</p>'
        extra = (f"<details><summary>Calibration and lead time ({html.escape(name)})</summary>"
                 f"{_calibration_row(f)}</details>") if len(runs) > 1 else ""
        out.append((f"Scenario {name}", (lg if cards else "") + body + extra))
    return out


def smd_sections(table: tuple[list[str], list[list[object]]],
                 runs: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    headers, rows = table
    out = [("Point-wise F1 on test", table_html(headers, rows) + (
        '<p class="note">PA: point-adjust (a labelled segment counts as found if any of its '
        "points is); it inflates scores, see the random detector. Published SMD F1 (with PA, "
        "all 28 machines): OmniAnomaly 0.94, USAD 0.95, TranAD 0.96, Anomaly Transformer "
        "0.92.</p>"))]
    lg = legend([(SCORE, "line", "anomaly score"), (ALARM, "dash", "best-F1 threshold"),
                 (ALARM, "line", "detections (ticks)"), (WINDOW, "box", "labelled segment")])
    for run in runs:
        plot: Mapping[str, Any] = run["plot"]
        scores = np.asarray(plot["scores"], dtype=np.float64)
        thr = float(run["threshold"])
        svg = series_svg(np.arange(scores.size), [Panel(scores, 120, SCORE, 0.0, 1.0,
                                                        thr if math.isfinite(thr) else None)],
                         width=1320, spans=[Spans(plot["labels"], WINDOW, 0.45, "anomaly")],
                         marks=plot["detections"], title=str(run["machine"]))
        sub = (f"test rows (1 min each); F1 {float(run['f1']):.3f}, "
               f"with point-adjust {float(run['f1_pa']):.3f}")
        out.append((f"Machine {run['machine']}", lg + card(str(run["machine"]), sub, svg)))
    return out
