"""The window-feature stage alone, per component against the batch kernel, in one run (#14).

The bench data (``fleet_samples``: 50 components, 12 metrics, 10 s apart) is added to two
identical sets of windowers in polls of ``--poll`` samples; after each poll the windows due
are closed, on one side by ``Windower.advance`` per component, on the other by
:func:`processors.batch.features.advance_all`. Only the closing is timed (CPU time), the two
sides alternate poll by poll (so load hits both alike), and their closed windows are checked
equal bit for bit. ``kernel_*``: the feature kernel alone, ``window_features`` per window
against ``batch_window_features`` on the same windows, ``--poll // 12`` windows a call.
``decode_*``: the same samples as the bench's 30-sample ``MetricBatch`` messages, read by
``Codec.decode`` (fastavro) and by :func:`schemas.batchwire.read_columns` (the columns, and
``to_record`` on them: the same dicts), checked equal. ``pipeline_*``: the whole pipeline,
``Pipeline.ingest`` on each sample against ``BatchPipeline.ingest_batch`` on each poll,
alternating poll by poll, records checked equal. ``trend_*``: the forecasters' trend refit,
``fit_trend`` per series against ``fit_trends`` on all, over the last 10 minute means of every
metric of every component at each minute (a worker's refits), checked equal. Repeated
``--runs`` times; medians::

    python -m streams.bench.batchstage [--samples 12000] [--poll 600] [--runs 5]
    python -m streams.bench.batchstage --rows    # the outlook's forecast rows (rows_run)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any

from processors.batch.features import advance_all, batch_window_features
from processors.batch.pipeline import BatchPipeline
from processors.batch.trend import fit_trends, minute_rounds
from processors.config import PipelineConfig
from processors.features import Windower, window_features, window_maps
from processors.pipeline import Output, Pipeline
from processors.trendline import fit_trend
from schemas.batchwire import read_columns
from schemas.codec import Codec
from streams.sim.examples import fleet_samples


def one_run(samples: list[dict[str, Any]], poll: int) -> dict[str, float]:
    """CPU seconds to close the windows, per component and batched, over the samples."""
    c = PipelineConfig()
    one: dict[str, Windower] = {}
    many: dict[str, Windower] = {}
    t_one = t_many = 0.0
    windows = 0
    clock = time.process_time
    for i in range(0, len(samples), poll):
        for s in samples[i:i + poll]:
            for side in (one, many):
                w = side.setdefault(s["component"], Windower(c.window_s, c.lateness_s))
                w.add(s["ts"], s["metrics"])
        names = sorted(one)
        t0 = clock()
        singles = [one[n].advance() for n in names]
        t1 = clock()
        together = advance_all([many[n] for n in names])
        t2 = clock()
        t_one += t1 - t0
        t_many += t2 - t1
        if [repr(x) for x in singles] != [repr(x) for x in together]:
            raise AssertionError(f"poll {i // poll}: batch windows differ from per-component")
        windows += sum(len(x) for x in singles)
    return {"windows": windows, "per_component_us_per_window": 1e6 * t_one / windows,
            "batch_us_per_window": 1e6 * t_many / windows, "ratio": t_one / t_many}


def kernel_run(samples: list[dict[str, Any]], per_call: int) -> dict[str, float]:
    """CPU µs per window of the feature kernel alone, per window and batched."""
    c = PipelineConfig()
    ws: dict[str, Windower] = {}
    for s in samples:
        ws.setdefault(s["component"], Windower(c.window_s, c.lateness_s)).add(s["ts"],
                                                                               s["metrics"])
    wins = [(window_maps(w.state.open[k]), w.state.prev_mean)
            for w in ws.values() for k in w.state.open]
    calls = [wins[i:i + per_call] for i in range(0, len(wins), per_call)]
    clock = time.process_time
    t_one = t_many = 0.0
    for call in calls:
        t0 = clock()
        singles = [window_features(w, 0, p) for w, p in call]
        t1 = clock()
        together = batch_window_features(call)
        t2 = clock()
        t_one, t_many = t_one + t1 - t0, t_many + t2 - t1
        if repr(singles) != repr(together):
            raise AssertionError("batch kernel differs from window_features")
    return {"kernel_per_window_us": 1e6 * t_one / len(wins),
            "kernel_batch_us": 1e6 * t_many / len(wins), "kernel_ratio": t_one / t_many}


def decode_run(samples: list[dict[str, Any]]) -> dict[str, float]:
    """CPU µs per message: fastavro's record, the fast path's columns, and its record."""
    from streams.bench.throughput import encode_batches

    codec = Codec()
    msgs = [value for _, value, _ in encode_batches(codec, samples)]
    clock = time.process_time
    t0 = clock()
    records = [codec.decode(m, ("MetricBatch",))[1] for m in msgs]
    t1 = clock()
    columns = [read_columns(codec, m) for m in msgs]
    t2 = clock()
    again = [c.to_record() for c in columns if c is not None]
    t3 = clock()
    if repr(again) != repr(records):
        raise AssertionError("the fast path's records differ from fastavro's")
    n = len(msgs)
    return {"decode_fastavro_us": 1e6 * (t1 - t0) / n, "decode_columns_us": 1e6 * (t2 - t1) / n,
            "decode_columns_ratio": (t1 - t0) / (t2 - t1),
            "decode_records_ratio": (t1 - t0) / (t3 - t1)}


def pipeline_run(samples: list[dict[str, Any]], poll: int) -> dict[str, float]:
    """CPU µs per sample of the whole pipeline: ingest per sample, and ingest_batch per poll."""
    from streams.runtime.worker import pipeline_config
    from streams.settings import Settings

    config = pipeline_config(Settings.load(env={}))
    one, many = Pipeline(config), BatchPipeline(config)
    clock = time.process_time
    t_one = t_many = 0.0
    for i in range(0, len(samples), poll):
        chunk = samples[i:i + poll]
        t0 = clock()
        a = Output()
        for s in chunk:
            a.extend(one.ingest(s))
        t1 = clock()
        b = many.ingest_batch(chunk)
        t2 = clock()
        t_one, t_many = t_one + t1 - t0, t_many + t2 - t1
        if repr((a.health, a.risk, a.rejected)) != repr((b.health, b.risk, b.rejected)):
            raise AssertionError(f"poll {i // poll}: ingest_batch differs from ingest")
    return {"pipeline_ingest_us": 1e6 * t_one / len(samples),
            "pipeline_batch_us": 1e6 * t_many / len(samples), "pipeline_ratio": t_one / t_many}


def profile_batch(samples: list[dict[str, Any]], poll: int) -> None:
    """pyinstrument's trees (every 0.5 ms; in the dev extra) of
    ``ingest`` per sample, then of ``ingest_batch`` per poll, over the same samples: the
    pipeline's profile before and after the batch stage."""
    from pyinstrument import Profiler

    from streams.runtime.worker import pipeline_config
    from streams.settings import Settings

    config = pipeline_config(Settings.load(env={}))
    for batched in (False, True):
        p = BatchPipeline(config)
        prof = Profiler(interval=0.0005)
        prof.start()
        for i in range(0, len(samples), poll):
            if batched:
                p.ingest_batch(samples[i:i + poll])
            else:
                for s in samples[i:i + poll]:
                    p.ingest(s)
        prof.stop()
        print("ingest_batch per poll" if batched else "ingest per sample")
        print(prof.output_text(unicode=False, color=False))


