"""A fleet prior learnt from traces (``forewarn prior learn``; issue #11, session 26): each
:class:`~streams.sim.traces.Trace`'s memory as :func:`actuators.fleetprior.learn` reads it.

The forecasters see what ``forewarn backtest trace`` gives the ``forewarn`` sizer: the demand
per step and the provisioned size where the trace records one (where it does not, the sizer
keeps the size it has), the first step's being :func:`~streams.lab.trace.loop.provisioned`
(the trace's own, else its median positive size, else its largest demand). The file holds
ratios of demand to the forecasters' bases, so the demand's unit does not matter.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from actuators.fleetprior import Series, learn
from actuators.sizerbase import DAY
from streams.lab.trace.loop import provisioned
from streams.sim.traces import Trace


def series(trace: Trace) -> Series:
    """One trace's memory history for :func:`actuators.fleetprior.learn`."""
    raw, full = trace.capacity.get("mem"), provisioned(trace, "mem")
    given = full if raw is None else np.where(raw > 0, raw, 0.0)
    given[:1] = full[:1]
    return trace.component, trace.ts, trace.demand["mem"], given, trace.step_s


def learn_traces(traces: Sequence[Trace], delay_s: int = 300, min_span_s: float = DAY,
                 start: int | None = None, end: int | None = None,
                 ) -> tuple[dict[str, Any], list[str]]:
    """The prior learnt on ``traces`` (in their order) and the components left out, with why
    (:func:`actuators.fleetprior.learn`)."""
    each: Iterator[Series] = (series(t) for t in traces)
    return learn(each, delay_s, min_span_s, start, end)


__all__ = ["learn_traces", "series"]
