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


@dataclass(frozen=True)
class _Frame:
    """The geometry of a :func:`series_svg`: margins, size, and the x range drawn."""

    width: int
    height: int
    x0: float
    x1: float
    left: int = 44
    right: int = 18
    gap: int = 12
    top: int = 8
    bottom: int = 4

    @property
    def columns(self) -> int:
        return self.width - self.left - self.right

    def px(self, v: float) -> float:
        span = self.x1 - self.x0 if self.x1 > self.x0 else 1.0
        return self.left + (v - self.x0) / span * self.columns


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
    gap, top, bottom = 12, 8, 18 if x_ticks else 4
    height = top + sum(p.height for p in panels) + gap * (len(panels) - 1) + bottom
    x0, x1 = (float(xs.min()), float(xs.max())) if xs.size else (0.0, 1.0)
    f = _Frame(width, height, x0, x1, gap=gap, top=top, bottom=bottom)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" style="max-width:100%;height:auto" role="img">'
           f"<title>{html.escape(title)}</title>"]
    plot_h = height - top - bottom
    for s in spans:
        for a, b in s.intervals:
            xa, xb = f.px(max(a, x0)), f.px(min(b, x1))
            out.append(f'<rect x="{xa:.1f}" y="{top}" width="{max(xb - xa, 1.5):.1f}" '
                       f'height="{plot_h}" fill="{s.color}" fill-opacity="{s.opacity}">'
                       f'<title>{html.escape(s.title)}</title></rect>')
    y_top = top
    for panel in panels:
        out.extend(_panel_svg(f, panel, xs, y_top))
        y_top += panel.height + gap
    out.extend(_overlay_svg(f, marks, vlines, x_ticks))
    out.append("</svg>")
    return "".join(out)


def _panel_svg(f: _Frame, panel: Panel, xs: np.ndarray, y_top: int) -> list[str]:
    """One panel of :func:`series_svg`: frame, y range, label, threshold line, the series."""
    ys = np.asarray(panel.y, dtype=np.float64)
    finite = ys[np.isfinite(ys)]
    lo = panel.lo if panel.lo is not None else (float(finite.min()) if finite.size else 0.0)
    hi = panel.hi if panel.hi is not None else (float(finite.max()) if finite.size else 1.0)
    if panel.hline is not None and panel.lo is None:
        lo, hi = min(lo, panel.hline), max(hi, panel.hline)
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    h, left = panel.height, f.left

    def py(v: float) -> float:
        return y_top + h - (min(max(v, lo), hi) - lo) / (hi - lo) * h

    out = [f'<rect x="{left}" y="{y_top}" width="{f.columns}" height="{h}" fill="none" '
           'stroke="#e2e8f0"/>']
    for v in (lo, hi):
        out.append(f'<text x="{left - 4}" y="{py(v) + (9 if v == hi else 0):.1f}" '
                   f'text-anchor="end">{_short(v)}</text>')
    if panel.label:
        out.append(f'<text x="{left + 4}" y="{y_top + 12}" style="fill:{panel.color};'
                   'paint-order:stroke;stroke:#fff;stroke-width:3px">'
                   f'{html.escape(panel.label)}</text>')
    if panel.hline is not None:
        out.append(f'<line x1="{left}" x2="{f.width - f.right}" y1="{py(panel.hline):.1f}" '
                   f'y2="{py(panel.hline):.1f}" stroke="{ALARM}" stroke-dasharray="4 3" '
                   'stroke-width="1"/>')
    ok = np.isfinite(ys)
    tx, ty = thin(xs[ok], ys[ok], f.columns)
    pts = " ".join(f"{f.px(a):.1f},{py(b):.1f}" for a, b in zip(tx.tolist(), ty.tolist(),
                                                                   strict=True))
    out.append(f'<polyline points="{pts}" fill="none" stroke="{panel.color}" '
               'stroke-width="1.1" stroke-linejoin="round"/>')
    return out


def _overlay_svg(f: _Frame, marks: npt.ArrayLike, vlines: npt.ArrayLike,
                 x_ticks: Sequence[tuple[float, str]]) -> list[str]:
    """Detections (ticks above the first panel), red lines across all panels, x labels."""
    out, top, px = [], f.top, f.px
    cols = sorted({round(px(v)) for v in np.asarray(marks, dtype=np.float64).tolist()})
    if cols:
        path = "".join(f"M{c} {top}v7" for c in cols)
        out.append(f'<path d="{path}" stroke="{ALARM}" stroke-width="1.5"/>')
    for v in np.asarray(vlines, dtype=np.float64).tolist():
        out.append(f'<line x1="{px(v):.1f}" x2="{px(v):.1f}" y1="{top}" '
                   f'y2="{f.height - f.bottom}" stroke="{ALARM}" stroke-width="1.5"/>')
    for v, label in x_ticks:
        anchor = "end" if px(v) > f.width - 24 else "middle"
        out.append(f'<text x="{px(v):.1f}" y="{f.height - 4}" text-anchor="{anchor}">'
                   f'{html.escape(label)}</text>')
    return out


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
