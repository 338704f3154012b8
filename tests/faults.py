"""Scale-out and fault runs on the Apache Kafka harness: a 3-node KRaft cluster, topics with
replication factor 3 and ``min.insync.replicas=2``, producers ``acks=all`` and idempotent.

Each scenario runs real processes against the real cluster and returns a :class:`Result` row;
nothing is mocked. What "lost" means is checked against the data, not a counter:

- *acknowledged metrics lost*: samples whose produce the cluster acknowledged (delivery report
  without error) and that are not in ``forewarn.metrics`` when read back afterwards;
- *windows lost*: (component, window) pairs that the pure pipeline, fed the metrics topic as it
  reads back, closes and that no record on ``forewarn.risk`` carries (duplicates allowed);
  records that disagree with the pure pipeline on what the component's own state decides are
  counted apart (``mismatched``);
- *commands applied twice with a different effect*: one ``command_id`` on ``forewarn.allocations``
  with two different contents.

Pauses are measured from record timestamps (CreateTime: the producing process's wall clock).

    python -m tests.faults                     # every scenario, full size (`make faults`)
    python -m tests.faults scale leader --quick

The small versions run in ``make test-kafka`` (tests/integration/test_faults.py).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition

from streams.settings import Settings
from streams.topics import consumer_config, producer_config
from tests.faultkit import (
    BASE_MS,
    STEP_MS,
    Load,
    Proc,
    Rec,
    WindowCheck,
    answers,
    cluster_settings,
    codec,
    first_after,
    log_tail,
    now_ms,
    partitions_held,
    read_topic,
    risk_gaps,
    wait_until,
    wait_windows,
)
from tests.kafka_harness import KafkaCluster

# ---- scenarios ----------------------------------------------------------------------------


@dataclass
class Result:
    scenario: str
    ok: bool
    figures: dict[str, Any]
    problems: list[str] = field(default_factory=list)


def _loss(load: Load, metrics: list[Rec]) -> int:
    present = set()
    for r in metrics:
        assert r.value is not None
        rec = codec.decode(r.value)[1]
        present.add((rec["component"], (rec["ts"] - BASE_MS) // STEP_MS))
    return len(load.acked - present)


def _verdict(name: str, figures: dict[str, Any], load: Load | None,
             check: WindowCheck | None) -> Result:
    problems = []
    if load is not None and load.failed:
        problems.append(f"{len(load.failed)} produce failures, e.g. {load.failed[:2]}")
    if figures.get("acked_lost", 0):
        problems.append(f"{figures['acked_lost']} acknowledged metrics lost")
    if check is not None:
        if check.lost:
            problems.append(f"{check.lost} windows lost, e.g. {check.lost_examples}")
        if check.mismatched:
            problems.append(f"{check.mismatched} risk records disagree with the pure pipeline")
    return Result(name, not problems, figures, problems)


def comps_over_partitions(prefix: str, n: int = 12) -> list[str]:
    return [f"{prefix}-{i}/svc" for i in range(n)]


def scale_out(cluster: KafkaCluster, work: Path, phase_s: float = 20.0, rate: float = 5.0,
              n_comps: int = 12) -> Result:
    """Workers 1 → 3 → 1 under steady load."""
    s = cluster_settings(cluster, work)
    load = Load(s, comps_over_partitions("sc", n_comps), rate).start()
    workers = [Proc.worker(s, work / "a.log")]
    figures: dict[str, Any] = {"components": n_comps, "samples_per_s": n_comps * rate}
    try:  # the processes are stopped whatever fails
        try:
            wait_until(lambda: partitions_held(workers) == [3.0], 90, "worker a to hold 3")
            time.sleep(phase_s)
            t_out = now_ms()  # assign time includes the new workers' start-up (~5-10 s)
            workers += [Proc.worker(s, work / "b.log"), Proc.worker(s, work / "c.log")]
            figures["scale_out_assign_s"] = round(wait_until(
                lambda: partitions_held(workers) == [1.0, 1.0, 1.0], 120, "1 partition each"), 1)
            time.sleep(phase_s)
            t_in, mono_in = now_ms(), time.monotonic()
            for w in workers[1:]:  # SIGTERM both at once: they leave the group together
                w.terminate()
            rcs = [w.stop() for w in workers[1:]]
            figures["scale_in_exit_codes"] = rcs
            wait_until(lambda: partitions_held(workers[:1]) == [3.0], 120, "worker a to hold 3")
            figures["scale_in_assign_s"] = round(time.monotonic() - mono_in, 1)
            time.sleep(phase_s)
        finally:
            load.stop()
        metrics, risk, check = wait_windows(s, 120)
    finally:
        for w in workers:
            w.stop()
    figures["acked"] = len(load.acked)
    figures["acked_lost"] = _loss(load, metrics)
    figures.update(windows=check.expected, windows_lost=check.lost,
                   duplicate_windows=check.duplicates, mismatched=check.mismatched)
    steady = risk_gaps(risk, t_out - int(phase_s * 1000), t_out)
    out_gaps = risk_gaps(risk, t_out, t_out + 60_000)
    in_gaps = risk_gaps(risk, t_in, t_in + 60_000)
    figures["steady_max_gap_s"] = round(max(steady.values(), default=float("nan")), 2)
    figures["scale_out_pause_s"] = round(max(out_gaps.values(), default=float("nan")), 2)
    figures["scale_in_pause_s"] = round(max(in_gaps.values(), default=float("nan")), 2)
    return _verdict("scale 1→3→1", figures, load, check)


def worker_kill(cluster: KafkaCluster, work: Path, phase_s: float = 20.0, rate: float = 5.0,
                n_comps: int = 12) -> Result:
    """Two workers; ``kill -9`` one under load; the other restores its partitions' state."""
    s = cluster_settings(cluster, work)
    load = Load(s, comps_over_partitions("wk", n_comps), rate).start()
    a, b = Proc.worker(s, work / "a.log"), Proc.worker(s, work / "b.log")
    figures: dict[str, Any] = {"components": n_comps, "samples_per_s": n_comps * rate,
                               "session_timeout_ms": s.session_timeout_ms}
    try:  # the processes are stopped whatever fails
        try:
            wait_until(lambda: sum(partitions_held([a, b])) == 3
                       and min(partitions_held([a, b])) > 0,
                       120, "two workers to share 3 partitions")
            time.sleep(phase_s)
            restored_before = b.counter("forewarn_checkpoints_restored_total")
            t_kill = now_ms()
            a.kill9()
            figures["takeover_assign_s"] = round(wait_until(
                lambda: partitions_held([b]) == [3.0], 120, "b to hold 3"), 1)
            time.sleep(phase_s)
            figures["checkpoints_restored"] = b.counter("forewarn_checkpoints_restored_total") - \
                restored_before
            figures["replayed_messages"] = b.counter("forewarn_replayed_messages_total")
        finally:
            load.stop()
        metrics, risk, check = wait_windows(s, 120)
    finally:
        a.stop()
        b.stop()
    figures["acked"] = len(load.acked)
    figures["acked_lost"] = _loss(load, metrics)
    figures.update(windows=check.expected, windows_lost=check.lost,
                   duplicate_windows=check.duplicates, mismatched=check.mismatched)
    parts = {r.partition for r in risk}
    figures["risk_resumed_s"] = round(max(first_after(risk, t_kill, {p}) for p in parts), 2)
    res = _verdict("kill -9 worker", figures, load, check)
    if not figures["checkpoints_restored"]:
        res.ok = False
        res.problems.append("the surviving worker restored no checkpoint")
    return res


