"""``forewarn backtest trace``: right-sizing policies in a closed loop over real per-VM traces.

:func:`backtest_trace` reads the traces (``streams.sim.traces``), runs every component under
every policy and knob value (:mod:`streams.lab.trace.loop`, over ``jobs`` processes) and sums
the figures (:mod:`streams.lab.trace.summary`) into the JSON object of docs/closedloop.md
("Real traces"). :mod:`streams.lab.trace.html` draws violation-minutes against slack.
"""

from __future__ import annotations

from streams.lab.trace.summary import backtest_trace, matched, summarise

__all__ = ["backtest_trace", "matched", "summarise"]
