"""``forewarn backtest {nab,fleet,smd}``: score the pipeline, run through the replay path,
against labelled data; print a table, write ``scores.json`` and a self-contained ``index.html``.

* **nab** — per-row anomaly scores (see :func:`streams.lab.replay.nab_run`) for every file, scored
  with NAB's rules under its three profiles, beside reference detectors and the published
  full-corpus scoreboard.
* **fleet** — a simulator scenario, open loop (no allocations), risk events scored as breach
  predictions against the fleet's ground truth (:mod:`streams.lab.scoring.breach`).
  With ``--policy`` it runs the closed loop instead (:mod:`streams.lab.closedloop`).
* **smd** — SMD machines, train then test as one stream, one window per row; point-wise F1
  with and without point-adjust on test (:mod:`streams.lab.smd`, its names re-exported here).

Work is spread over processes (``--jobs``) one file / scenario / machine per task; every task
starts from a fresh pipeline, so the figures do not depend on the number of jobs.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from processors.pipeline import PipelineConfig
from streams.lab.jobs import clean_json, pmap, write_json
from streams.lab.smd import (
    SMD_START_MS,
    SMD_STEP_MS,
    backtest_smd,
    smd_held_out,
    smd_run,
    smd_table,
)

__all__ = ["DETECTORS", "SMD_START_MS", "SMD_STEP_MS", "backtest_fleet", "backtest_nab",
           "backtest_smd", "breach_figures", "breaches_of", "clean_json", "failing_of",
           "fleet_run", "fleet_table", "nab_table", "pmap", "smd_held_out", "smd_run",
           "smd_table", "write_json"]

DETECTORS = ("forewarn", "likelihood", "null", "random", "gaussian", "hst")
DETECTOR_NAMES = {"forewarn": "forewarn (pipeline anomaly)",
                  "likelihood": "forewarn novelty -> HTM-style likelihood",
                  "null": "Null", "random": "Random",
                  "gaussian": "Windowed Gaussian", "hst": "HalfSpaceTrees (plain)"}
PROFILES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")
# NAB v1.1 scoreboard, full corpus (58 files, 116 windows): standard, low FP, low FN.
NAB_PUBLISHED: tuple[tuple[str, float, float, float], ...] = (
    ("ARTime", 74.9, 65.1, 80.4), ("Numenta HTM", 70.5, 62.6, 75.2),
    ("CAD OSE", 69.9, 67.0, 73.2), ("Skyline", 58.2, 46.2, 63.9), ("KNN CAD", 58.0, 43.4, 64.8),
    ("Relative Entropy", 54.6, 47.6, 58.8), ("Random Cut Forest", 51.7, 38.4, 59.7),
    ("Twitter ADVec", 47.1, 33.6, 53.5), ("Windowed Gaussian", 39.6, 20.9, 47.4),
    ("Random", 11.0, 1.2, 19.5), ("Null", 0.0, 0.0, 0.0),
)
LEADS_S = (60, 300, 900)
F1_LEAD_S = 300


# -- NAB -------------------------------------------------------------------------------------


def nab_file_scores(detector: str, path: str, name: str, base: PipelineConfig
                    ) -> npt.NDArray[np.float64]:
    """One detector's per-row scores for one NAB file."""
    from streams.lab import detectors as d
    from streams.lab.nabdata import read_series

    if detector == "forewarn":  # NAB tells a detector its probation: rest = probation / 5
        from streams.lab.replay import nab_run
        from streams.lab.scoring.nab import rest_rows

        rest = rest_rows(read_series(Path(path), name).values.size)
        return nab_run(path, replace(base, anomaly_rest=rest), component=name)[0]

    if detector == "likelihood":  # the novelty's raw score through AnomalyLikelihood, rest 0
        from processors.likelihood import LikelihoodDetector

        lik = LikelihoodDetector(rest=0)
        return np.array([lik.step(float(x)) for x in read_series(Path(path), name).values])
    make: dict[str, Callable[[], d.UnivariateDetector]] = {
        "null": d.NullDetector, "gaussian": d.WindowedGaussian, "hst": d.HSTDetector,
        "random": lambda: d.RandomDetector(seed=zlib.crc32(name.encode())),
    }
    return d.run_detector(make[detector](), read_series(Path(path), name).values)