def trend_run(samples: list[dict[str, Any]]) -> dict[str, float]:
    """CPU µs per refit: fit_trend per series, and fit_trends per minute over all series."""
    rounds = minute_rounds(samples)
    clock = time.process_time
    t_one = t_many = 0.0
    fits = 0
    for ts, ys in rounds:
        t0 = clock()
        one = [fit_trend(t, y) for t, y in zip(ts, ys, strict=True)]
        t1 = clock()
        many = fit_trends(ts, ys)
        t2 = clock()
        t_one, t_many, fits = t_one + t1 - t0, t_many + t2 - t1, fits + len(ts)
        if repr(one) != repr(many):
            raise AssertionError("fit_trends differs from fit_trend")
    return {"trend_per_series_us": 1e6 * t_one / fits, "trend_batch_us": 1e6 * t_many / fits,
            "trend_ratio": t_one / t_many}


def rows_run(samples: list[dict[str, Any]], poll: int, runs: int, per_round: int = 50) -> None:
    """The next stage's ceiling (not wired): the outlook's forecast rows (``line_rows``,
    every rule metric of a window over the grid of horizons) per window, as the pipeline
    calls it, against one call per ``per_round`` windows (a round over the bench's 50
    components) on the same lines; checked equal (``line_rows`` is element by element, so
    stacking windows changes no bit), CPU time, medians of ``runs``."""
    import numpy as np

    import processors.outlook as outlook
    from processors.trendline import line_rows

    calls: list[tuple[list[Any], list[int]]] = []
    namespace = vars(outlook)  # the name observe_window's pass calls, swapped for the run

    def recording(lines: Any, cols: Any) -> Any:
        calls.append((list(lines), list(cols)))
        return line_rows(lines, cols)

    namespace["line_rows"] = recording
    try:
        pipe = BatchPipeline(PipelineConfig())
        for i in range(0, len(samples), poll):
            pipe.ingest_batch(samples[i:i + poll])
    finally:
        namespace["line_rows"] = line_rows
    rounds = [calls[i:i + per_round] for i in range(0, len(calls), per_round)]
    for rnd in rounds:
        got = line_rows([ln for lines, _ in rnd for ln in lines], rnd[0][1])
        want = [line_rows(*c) for c in rnd]
        if not all(np.array_equal(np.concatenate([w[k] for w in want]), got[k], equal_nan=True)
                   for k in range(4)):
            raise AssertionError("line_rows over a round differs from per window")
    one, many = [], []
    for _ in range(runs):
        t0 = time.process_time()
        for c in calls:
            line_rows(*c)
        t1 = time.process_time()
        for rnd in rounds:
            line_rows([ln for lines, _ in rnd for ln in lines], rnd[0][1])
        one.append(t1 - t0)
        many.append(time.process_time() - t1)
    a, b = statistics.median(one), statistics.median(many)
    print(f"forecast rows: {len(calls)} windows, {sum(len(c[0]) for c in calls) / len(calls):.1f}"
          f" rows each; per window {1e6 * a / len(calls):.1f} µs, per round of {per_round} "
          f"{1e6 * b / len(calls):.1f} µs a window: {a / b:.2f}x (equal bit for bit)")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m streams.bench.batchstage")
    p.add_argument("--samples", type=int, default=12_000)
    p.add_argument("--poll", type=int, default=600, help="samples per poll (20 MetricBatches)")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--profile", action="store_true", help="pyinstrument of ingest_batch only")
    p.add_argument("--rows", action="store_true", help="only the outlook's forecast rows per "
                   "window against per round of windows (the next stage, not wired)")
    args = p.parse_args(argv)
    samples = fleet_samples(args.samples)
    if args.rows:
        rows_run(samples, args.poll, args.runs)
        return 0
    if args.profile:
        profile_batch(samples, args.poll)
        return 0
    runs = [one_run(samples, args.poll) | kernel_run(samples, max(1, args.poll // 12))
            | decode_run(samples) | pipeline_run(samples, args.poll) | trend_run(samples)
            for _ in range(args.runs)]
    for r in runs:
        print(" ".join(f"{k}={v:.2f}" for k, v in r.items()))
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"median of {args.runs}: {med['per_component_us_per_window']:.1f} µs per window "
          f"per component, {med['batch_us_per_window']:.1f} batched: "
          f"{med['ratio']:.2f}x ({int(med['windows'])} windows a run, bit-identical); "
          f"kernel alone {med['kernel_per_window_us']:.1f} -> {med['kernel_batch_us']:.1f} µs "
          f"per window: {med['kernel_ratio']:.2f}x; MetricBatch decode "
          f"{med['decode_fastavro_us']:.0f} µs (fastavro) -> {med['decode_columns_us']:.0f} µs "
          f"(columns): {med['decode_columns_ratio']:.2f}x, to dicts "
          f"{med['decode_records_ratio']:.2f}x; whole pipeline {med['pipeline_ingest_us']:.1f} "
          f"-> {med['pipeline_batch_us']:.1f} µs per sample: {med['pipeline_ratio']:.2f}x; "
          f"trend refit {med['trend_per_series_us']:.1f} -> {med['trend_batch_us']:.2f} µs "
          f"per series: {med['trend_ratio']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
