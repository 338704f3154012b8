"""The batch core over components (issue #14): kernels that do one stage for many components
at once, with the same numbers as the per-component code.

* :mod:`processors.batch.features` — the features of many components' closed windows in one
  set of numpy calls (:func:`~processors.batch.features.batch_window_features`).

Not wired into :class:`processors.pipeline.Pipeline` yet: see docs/throughput.md "Design".
"""