def backtest_nab(data_dir: str | Path, out_dir: str | Path, detectors: Sequence[str],
                 base: PipelineConfig, jobs: int = 1) -> dict[str, Any]:
    """Score ``detectors`` on the corpus; write results files, ``scores.json``, ``index.html``.

    ``OUT/results/<category>/<file>.csv`` holds the first detector's scores, every other
    detector's go to ``OUT/<detector>/results/...``."""
    from streams.lab.nabdata import load_corpus, load_profiles, load_windows, write_results
    from streams.lab.report import write_page
    from streams.lab.scoring.nab import probation_rows, score_all_profiles, window_rows
    from streams.lab.sections import nab_sections

    out = Path(out_dir)
    corpus, windows = load_corpus(data_dir), load_windows(data_dir)
    profiles = load_profiles(data_dir)
    names = list(corpus)
    tasks = [(det, str(Path(data_dir) / "data" / n), n, base) for det in detectors for n in names]
    scores: dict[str, dict[str, npt.NDArray[np.float64]]] = {d: {} for d in detectors}
    for (det, _, name, _), sc in zip(tasks, pmap(nab_file_scores, tasks, jobs), strict=True):
        scores[det][name] = sc
    scored = [n for n in names if n in windows]
    summary: dict[str, Any] = {}
    for i, det in enumerate(detectors):
        for n in names:
            s = corpus[n]
            write_results(out if i == 0 else out / det, n, s.timestamps, s.values, scores[det][n])
        res = score_all_profiles({n: (corpus[n].ts_ms, scores[det][n]) for n in scored},
                                 {n: windows[n] for n in scored}, profiles)
        summary[det] = {
            p: {"normalised": r.normalised, "raw": r.raw, "threshold": r.threshold, "tp": r.tp,
                "fp": r.fp, "fn": r.fn, "windows": r.windows,
                "per_file": {n: {"raw": f.raw, "tp": f.tp, "fp": f.fp, "fn": f.fn}
                             for n, f in r.per_file.items()}}
            for p, r in res.items()}
    result = {
        "corpus": {"data": str(data_dir), "files": len(names), "scored_files": len(scored),
                   "windows": sum(len(windows[n]) for n in scored), "rows": sum(
                       corpus[n].values.size for n in names)},
        "detectors": summary,
        "published_full_corpus": {n: dict(zip(PROFILES, v, strict=True))
                                  for n, *v in NAB_PUBLISHED},
    }
    write_json(out / "scores.json", result)
    plots = [{"name": n, "values": corpus[n].values, "probation": probation_rows(
        corpus[n].values.size), "windows": window_rows(corpus[n].ts_ms, windows.get(n, [])),
        "scores": {d: scores[d][n] for d in detectors}} for n in names]
    write_page(out / "index.html", "forewarn backtest: NAB",
               f"{len(names)} NAB files, {result['corpus']['windows']} labelled windows, "
               f"{result['corpus']['rows']:,} rows. One window per row (the file's step), "
               "the row's score is that window's anomaly.",
               nab_sections(nab_table(result), plots, summary))
    return result


def nab_table(result: Mapping[str, Any]) -> tuple[list[str], list[list[Any]], list[str]]:
    """Headers, rows and row classes: our detectors, then the published scoreboard."""
    headers = ["detector", "standard", "low FP", "low FN", "threshold (std)", "TP", "FP", "FN"]
    rows: list[list[Any]] = []
    classes: list[str] = []
    for det, by in result["detectors"].items():
        std = by["standard"]
        rows.append([DETECTOR_NAMES.get(det, det), *(f"{by[p]['normalised']:.1f}"
                     for p in PROFILES), _thr(std["threshold"]), std["tp"], std["fp"], std["fn"]])
        classes.append("ours")
    for name, *v in NAB_PUBLISHED:
        rows.append([f"{name} (published, full corpus)", *(f"{x:.1f}" for x in v),
                     None, None, None, None])
        classes.append("ref")
    return headers, rows, classes


