"""The ``forewarn run`` terminal view (pure): labelled columns, recent peaks, leases, events in
event-time order, the terminal's width, the end of the scenario, this machine's row."""

from __future__ import annotations

from streams.api.model import ReadModel
from streams.app.liveview import ViewInfo, render
from tests.apiutil import grant, outcome, risk

T0 = 1_767_571_200_000
MIN = 60_000


def model() -> ReadModel:
    m = ReadModel()
    m.apply("RiskScore", risk("web-01", T0, 0.95, eta_s=180))
    m.apply("RiskScore", risk("web-01", T0 + MIN, 0.05, eta_s=None, alarm=True))  # held
    m.apply("RiskScore", risk("laptop", T0 + 10**11, 0.01, eta_s=None))
    # read out of order: the outcome topic before the command topic
    m.apply("AllocationOutcome", outcome("g", "web-01", T0 + MIN))
    m.apply("AllocationCommand", grant("web-01", T0 + MIN, cid="g"))
    m.apply("AllocationCommand", grant("web-01", T0, resource="IO_WEIGHT", cid="h"))
    return m


def test_view_labels_holds_peaks_and_sorts_events() -> None:
    info = ViewInfo(broker="127.0.0.1:1", dashboard="http://127.0.0.1:8080/", elapsed_s=80,
                    scenario="ramp", this_host="laptop")
    lines = render(model(), info, width=300)
    text = "\n".join(lines)
    assert "scenario ramp: running" in text
    header = next(line for line in lines if line.startswith("component"))
    for label in ("event time", "risk", "peak15m", "health", "page since", "breach forecast",
                  "leases held", "model"):
        assert label in header
    web = next(line for line in lines if line.startswith("web-01"))
    assert " 0.05 " in web and " 0.95 " in web  # risk now, and the peak it had
    assert "CPU_WEIGHT+200" in web and "IO_WEIGHT+200" in web and "+-" not in web
    assert " PASS   05 00:01   " in web  # its page, firing since the spike's next window
    laptop = next(line for line in lines if line.startswith("laptop"))
    assert " PASS   ?          " in laptop  # no page state in its events: unknown
    rows = [line.split()[0] for line in lines[lines.index(header) + 1:] if line[:1].isalnum()]
    assert rows[:2] == ["web-01", "laptop"]  # this machine last, and said what it is
    assert "laptop: this machine's own metrics, in wall-clock time" in text
    events = lines[lines.index("allocations and outcomes, by event time (newest last):") + 1:]
    assert [e.split()[2] for e in events] == ["GRANT", "GRANT", "APPLIED"]  # by event time


def test_view_fits_the_width_and_says_the_scenario_ended() -> None:
    info = ViewInfo(broker="b", dashboard="d", elapsed_s=200, scenario="ramp",
                    ended_ms=T0 + 75 * MIN)
    lines = render(model(), info, width=60)
    assert max(len(line) for line in lines) <= 60
    assert "ENDED at event time 05 01:15" in lines[0]
    assert render(ReadModel(), info, width=200)[4].startswith("  (no risk scored yet")
