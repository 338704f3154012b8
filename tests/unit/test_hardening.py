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


# -- the allocation engine: per-component clocks, a cap on new components per host ---------

def _risk(component: str, ts: int, value: float) -> dict:
    return {
        "component": component, "ts": ts, "risk": value, "anomaly": 0.5, "horizon_s": 900,
        "breach": {"metric": "cpu.util", "threshold": 0.9, "eta_s": 300.0, "probability": value},
        "forecasts": [], "contributors": {},
        "model": {"version": "t", "samples_seen": 100, "warm": True, "source": "component"},
    }


def test_a_host_with_a_skewed_clock_does_not_end_the_leases_of_others():
    from actuators.engine import AllocationEngine, EngineConfig

    engine = AllocationEngine(EngineConfig(holdout=0.0))
    granted = engine.on_risk(_risk("web-1", T0, 0.9), host="h1")
    assert [c["action"] for c in granted] == ["GRANT"]
    # another host's clock runs 333 days ahead: before the fix its score moved the engine's
    # one clock, and web-1's lease ended (RELEASE) at once
    skewed = engine.on_risk(_risk("db-9", T0 + 333 * 86_400_000, 0.1), host="h2")
    assert all(c["component"] == "db-9" for c in skewed)
    assert [ls["component"] for ls in engine.leases()] == ["web-1"]
    # web-1's own time decides: its lease holds, and a tick of the fleet's clock ends it
    later = engine.on_risk(_risk("web-1", T0 + 60_000, 0.9), host="h1")
    assert all(c["action"] != "RELEASE" for c in later)
    assert [ls["component"] for ls in engine.leases()] == ["web-1"]
    ended = engine.tick(T0 + 2 * EngineConfig().lease_s * 1000)
    assert [(c["component"], c["action"]) for c in ended] == [("web-1", "RELEASE")]


def test_a_skewed_host_does_not_scale_down_the_fleet():
    from actuators.engine import AllocationEngine, EngineConfig

    cfg = EngineConfig(holdout=0.0, shrink_hold_s=600)
    engine = AllocationEngine(cfg)
    quiet = dict(_risk("web-1", T0, 0.05), breach=None,
                 forecasts=[{"metric": "cpu.util", "horizon_s": 300, "mean": 0.2, "lower": 0.1,
                             "upper": 0.25}])
    assert engine.on_risk(quiet, host="h1") == []
    engine.on_risk(_risk("db-9", T0 + 333 * 86_400_000, 0.05), host="h2")
    # 1 minute later in web-1's own time: not quiet for 600 s (before the fix: "333 days")
    assert engine.on_risk(dict(quiet, ts=T0 + 60_000), host="h1") == []


def test_forged_component_ids_cannot_fill_a_host_pool():
    from actuators.engine import AllocationEngine, EngineConfig

    cfg = EngineConfig(holdout=0.0, max_new_components_per_host=20)
    engine = AllocationEngine(cfg)
    engine.on_risk(_risk("h1/real", T0, 0.1), host="h1")  # known before the attack
    for i in range(300):  # forged ids, risk 1.0, stamps spread back in time to dodge a window
        engine.on_risk(_risk(f"h1/forged-{i}", T0 + 1000 - i * 3_600_000, 1.0), host="h1")
    assert engine.refused_new == 281  # h1/real took one of the 20
    assert len({ls["component"] for ls in engine.leases()}) == 19
    out = engine.on_risk(_risk("h1/real", T0 + 60_000, 0.95), host="h1")
    assert [c["action"] for c in out] == ["GRANT"]  # before the cap: DEFERRED, pool full


# -- the handler: bounded dead letters, event time against the wall clock -------------------

def _handler(**kw):
    from schemas.codec import Codec
    from streams.handler import MetricsHandler

    return MetricsHandler(Pipeline(PipelineConfig()), Codec(), lambda n: f"forewarn.{n}", **kw)


def test_a_1mb_unreadable_message_is_dead_lettered_truncated_with_size_and_offset():
    from schemas.codec import Codec
    from streams.handler import MAX_ORIGINAL_BYTES

    h = _handler(wall_clock_ms=lambda: T0)
    big = b"\xff" * (1 << 20)
    [out] = h.handle(big, b"k" * 5000, "forewarn.metrics", 2, 12345)
    assert out.topic == "forewarn.deadletter"
    # before the fix the dead letter held the whole megabyte: larger than the broker takes
    assert len(out.value) < MAX_ORIGINAL_BYTES + 8192
    _, rec = Codec().decode(out.value, ("DeadLetter",))
    assert rec["original"] == big[:MAX_ORIGINAL_BYTES] and len(rec["key"]) == 1024
    assert (rec["partition"], rec["offset"], rec["stage"]) == (2, 12345, "decode")
    assert f"of {1 << 20} bytes kept" in rec["reason"] and "forewarn.metrics[2]@12345" in (
        rec["reason"])