def _thr(t: float | None) -> str | None:
    return None if t is None or not math.isfinite(t) else f"{t:.6f}"


# -- fleet -----------------------------------------------------------------------------------


def breaches_of(truth: Mapping[str, Any], merge_gap_ms: int) -> list[Any]:
    """Every FAIL interval's start as a breach, after merging a metric's intervals that begin
    within ``merge_gap_ms`` of the previous one's end (a value flickering on its threshold
    is one breach, not several)."""
    from streams.lab.scoring.breach import Breach

    out = []
    for comp, info in truth["components"].items():
        for metric, intervals in info["fail_intervals"].items():
            prev_end: int | None = None
            for start, end in intervals:
                if prev_end is None or start - prev_end >= merge_gap_ms:
                    out.append(Breach(comp, metric, int(start)))
                prev_end = int(end) if end is not None else int(truth["now_ms"])
    return sorted(out, key=lambda b: (b.breach_ms, b.component, b.metric))


def failing_of(truth: Mapping[str, Any]) -> dict[str, list[tuple[int, int]]]:
    """Each component's FAIL intervals ``[start, end)`` (an open one ends at ``now_ms``)."""
    return {comp: [(int(a), int(b) if b is not None else int(truth["now_ms"]))
                   for intervals in info["fail_intervals"].values() for a, b in intervals]
            for comp, info in truth["components"].items()}


def breach_figures(events: Sequence[Any], breaches: Sequence[Any],
                   spans: Mapping[str, tuple[int, int]], threshold: float, horizon_s: float,
                   failing: Mapping[str, Sequence[tuple[int, int]]] | None = None
                   ) -> dict[str, Any]:
    """The breach-prediction figures at ``threshold`` and at the best-F1 threshold. The
    Brier label of every window, inside an ongoing FAIL too, is the one the risk model learns
    from: "a new breach (``breaches``, merged as the pipeline's onset label merges them)
    within the horizon" (issue #15, s15: an alarm during an ongoing FAIL claims a new FAIL,
    as precision counts it). ``brier_fail_left_out`` (with ``failing``) is the earlier
    label, which left out a window inside a FAIL unless a new breach followed it: a choice
    on the outcome, kept for comparison."""
    from streams.lab.scoring.breach import (
        best_f1_threshold,
        brier_score,
        event_labels,
        score_breaches,
    )

    at = score_breaches(events, breaches, spans, threshold=threshold, horizon_s=horizon_s,
                        leads_s=LEADS_S)
    best = best_f1_threshold(events, breaches, spans, lead_s=F1_LEAD_S, horizon_s=horizon_s,
                             leads_s=LEADS_S)
    leads = np.asarray(at.lead_times_s, dtype=np.float64)
    q = np.percentile(leads, [0, 25, 50, 75, 100]).tolist() if leads.size else [math.nan] * 5
    days = sum((b - a) / 86_400_000 for a, b in spans.values())
    return {
        "threshold": threshold, "horizon_s": horizon_s, "components": len(spans),
        "component_days": days, "breaches": at.breaches, "episodes": at.episodes,
        "true_episodes": at.true_episodes, "censored_episodes": at.censored_episodes,
        "precision": at.precision, "recall": {str(k): v for k, v in at.recall.items()},
        f"f1_at_{F1_LEAD_S}s": at.f1(F1_LEAD_S),
        "lead_time_s": dict(zip(("min", "p25", "median", "p75", "max"), q, strict=True))
        | {"n": int(leads.size), "mean": float(leads.mean()) if leads.size else math.nan},
        "lead_times_s": [float(v) for v in leads],
        "eta_abs_error_s_median": float(np.median(at.eta_abs_errors_s))
        if at.eta_abs_errors_s else math.nan,
        "false_alarms_per_component_day": at.false_alarms_per_component_day,
        "brier": at.brier,
        "brier_fail_left_out": brier_score(*event_labels(events, breaches, spans, horizon_s,
                                                         failing))
        if failing is not None else math.nan,
        "reliability": [{"lower": b.lower, "upper": b.upper, "count": b.count,
                         "mean_risk": b.mean_risk, "frequency": b.frequency}
                        for b in at.reliability],
        # With a low enough threshold every component alarms until the end, and the breach
        # scorer censors such an episode: there precision is 1. Read this with that in mind.
        "best_f1": {"threshold": best.threshold, "precision": best.precision,
                    "episodes": best.episodes, "censored_episodes": best.censored_episodes,
                    "recall": {str(k): v for k, v in best.recall.items()},
                    f"f1_at_{F1_LEAD_S}s": best.f1(F1_LEAD_S),
                    "false_alarms_per_component_day": best.false_alarms_per_component_day},
    } | _crossing(events, breaches, spans, threshold, horizon_s)


