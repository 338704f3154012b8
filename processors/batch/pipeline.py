"""The batch API over :class:`processors.pipeline.Pipeline`: ``ingest_batch(samples)`` (#14).

A poll's samples, for many components, in two passes:

1. **admit** every sample in order — validation, the time-jump guard, the component's
   windows — and take out, without computing them, the windows each sample closes. These
   steps read and write only the component's own windows, so running them ahead of the rest
   changes nothing;
2. compute the features of every window taken out, for all components at once
   (:func:`processors.batch.features.features_by_round`: a windower's windows in order);
3. **judge** every admitted sample in order, as :meth:`Pipeline.ingest` does after adding to
   the window: health, then each closed window scored, then the labels it resolves. What
   components share (the fleet's learner, a parent's last risk) is touched only here, in the
   original order.

So ``ingest_batch(samples)`` gives the records of ``[ingest(s) for s in samples]``, in the
same order, bit for bit (``tests/unit/test_batch_pipeline.py`` checks it on the bench data,
the simulator's ``mixed`` scenario and NAB files). Only step 2 is batched so far; the next
stages (forecasters, novelty) join it as they get array forms (docs/throughput.md "Design").
Keep :meth:`BatchPipeline._judge` in step with :meth:`Pipeline.ingest` (the test fails when
they part).

>>> p = BatchPipeline()
>>> out = p.ingest_batch([{"component": c, "host": c, "ts": t, "metrics": {"cpu.util": 0.5},
...                        "tags": {}} for t in (0, 10_000, 95_000) for c in ("a", "b")])
>>> [(r["component"], r["ts"]) for r in out.risk], len(out.health), out.rejected
([('a', 60000), ('b', 60000)], 2, [])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from processors.batch.features import Window, close_due, features_by_round
from processors.features import ClosedWindow, Windower
from processors.pipeline import ComponentState, Output, Pipeline

__all__ = ["BatchPipeline"]


@dataclass
class _Admitted:
    """One accepted sample between the passes."""

    component: str
    st: ComponentState
    ts: int
    taken: dict[str, float]
    closed: list[ClosedWindow] = field(default_factory=list)  # filled in step 2


class BatchPipeline(Pipeline):
    """:class:`Pipeline` with :meth:`ingest_batch`; ``ingest`` is unchanged."""

    def ingest_batch(self, samples: Sequence[Mapping[str, Any]]) -> Output:
        """The records of ``ingest`` on each sample in order, computed a poll at a time."""
        admitted: list[_Admitted | Output] = []
        pending: list[tuple[_Admitted, Windower, list[tuple[int, Window]]]] = []
        for sample in samples:
            got = self._admit(sample)
            admitted.append(got)
            if isinstance(got, _Admitted):
                windower = got.st.windower
                pending.append((got, windower, close_due(windower)))
        features_by_round([(w, due, a.closed) for a, w, due in pending])
        out = Output()
        for got in admitted:
            out.extend(got if isinstance(got, Output) else self._judge(got))
        return out

    def _admit(self, sample: Mapping[str, Any]) -> _Admitted | Output:
        """:meth:`Pipeline.ingest` up to the window: a rejection or duplicate's Output, or
        the accepted sample."""
        out, got = self._accept(sample)
        return out if got is None else _Admitted(*got)

    def _judge(self, a: _Admitted) -> Output:
        """:meth:`Pipeline.ingest` from the window on, with the windows it closed."""
        out = Output()
        st, ts = a.st, a.ts
        st.samples_seen += 1
        out.health = self.evaluator.evaluate(a.component, ts, a.taken)
        if st.health.last_ts_ms == ts:
            start = ts - ts % (self.config.window_s * 1000)
            if start not in st.window_status or any(not h["heartbeat"] for h in out.health):
                st.window_status[start] = {k: int(v) for k, v in st.health.statuses().items()}
        for window in a.closed:
            out.risk.append(self._score(a.component, st, window))
        if st.health.last_ts_ms == ts:
            positive = self._label_event(st, ts)
            if st.pending is not None:
                for base, states, y in st.pending.resolve(ts, positive):
                    self._learn(st, base, states, y)
        return out
