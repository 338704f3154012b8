"""The alarm state (issue #15, s29; ``alarm_hold_s``): ``RiskScore.alarm`` fires from a risk at
the alarm point, keeps firing for the hold after the risk fell and for as long as the
component is in a rule FAIL; the risk, ``act`` and the learning are the option's off ones, and
the breach scorer counts pages from the state."""

from __future__ import annotations

from typing import Any

from processors.alarmstate import firing
from processors.config import PipelineConfig
from processors.pipeline import Pipeline
from streams.lab.backtest import breach_figures
from streams.lab.scoring.breach import Breach, RiskEvent, score_breaches
from streams.sim.examples import fleet_samples
from tests.unit.test_alarmcascade import restores_under

H, T = 900_000, 1 / 3
ON, OFF = PipelineConfig(), PipelineConfig(alarm_hold_s=0)  # on: the default since s29


def test_fires_holds_and_releases() -> None:
    hi = firing(None, 0.2, 60_000, False, H, T)
    assert hi is None  # under the alarm point: not firing
    hi = firing(hi, 0.4, 120_000, False, H, T)
    assert hi == 120_000
    assert firing(hi, 0.1, 120_000 + H - 1, False, H, T) == 120_000  # held
    assert firing(hi, 0.1, 120_000 + H, False, H, T) is None  # quiet for the hold: released
    assert firing(hi, 0.1, 120_000 + 10 * H, True, H, T) == 120_000  # in a FAIL: held
    assert firing(hi, 0.5, 120_000 + 10 * H, True, H, T) == 120_000 + 10 * H


def _run(config: PipelineConfig) -> list[dict[str, Any]]:
    p = Pipeline(config)
    out: list[dict[str, Any]] = []
    for s in fleet_samples(900, components=2):
        out += p.ingest(s).risk
    return out + p.flush().risk


def test_off_carries_none_on_changes_nothing_else() -> None:
    off, on = _run(OFF), _run(ON)
    assert all(r["alarm"] is None for r in off)
    assert [{**r, "alarm": None} for r in on] == off
    last: dict[str, int | None] = {}
    for r in on:  # the state, replayed from the records and the rule FAILs seen
        hi = last.get(r["component"])
        want = r["risk"] >= T or (hi is not None and r["alarm"])
        assert r["alarm"] == want
        last[r["component"]] = r["ts"] if r["risk"] >= T else (hi if r["alarm"] else None)


def test_the_state_restores() -> None:
    p, q = Pipeline(ON), Pipeline(ON)
    for s in fleet_samples(30, components=1):
        p.ingest(s)
    comp = p.components()[0]
    p._states[comp].alarm_hi_ms = 4_200  # noqa: SLF001
    q.restore(comp, p.snapshot(comp))
    assert q._states[comp].alarm_hi_ms == 4_200  # noqa: SLF001
    restores_under(OFF, ON)


def test_the_scorer_counts_pages_and_the_crossing_beside() -> None:
    # risk crosses 1/3 three times; the alarm state holds between them: one page
    risk = [0.5, 0.1, 0.5, 0.1, 0.5, 0.0, 0.0]
    alarm = [True, True, True, True, True, False, False]
    ev = [RiskEvent("a", 60_000 * (i + 1), r, None, al)
          for i, (r, al) in enumerate(zip(risk, alarm, strict=True))]
    br = [Breach("a", "cpu", 60_000 * 5 + 30_000)]  # after the third crossing only
    spans = {"a": (0, 10 * H)}
    pages = score_breaches(ev, br, spans, threshold=T, horizon_s=900, leads_s=(60,))
    old = score_breaches(ev, br, spans, threshold=T, horizon_s=900, leads_s=(60,), pages=False)
    assert (pages.episodes, pages.true_episodes) == (1, 1)
    assert (old.episodes, old.true_episodes) == (3, 3)
    assert pages.recall == old.recall and pages.brier == old.brier
    # a window held firing under the alarm point predicts nothing and makes no page true
    held = [RiskEvent("a", 60_000 * (i + 1), 0.1, None, True) for i in range(2)]
    late = [Breach("a", "cpu", 60_000 * 2 + 30_000)]
    f = breach_figures(held, late, spans, T, 900)
    assert f["recall"]["60"] == 0.0 and (f["episodes"], f["true_episodes"]) == (1, 0)
    assert f["risk_crossing"]["episodes"] == 0
    assert f["alarm_window_share"] == 1.0 and f["risk_crossing"]["window_share"] == 0.0