def test_wall_clock_bounds_dead_letter_the_outlier_alone():
    from schemas.codec import Codec
    from streams.handler import TimeBounds

    now = T0 + 3_600_000
    h = _handler(wall_clock_ms=lambda: now, time_bounds=TimeBounds(future_s=600, past_s=86_400))
    codec = Codec()
    enc = lambda ts: codec.encode("MetricSample", sample(ts))  # noqa: E731
    stages = []
    for i, ts in enumerate([now - 60_000, YEAR_3000, 5_000, now - 50_000, now + 3_600_000]):
        outs = h.handle(enc(ts), b"web-1", "forewarn.metrics", 0, i)
        stages += [codec.decode(o.value)[1]["stage"] for o in outs if o.topic.endswith("letter")]
    assert stages == ["time", "time", "time"]
    assert h.counters.dead == {"time": 3}
    assert h.pipeline.components() == ["web-1"]  # the good samples went in


def test_a_1mb_metrics_map_is_refused_and_makes_no_state():
    h = _handler(wall_clock_ms=lambda: T0)
    huge = {"component": "web-1", "host": "h1", "ts": T0,
            "metrics": {f"m{i}": float(i) for i in range(60_000)}, "tags": {}}
    import orjson

    outs = h.handle(orjson.dumps({"_type": "MetricSample", **huge}), b"web-1", "t", 0, 0)
    assert len(outs) == 1 and h.counters.dead == {"validate": 1}
    assert h.pipeline.components() == []


# -- the worker's component cap and eviction; bounded waits ---------------------------------

def test_a_flood_of_unknown_components_is_capped_and_evicted_least_recently_seen_first():
    from streams.runtime.checkpoint import CheckpointedPipeline

    pipe = CheckpointedPipeline(PipelineConfig(), "forewarn.metrics", max_components=100,
                                evict_idle_s=0)
    evicted = []
    for i in range(40_000 // 40):  # 1,000 unknown ids, each seen once, and one real one
        pipe.at(0, i)
        pipe.ingest(sample(T0 + i * 1000, comp=f"forged-{i}"))
        pipe.ingest(sample(T0 + i * 1000, comp="web-1"))
        for comp, why in pipe.evictable():
            assert why == "cap"
            assert pipe.checkpoint(comp) is not None  # its state is checkpointed first
            pipe.forget(comp)
            evicted.append(comp)
    assert len(pipe.marks) == 100 and len(pipe.components()) == 100
    assert "web-1" in pipe.marks  # seen all along: never the least recently seen
    assert len(evicted) == 901 and evicted[0] == "forged-0"


def test_components_unseen_for_evict_idle_s_are_evicted():
    from streams.runtime.checkpoint import CheckpointedPipeline

    pipe = CheckpointedPipeline(PipelineConfig(), "forewarn.metrics", evict_idle_s=600)
    pipe.at(0, 0)
    pipe.ingest(sample(T0, comp="gone"))
    out = []
    for i in range(1, 200):
        pipe.at(0, i)
        pipe.ingest(sample(T0 + i * 10_000, comp="here"))
        for comp, why in pipe.evictable(scan_every=10):
            out.append((comp, why, i))
            pipe.forget(comp)
    assert [(c, w) for c, w, _ in out] == [("gone", "idle")]
    assert 60 <= out[0][2] <= 70  # once 600 s of event time behind, at the next scan


def test_sink_wait_gives_up_after_its_timeout_when_the_broker_is_gone():
    import asyncio
    import socket
    import time

    from schemas.errors import BrokerError
    from streams.runtime.worker import Sink
    from streams.settings import Settings

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sink = Sink(Settings.load(env={}, bootstrap_servers=f"127.0.0.1:{port}"))

    async def run() -> float:
        fut = sink.send("t", b"k", b"v")
        t = time.monotonic()
        try:
            await sink.wait([fut], timeout_s=1.0)
        except BrokerError as exc:
            assert "1 of 1 deliveries not acknowledged within 1 s" in str(exc)
            return time.monotonic() - t
        raise AssertionError("wait returned with the broker gone")

    assert asyncio.run(run()) < 30  # before: no timeout at all (it never returned)
    sink.producer.purge()
    sink.close(timeout_s=0.1)
