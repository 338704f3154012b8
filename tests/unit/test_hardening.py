"""Hardening of the pure core against bad input (issue #12 deliverable 4): each attack found on
the live pipeline is replayed here against the pure code, and fails without the fix."""

from __future__ import annotations

from processors.pipeline import Pipeline, PipelineConfig

MIN = 60_000
T0 = 1_750_000_000_000 - 1_750_000_000_000 % MIN  # a window boundary in 2025
YEAR_3000 = 32_503_680_000_000


def sample(ts: int, cpu: float = 50.0, comp: str = "web-1") -> dict:
    return {"component": comp, "host": "h1", "ts": ts, "metrics": {"cpu.util": cpu}, "tags": {}}


def feed(p: Pipeline, stamps: list[int], comp: str = "web-1"):
    risk, rejected = [], []
    for ts in stamps:
        out = p.ingest(sample(ts, comp=comp))
        risk += out.risk
        rejected += [reason for _, reason in out.rejected]
    return risk, rejected


def test_one_year_3000_sample_is_refused_alone_and_the_component_keeps_scoring():
    p = Pipeline(PipelineConfig())
    before = [T0 + i * 10_000 for i in range(60)]  # 10 minutes
    risk0, rej0 = feed(p, before)
    assert not rej0 and risk0
    _, rej = feed(p, [YEAR_3000])
    assert len(rej) == 1 and rej[0].startswith("time:") and "ahead of" in rej[0]
    after = [T0 + 600_000 + i * 10_000 for i in range(60)]
    risk1, rej1 = feed(p, after)
    assert rej1 == []  # before the fix: every later sample was "late"
    assert [r["ts"] for r in risk1] == [T0 + (10 + k) * MIN for k in range(10)]


def test_a_first_sample_from_1970_does_not_silence_the_component():
    p = Pipeline(PipelineConfig())
    _, rej = feed(p, [5_000])  # accepted: nothing yet to compare it with
    assert rej == []
    risk, rej = feed(p, [T0 + i * 10_000 for i in range(60)])
    # the first samples in the right time are refused until jump_confirm agree, then it follows
    assert len(rej) == PipelineConfig().jump_confirm - 1
    assert all("ahead of" in r for r in rej)
    assert risk and risk[-1]["ts"] >= T0 + 8 * MIN


def test_a_first_sample_from_the_year_3000_does_not_silence_the_component():
    p = Pipeline(PipelineConfig())
    feed(p, [YEAR_3000])
    risk, rej = feed(p, [T0 + i * 10_000 for i in range(60)])
    assert len(rej) == PipelineConfig().jump_confirm - 1
    assert all("behind" in r for r in rej)  # before the fix: 60 "late" and no risk ever
    assert risk and all(r["ts"] < YEAR_3000 for r in risk)
    assert risk[-1]["ts"] >= T0 + 8 * MIN


def test_a_real_gap_is_followed_after_jump_confirm_samples():
    cfg = PipelineConfig(max_jump_s=3600, jump_confirm=2)
    p = Pipeline(cfg)
    feed(p, [T0 + i * 10_000 for i in range(30)])
    later = T0 + 2 * 86_400_000
    risk, rej = feed(p, [later + i * 10_000 for i in range(30)])
    assert len(rej) == 1 and p.jumps_refused == 1
    assert risk and risk[-1]["ts"] > later


def test_alternating_outliers_never_confirm_a_jump():
    p = Pipeline(PipelineConfig())
    good = [T0 + i * 10_000 for i in range(40)]
    stamps = []
    for i, ts in enumerate(good):
        stamps.append(ts)
        if i % 5 == 0:
            stamps.append(YEAR_3000 + i)
    risk, rej = feed(p, stamps)
    assert len(rej) == 8 and all("ahead of" in r for r in rej)
    assert risk and max(r["ts"] for r in risk) < T0 + 10 * MIN


def test_the_bound_can_be_turned_off():
    p = Pipeline(PipelineConfig(max_jump_s=0))
    feed(p, [T0])
    _, rej = feed(p, [YEAR_3000, T0 + 10_000])
    assert len(rej) == 1 and rej[0].startswith("late:")  # the old behaviour