def _crossing(events: Sequence[Any], breaches: Sequence[Any],
              spans: Mapping[str, tuple[int, int]], threshold: float, horizon_s: float
              ) -> dict[str, Any]:
    """Where the events carry an alarm state (the pages counted above): the old count from
    the risk crossing ``threshold`` beside it (recall and Brier are the same in both), and
    the share of windows each fires (s29)."""
    if not any(getattr(e, "alarm", None) is not None for e in events):
        return {}
    from streams.lab.scoring.breach import score_breaches

    old = score_breaches(events, breaches, spans, threshold=threshold, horizon_s=horizon_s,
                         leads_s=LEADS_S, pages=False)
    n = max(len(events), 1)
    return {"risk_crossing": {
        "episodes": old.episodes, "true_episodes": old.true_episodes,
        "censored_episodes": old.censored_episodes, "precision": old.precision,
        "false_alarms_per_component_day": old.false_alarms_per_component_day,
        "window_share": sum(e.risk >= threshold for e in events) / n},
        "alarm_window_share": sum(bool(e.alarm) for e in events) / n}


def fleet_run(name: str, seed: int, base: PipelineConfig, threshold: float,
              overrides: Mapping[str, Any]) -> dict[str, Any]:
    """One scenario through the replay path, open loop, scored against its ground truth."""
    from streams.lab.replay import Replay, sample_messages
    from streams.lab.scoring.breach import RiskEvent
    from streams.sim.simulator import Fleet, scenario

    sc = scenario(name, seed=seed, **overrides)
    fleet = Fleet(sc)
    base = replace(base, dependencies=tuple((c.id, d) for c in sc.components
                                            for d in c.depends_on))
    watched = {(i.component, i.metric) for i in sc.incidents}
    values: dict[tuple[str, str], list[tuple[int, float]]] = {k: [] for k in watched}

    def samples() -> Iterable[dict[str, Any]]:
        for step in fleet.run():
            for s in step:
                for key in watched:
                    if key[0] == s["component"]:
                        values[key].append((s["ts"], s["metrics"][key[1]]))
                yield s

    plotted = {i.component for i in sc.incidents[:12]}
    risk: dict[str, list[tuple[int, float]]] = {c: [] for c in plotted}
    events = []
    replay = Replay(base)
    for r in replay.risk(sample_messages(samples(), replay.codec)):  # records are big: stream
        eta = r["breach"]["eta_s"] if r["breach"] else None
        events.append(RiskEvent(r["component"], r["ts"], r["risk"], eta, r.get("alarm")))
        if r["component"] in plotted:
            risk[r["component"]].append((r["ts"], r["risk"]))
    truth = fleet.ground_truth()
    breaches = breaches_of(truth, base.horizon_s * 1000)
    spans = {c: (truth["start_ms"], truth["now_ms"]) for c in truth["components"]}
    failing = failing_of(truth)
    figures = breach_figures(events, breaches, spans, threshold, base.horizon_s, failing)
    plots = [{
        "title": f"{inc['kind']} on {inc['component']}", "metric": inc["metric"],
        "threshold": inc["threshold"], "values": values[(inc["component"], inc["metric"])],
        "risk": risk[inc["component"]], "incident": (inc["start_ms"], inc["end_ms"]),
        "breaches": [b.breach_ms for b in breaches if b.component == inc["component"]],
    } for inc in truth["incidents"][:12]]
    return {"scenario": name, "seed": seed, "figures": figures, "events": events,
            "breaches": breaches, "spans": spans, "failing": failing, "plots": plots,
            "samples": replay.handler.counters.samples, "start_ms": truth["start_ms"],
            "end_ms": truth["now_ms"]}


