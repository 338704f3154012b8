"""The closed loop with and without this round's records: ``python closedloop17.py
KEY=VALUE[,KEY=VALUE][/KEY=VALUE...] [SCENARIOS|quiet] [SEED]`` (PipelineConfig fields, e.g.
``forecast_trust=2/warn_trust=2``: each ``/``-separated set a run) prints forewarn's violation
minutes, resource-hours and commands per scenario under the default configuration and under
each set; with ``quiet`` or without
SCENARIOS, the quiet 3-hour ``ramp`` of ``tests/unit/test_closedloop.py`` (seed 5, no
incident) and the ``ramp`` scenario at seed 42 (that test's other case)."""
import sys
from dataclasses import replace

from processors.pipeline import PipelineConfig
from streams.lab.closedloop import closed_loop


def row(res: dict, policy: str = "forewarn") -> str:
    out = []
    for name, s in sorted(res["policies"][policy]["scenarios"].items()):
        out.append(f"{name}: violation {s['violation_minutes']:.1f} min, resource-hours "
                   f"{s['resource_hours']:.1f}, commands {s['commands']}")
    return "; ".join(out)


def main() -> None:
    sets = [("default", PipelineConfig())]
    for one in sys.argv[1].split("/"):
        opts = {k: float(v) for k, v in (kv.split("=") for kv in one.split(","))}
        sets.append((one, replace(PipelineConfig(), **opts)))
    names = sys.argv[2].split(",") if len(sys.argv) > 2 and sys.argv[2] != "quiet" else None
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 42
    for label, cfg in sets:
        if names is None:
            quiet = {"ramp": {"duration_s": 3 * 3600, "incidents": ()}}
            print(f"{label} quiet ramp seed 5:",
                  row(closed_loop(["ramp"], 5, ["forewarn"], cfg, overrides=quiet)), flush=True)
            print(f"{label} ramp seed 42:", row(closed_loop(["ramp"], 42, ["forewarn"], cfg)),
                  flush=True)
        else:
            print(f"{label} seed {seed}:", row(closed_loop(names, seed, ["forewarn"], cfg)),
                  flush=True)


if __name__ == "__main__":
    main()