def leader_kill(cluster: KafkaCluster, work: Path, phase_s: float = 20.0, rate: float = 5.0,
                n_comps: int = 12) -> Result:
    """``kill -9`` the broker leading metrics partition 0 under load; bring it back later."""
    s = cluster_settings(cluster, work)
    load = Load(s, comps_over_partitions("ld", n_comps), rate).start()
    a = Proc.worker(s, work / "a.log")
    act = Proc(s, ["actuate", "--backend", "dryrun"], work / "actuator.log")
    figures: dict[str, Any] = {"components": n_comps, "samples_per_s": n_comps * rate}
    try:  # the worker and the actuator are stopped whatever fails (s22: a failed scrape left them)
        try:
            wait_until(lambda: partitions_held([a]) == [3.0], 90, "the worker to hold 3")
            time.sleep(phase_s)
            leader = cluster.leader_of(s.topic("metrics"), 0)
            figures["killed_node"] = leader
            t_kill, mono_kill = _kill_and_wait_for_risk(cluster, leader, act, phase_s, figures)
            figures["new_leader"] = cluster.leader_of(s.topic("metrics"), 0)
            cluster.start_node(leader)
            t_back = now_ms()
            time.sleep(phase_s)
            figures["isr_after_restart"] = cluster.isr_of(s.topic("metrics"), 0)
        finally:
            load.stop()
        metrics, risk, check = wait_windows(s, 120)
    finally:
        figures["worker_exit"] = a.stop()
        figures["actuator_exit"] = act.stop()
    figures["acked"] = len(load.acked)
    figures["acked_lost"] = _loss(load, metrics)
    figures["produce_pause_s"] = round(load.max_ack_gap(mono_kill - 1, mono_kill + 30), 2)
    figures.update(windows=check.expected, windows_lost=check.lost,
                   duplicate_windows=check.duplicates, mismatched=check.mismatched)
    figures["risk_pause_s"] = round(max(risk_gaps(risk, t_kill, t_back).values(),
                                        default=float("nan")), 2)
    res = _verdict("kill -9 partition leader broker", figures, load, check)
    if act.proc.returncode not in (None, 0):
        res.ok = False
        res.problems.append(f"the actuator exited with {act.proc.returncode}: "
                            f"{log_tail(act.log_path)}")
    if figures["actuator_risk_events_while_down"] <= 0:
        res.ok = False
        res.problems.append(f"the actuator read no risk in the {RESUME_WAIT_S:.0f} s the "
                            "broker was kept down for it")
    return res


