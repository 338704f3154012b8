"""The full command and its days-0-15 window in one pass (docs/analysis/s24-trace/prefix.py),
forewarn with the fleet prior held out in VMs: VMs 1-50 with PRIOR_LOW (learnt on VMs 51-100),
the others with PRIOR_HIGH. Writes OUT30 (as the command, no window) and OUTH (as `--end END`).

python docs/analysis/s25-trace-fleet/prefix2.py OUT30 OUTH END PRIOR_LOW PRIOR_HIGH [--jobs N]"""
import sys
from pathlib import Path

from actuators.rightsize import POLICIES
from streams.lab.backtest import pmap, write_json
from streams.lab.trace.html import write_report
from streams.lab.trace.loop import knob_grid
from streams.lab.trace.summary import result_of
from streams.sim.traces import load_traces, parse_time

sys.path.insert(0, str(Path(__file__).parents[1] / "s24-trace"))
from prefix import both  # noqa: E402
from splice import DATA  # noqa: E402


def main(argv: list[str]) -> None:
    out30, outh, end = Path(argv[0]), Path(argv[1]), parse_time(argv[2])
    low, high = argv[3], argv[4]
    opts = dict(zip(argv[5::2], argv[6::2], strict=False))
    traces = load_traces(DATA)
    grid = knob_grid(POLICIES, True, {})
    order = sorted(range(len(traces)), key=lambda i: -len(traces[i]))

    def fo(i: int) -> dict:
        vm = int(traces[i].component.rsplit("/", 1)[-1])
        return {"forewarn": {"fleet_prior": low if vm <= 50 else high}}

    done = dict(zip(order, pmap(both, [(traces[i], end, grid, fo(i)) for i in order],
                                int(opts.get("--jobs", 1))), strict=True))
    for out, j, win in ((out30, 0, None), (outh, 1, {"start": None, "end": end})):
        runs = [done[i][j] for i in range(len(traces)) if done[i][j] is not None]
        result = result_of(runs, list(POLICIES), 300, grid)
        if win is not None:
            result["window"] = win
        write_json(out / "runs.json", result.pop("runs"))
        write_json(out / "trace.json", result)
        write_report(result, out)


if __name__ == "__main__":
    main(sys.argv[1:])
