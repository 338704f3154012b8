"""Is what the allocators read unchanged by an alarm-only option (s29, issue #15; s28's
``actsame.py`` with the option named)? Per scenario with dependencies, open loop as
``forewarn backtest fleet`` replays it: ``python actsame29.py OPTION SEED SCENARIO ...``
(run from the tree's root).

For the default and OPTION (a bool PipelineConfig field, e.g. ``context_stood``) on: one
SHA-256 over each RiskScore's component, ts, ``actuators.signal.signal`` (``act``'s risk and
anomaly, else the alarm's), ``breach`` and ``forecasts`` (what an allocator reads;
``contributors`` apart), and how many alarms differ. The identity sets have no dependencies,
so ``docs/analysis/s20-breach/actdigest.py`` cannot see such an option."""
import hashlib
import json
import sys
from dataclasses import replace

from actuators.signal import signal
from streams.lab.replay import Replay, sample_messages
from streams.runtime.worker import pipeline_config
from streams.settings import Settings
from streams.sim.simulator import Fleet, scenario


def run(name: str, seed: int, on: bool, option: str) -> tuple[str, str, list[float]]:
    sc = scenario(name, seed=seed)
    fleet = Fleet(sc)
    base = replace(pipeline_config(Settings.load(env={})), **{option: on},
                   dependencies=tuple((c.id, d) for c in sc.components for d in c.depends_on))
    replay = Replay(base)
    s, c, alarms = hashlib.sha256(), hashlib.sha256(), []
    samples = (x for step in fleet.run() for x in step)
    for r in replay.risk(sample_messages(samples, replay.codec)):
        s.update(json.dumps([r["component"], r["ts"], signal(r), r["breach"], r["forecasts"]],
                            sort_keys=True, default=str).encode())
        c.update(json.dumps(r["contributors"], sort_keys=True, default=str).encode())
        alarms.append(r["risk"])
    return s.hexdigest()[:16], c.hexdigest()[:16], alarms


def main() -> None:
    option, seed = sys.argv[1], int(sys.argv[2])
    for name in sys.argv[3:]:
        s0, c0, a0 = run(name, seed, False, option)
        s1, c1, a1 = run(name, seed, True, option)
        diff = sum(x != y for x, y in zip(a0, a1, strict=False))
        print(f"{name:20} signal {s0} -> {s1} {'EQUAL' if s0 == s1 else 'DIFFER'};"
              f" contributors {'equal' if c0 == c1 else 'differ'}; risk records {len(a0)}"
              f" / {len(a1)}, alarms differ in {diff}", flush=True)


if __name__ == "__main__":
    main()