RESUME_WAIT_S = 180.0  # how long a killed leader stays down at most, for the actuator to read


def _kill_and_wait_for_risk(cluster: KafkaCluster, leader: int, act: Proc, phase_s: float,
                            figures: dict[str, Any]) -> tuple[int, float]:
    """Kill ``leader`` and keep it down for ``phase_s`` AND until the actuator has read new
    risk (at most RESUME_WAIT_S): what must hold is that risk flows again while a node is
    down, not that it does so within a fixed time on a loaded machine; the time it took is
    measured (``actuator_resumed_s``)."""
    name = "forewarn_actuator_risk_events_total"
    before = act.counter(name)
    t_kill, mono_kill = now_ms(), time.monotonic()
    cluster.kill(leader)
    try:
        figures["actuator_resumed_s"] = round(
            wait_until(lambda: act.gauge(name) > before, RESUME_WAIT_S, "risk at the actuator"), 2)
    except TimeoutError:
        figures["actuator_resumed_s"] = float("nan")
    time.sleep(max(0.0, phase_s - (time.monotonic() - mono_kill)))
    figures["actuator_risk_events_while_down"] = act.counter(name) - before
    figures["down_s"] = round(time.monotonic() - mono_kill, 1)
    return t_kill, mono_kill


def risk_stream(s: Settings, hosts: int = 6, per_host: int = 6, steps: int = 240
                ) -> list[tuple[bytes, bytes]]:
    """Real RiskScore records (the pure pipeline over ramps), keyed by component: components
    several to a host, so that they compete for the host's pools."""
    from processors.pipeline import Pipeline
    from streams.runtime.worker import pipeline_config

    pipe = Pipeline(pipeline_config(s))
    out = []
    comps = [(f"h{h}/c{c}", h, c) for h in range(hosts) for c in range(per_host)]
    for i in range(steps):
        for comp, h, c in comps:
            top = 0.7 + 0.3 * ((h + c) % 3) / 2  # some ramp to a breach, some stay below
            rec = {"component": comp, "host": comp.split("/")[0], "ts": BASE_MS + i * STEP_MS,
                   "metrics": {"cpu.util": 0.3 + (top - 0.3) * i / steps,
                               "mem.used_pct": 40.0 + 30 * i / steps * ((c % 2) + 0.2)},
                   "tags": {}}
            for r in pipe.ingest(rec).risk:
                out.append((comp.encode(), codec.encode("RiskScore", r)))
    return out


class Feeder(threading.Thread):
    """Produces ``records`` to ``forewarn.risk`` evenly over ``seconds``."""

    def __init__(self, s: Settings, records: list[tuple[bytes, bytes]], seconds: float) -> None:
        super().__init__(daemon=True)
        self.s, self.records, self.seconds = s, records, seconds
        self.error: str | None = None

    def run(self) -> None:
        p = Producer(producer_config(self.s, {"acks": "all"}))
        t0 = time.monotonic()
        for n, (key, value) in enumerate(self.records):
            p.produce(self.s.topic("risk"), key=key, value=value)
            p.poll(0)
            wait = t0 + (n + 1) * self.seconds / len(self.records) - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        if p.flush(60):
            self.error = "risk records undelivered"


def group_lag(s: Settings, group: str, topic: str) -> int:
    c = Consumer(consumer_config(s, group))
    try:
        parts = list(c.list_topics(s.topic(topic), timeout=10).topics[s.topic(topic)].partitions)
        tps = [TopicPartition(s.topic(topic), p) for p in parts]
        lag = 0
        for tp in c.committed(tps, timeout=10):
            hi = c.get_watermark_offsets(tp, timeout=10)[1]
            lag += hi - max(tp.offset, 0)
        return lag
    finally:
        c.close()


