"""The batch core over components (issue #14): one stage for many components at once, with
the same numbers as the per-component code, bit for bit.

* :mod:`processors.batch.features` — the features of many components' closing windows in one
  set of numpy calls (``batch_window_features``, ``close_due``, ``features_by_round``);
* :mod:`processors.batch.outlook` — phase (a) of the outlook (each rule metric learns the
  window, then its forecasts and breach estimates) for many components' closed windows, a
  round of windows as one set of numpy rows (``outlooks_by_round``);
* :mod:`processors.batch.pipeline` — ``BatchPipeline.ingest_batch(samples)``: a poll's samples,
  the records of ``Pipeline.ingest`` on each, with the window features and outlooks batched
  (``admit`` each sample, then ``judge_each``: the worker's path,
  ``MetricsHandler.handle_batch``);
* :mod:`processors.batch.trend` — the forecasters' trend refit for many series (``fit_trends``;
  not used by the pipeline yet).

The worker runs a poll's messages through ``BatchPipeline`` (setting ``worker_batch``, 64;
1: message by message); see docs/throughput.md ("the batch core's design", "wired").
"""

from processors import NATIVE as _NATIVE

if _NATIVE is not None:  # the compiled build (processors/__init__.py)
    __path__.insert(0, str(_NATIVE / "batch"))
