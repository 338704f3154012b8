"""The sections of the three backtest pages (NAB, fleet, SMD), built from the blocks of
:mod:`streams.lab.report` (plots, tables, cards); ``streams/lab/backtest.py`` writes them."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from streams.lab.report import (
    ALARM,
    PROBATION,
    RISK,
    SCORE,
    VALUE,
    WINDOW,
    Panel,
    Spans,
    card,
    histogram_svg,
    legend,
    reliability_svg,
    series_svg,
    table_html,
    time_ticks,
)

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