def actuator_kill(cluster: KafkaCluster, work: Path, kills: int = 8, seed: int = 7) -> Result:
    """``kill -9`` the actuator ``kills`` times while it works through a risk backlog."""
    import random

    rnd = random.Random(seed)
    s = cluster_settings(cluster, work)
    records = risk_stream(s)
    figures: dict[str, Any] = {"risk_events": len(records), "kills": kills}
    restored: list[int] = []
    # The risk stream arrives while the actuator is killed again and again, each time
    # 0.2-2 s after it has begun to act (it has read risk): kills land anywhere between
    # produce, apply, state save and commit. A new life waits out the dead member's session.
    feeder = Feeder(s, records, seconds=kills * 6.0)
    feeder.start()
    for _ in range(kills):
        act = Proc(s, ["actuate", "--backend", "dryrun"], work / "actuator.log")
        try:
            wait_until(lambda a=act: answers(a), 90, "the actuator's metrics endpoint")
            with contextlib.suppress(TimeoutError):  # none left to read: kill it all the same
                wait_until(lambda a=act: a.gauge("forewarn_actuator_risk_events_total") > 0,
                           15, "the actuator to read risk")
            time.sleep(rnd.uniform(0.2, 2.0))
        finally:
            act.kill9()
            act.stop()
    feeder.join()
    last_kill_ms = now_ms()
    final = Proc(s, ["actuate", "--backend", "dryrun"], work / "actuator.log")
    try:
        figures["drain_s"] = round(wait_until(
            lambda: group_lag(s, s.actuator_group, "risk") == 0, 240, "the backlog to drain"), 1)
        time.sleep(3)
    finally:
        final.stop()
    for line in (work / "actuator.log").read_text(errors="replace").splitlines():
        found = re.search(r"engine state restored .*?(\d+) leases", line)
        if found:
            restored.append(int(found.group(1)))
    cmds: dict[str, set[str]] = defaultdict(set)
    copies = before_last_kill = 0
    for r in read_topic(s, "allocations"):
        assert r.value is not None
        c = codec.decode(r.value)[1]
        cmds[c["command_id"]].add(json.dumps(c, sort_keys=True))
        copies += 1
        before_last_kill += r.ts_ms < last_kill_ms
    conflicting = sorted(cid for cid, v in cmds.items() if len(v) > 1)
    figures.update(commands=len(cmds), command_records=copies,
                   command_records_in_killed_lives=before_last_kill,
                   ids_with_different_content=len(conflicting),
                   restarts_with_leases_restored=sum(1 for n in restored if n > 0))
    problems = [feeder.error] if feeder.error else []
    if conflicting:
        problems.append(f"{len(conflicting)} command ids carry different commands, e.g. "
                        f"{sorted(cmds[conflicting[0]])}")
    if not any(n > 0 for n in restored):
        problems.append("no restart restored a lease")
    if not cmds:
        problems.append("the backlog caused no command")
    return Result("kill -9 actuator", not problems, figures, problems)


SCENARIOS: dict[str, Callable[..., Result]] = {
    "scale": scale_out, "worker": worker_kill, "leader": leader_kill, "actuator": actuator_kill,
}
QUICK = {"scale": {"phase_s": 10.0}, "worker": {"phase_s": 10.0},
         "leader": {"phase_s": 10.0}, "actuator": {"kills": 3}}


def run(names: list[str], quick: bool, out: Path | None = None,
        keep: Path | None = None) -> list[Result]:
    import tempfile

    results = []
    with tempfile.TemporaryDirectory(prefix="forewarn-faults-") as scratch, \
            KafkaCluster(nodes=3, base_dir=Path(scratch) / "kafka") as cluster:
        tmp = keep or Path(scratch)
        for name in names:
            work = tmp / name
            work.mkdir(parents=True)
            t0 = time.monotonic()
            res = SCENARIOS[name](cluster, work, **(QUICK[name] if quick else {}))
            res.figures["run_s"] = round(time.monotonic() - t0, 1)
            print(json.dumps(asdict(res)), flush=True)
            results.append(res)
            for n in cluster.nodes:  # a scenario that killed a node leaves it back up
                if not n.running():
                    cluster.start_node(n.node_id)
    if out is not None:
        out.write_text(json.dumps([asdict(r) for r in results], indent=1))
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.faults", description=__doc__.split("\n")[0])
    ap.add_argument("scenarios", nargs="*", choices=[*SCENARIOS, []], default=[])
    ap.add_argument("--quick", action="store_true", help="the small versions (make test-kafka)")
    ap.add_argument("--json", type=Path, help="write the results here")
    ap.add_argument("--keep", type=Path, help="keep each scenario's logs in this folder")
    args = ap.parse_args(argv)
    results = run(args.scenarios or list(SCENARIOS), args.quick, args.json, args.keep)
    for r in results:
        print(f"{'ok  ' if r.ok else 'FAIL'} {r.scenario}: "
              + ", ".join(f"{k}={v}" for k, v in r.figures.items())
              + ("" if r.ok else f" -- {'; '.join(r.problems)}"))
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
