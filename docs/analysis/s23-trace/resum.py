"""A `backtest trace` output with some VMs taken out, written as the command writes it
(`runs.json`, `trace.json`, `index.html`): each VM runs alone, so this is what the command
gives on the rest (the runs of h1 / h2 before `ad8e30a` left out the VM switched off
throughout the window: 38 in days 0-15, 54 in days 15-30).

python docs/analysis/s23-trace/resum.py IN OUT VM[,VM...]"""
import json
import sys
from pathlib import Path

from streams.lab.backtest import write_json
from streams.lab.trace.html import write_report
from streams.lab.trace.summary import result_of


def main(src: str, dst: str, drop: str) -> None:
    gone = {f"2013-7/{v}" for v in drop.split(",")}
    doc = json.loads((Path(src) / "trace.json").read_text())
    runs = [r for r in json.loads((Path(src) / "runs.json").read_text())
            if r["component"] not in gone]
    result = result_of(runs, doc["policies_run"], doc["delay_s"], doc["knobs"])
    if "window" in doc:
        result["window"] = doc["window"]
    out = Path(dst)
    write_json(out / "runs.json", result.pop("runs"))
    write_json(out / "trace.json", result)
    write_report(result, out)


if __name__ == "__main__":
    main(*sys.argv[1:4])