def pooled_figures(runs: Sequence[Mapping[str, Any]], threshold: float,
                   horizon_s: float) -> dict[str, Any]:
    """Breach figures over several ``fleet_run`` results, components namespaced by scenario."""
    from streams.lab.scoring.breach import Breach, RiskEvent

    ev = [RiskEvent(f"{r['scenario']}:{e.component}", e.ts_ms, e.risk, e.eta_s, e.alarm)
          for r in runs for e in r["events"]]
    br = [Breach(f"{r['scenario']}:{b.component}", b.metric, b.breach_ms)
          for r in runs for b in r["breaches"]]
    sp = {f"{r['scenario']}:{c}": s for r in runs for c, s in r["spans"].items()}
    fl = {f"{r['scenario']}:{c}": s for r in runs for c, s in r["failing"].items()}
    return breach_figures(ev, br, sp, threshold, horizon_s, fl)


def backtest_fleet(names: Sequence[str], seed: int, base: PipelineConfig, threshold: float,
                   out_dir: str | Path | None, jobs: int = 1,
                   overrides: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """Every scenario in ``names``; with several, an ``all`` row pools their events."""
    from streams.lab.report import write_page
    from streams.lab.sections import fleet_sections

    tasks = [(n, seed, base, threshold, dict((overrides or {}).get(n, {}))) for n in names]
    runs = pmap(fleet_run, tasks, jobs)
    figures = {r["scenario"]: r["figures"] for r in runs}
    if len(runs) > 1:
        figures["all"] = pooled_figures(runs, threshold, base.horizon_s)
    result = {"seed": seed, "threshold": threshold, "horizon_s": base.horizon_s,
              "leads_s": list(LEADS_S), "scenarios": figures,
              "samples": {r["scenario"]: r["samples"] for r in runs}}
    if out_dir is not None:
        out = Path(out_dir)
        write_json(out / "scores.json", result)
        write_page(out / "index.html", "forewarn backtest: simulated fleet",
                   f"Open loop (no allocations), seed {seed}; an alarm is risk &ge; "
                   f"{threshold:g} (episodes: the alarm state's pages where the risk events "
                   "carry one; scores.json's risk_crossing: the old count); horizon "
                   f"{base.horizon_s} s. Breaches are FAIL crossings "
                   "(a metric's crossings within one horizon of the last one merged).",
                   fleet_sections(fleet_table(result), runs, figures))
    return result


def fleet_table(result: Mapping[str, Any]) -> tuple[list[str], list[list[Any]]]:
    headers = ["scenario", "breaches", "alarms", "precision", "recall@1m", "recall@5m",
               "recall@15m", "F1@5m", "lead p50 min", "false alarms/comp-day", "Brier"]
    rows = []
    for name, f in result["scenarios"].items():
        lead = f["lead_time_s"]["median"]
        rows.append([name, f["breaches"], f["episodes"], f["precision"], f["recall"]["60"],
                     f["recall"]["300"], f["recall"]["900"], f[f"f1_at_{F1_LEAD_S}s"],
                     None if lead is None or math.isnan(lead) else f"{lead / 60:.1f}",
                     f["false_alarms_per_component_day"], f["brier"]])
    return headers, rows
