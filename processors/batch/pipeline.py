"""The batch API over :class:`processors.pipeline.Pipeline`: ``ingest_batch(samples)`` (#14).

A poll's samples, for many components, in two passes:

1. **admit** every sample in order — validation, the time-jump guard, the component's
   windows — and take out, without computing them, the windows each sample closes. These
   steps read and write only the component's own windows, so running them ahead of the rest
   changes nothing;
2. compute the features of every window taken out, for all components at once
   (:func:`processors.batch.features.features_by_round`: a windower's windows in order),
   then phase (a) of their outlook — each rule metric's outlook learns the window, then its
   forecasts and breach estimates — for all components at once
   (:func:`processors.batch.outlook.outlooks_by_round`: reads and writes only the
   component's own outlooks, its windows in order);
3. **judge** every admitted sample in order, as :meth:`Pipeline.ingest` does after adding to
   the window: health, then each closed window scored, then the labels it resolves. What
   components share (the fleet's learner, a parent's last risk) is touched only here, in the
   original order.

So ``ingest_batch(samples)`` gives the records of ``[ingest(s) for s in samples]``, in the
same order, bit for bit (``tests/unit/test_batch_pipeline.py`` checks it on the bench data,
the simulator's ``mixed`` scenario and NAB files). Step 2 is what is batched (window features,
the outlooks' forecasts and breaches); the next stages (novelty, the outlooks' learning) join
it as they get array forms (docs/throughput.md "Design").
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
from typing import Any

from processors.batch.features import Window, close_due, features_by_round
from processors.batch.outlook import Seen, outlooks_by_round
from processors.features import ClosedWindow
from processors.nativeattr import mypyc_attr
from processors.pipeline import ComponentState, Output, Pipeline

__all__ = ["Admitted", "BatchPipeline"]


class Admitted:
    """One accepted sample between the passes: its windows due (taken out of the windower,
    step 1), their :class:`ClosedWindow` values (step 2). (Slotted, not a dataclass: one per
    sample, #14.)"""

    __slots__ = ("component", "st", "ts", "taken", "due", "closed", "seen")

    def __init__(self, component: str, st: ComponentState, ts: int,
                 taken: dict[str, float]) -> None:
        self.component = component
        self.st = st
        self.ts = ts
        self.taken = taken
        self.due: list[tuple[int, Window]] = []
        self.closed: list[ClosedWindow] = []
        self.seen: list[Seen] = []  # each closed window's outlook phase (a)


@mypyc_attr(allow_interpreted_subclasses=True)  # CheckpointedPipeline, tests (#14, s26)
class BatchPipeline(Pipeline):
    """:class:`Pipeline` with :meth:`ingest_batch`; ``ingest`` is unchanged."""

    def ingest_batch(self, samples: Sequence[Mapping[str, Any]]) -> Output:
        """The records of ``ingest`` on each sample in order, computed a poll at a time."""
        out = Output()
        for got in self.judge_each([self.admit(s) for s in samples]):
            if isinstance(got, BaseException):
                raise got
            out.extend(got)
        return out

    def admit(self, sample: Mapping[str, Any]) -> Admitted | Output:
        """Step 1 for one sample: :meth:`Pipeline.ingest` up to the window (a rejection or
        duplicate's Output, or the accepted sample), and the windows it makes due taken out."""
        out, got = self._accept(sample)
        if got is None:
            return out
        component, st, ts, taken = got  # not Admitted(*got): a generic call (s32)
        a = Admitted(component, st, ts, taken)
        a.due = close_due(a.st.windower)
        return a

    def judge_each(self, admitted: Sequence[Admitted | Output | BaseException]
                   ) -> list[Output | BaseException]:
        """Steps 2 and 3 over :meth:`admit`'s results in order: each one's Output (an Output
        or an exception given stays as it is). A sample whose judging raises gets the
        exception in its place, the rest are judged; should the batched features or outlooks
        raise, every sample that closed a window gets that exception (what
        :meth:`Pipeline.ingest` would raise on each, its state part changed, as there)."""
        lanes = [a for a in admitted if isinstance(a, Admitted)]
        failed: BaseException | None = None
        try:
            features_by_round([(a.st.windower, a.due, a.closed) for a in lanes])
            outlooks_by_round([(a.st, a.closed, a.seen) for a in lanes if a.closed],
                              self._rules_by_metric, self._grid, self.config)
        except Exception as exc:  # a bug must not stop the others: their samples judged
            failed = exc
        out: list[Output | BaseException] = []
        for got in admitted:
            if not isinstance(got, Admitted):
                out.append(got)
            elif failed is not None and got.due:
                out.append(failed)
            else:
                try:
                    out.append(self._judge(got))
                except Exception as exc:  # as the handler does around ingest
                    out.append(exc)
        return out

    def _judge(self, a: Admitted) -> Output:
        """:meth:`Pipeline.ingest` from the window on, with the windows it closed."""
        return self._judged(a.component, a.st, a.ts, a.taken, lambda: a.closed, a.seen)
