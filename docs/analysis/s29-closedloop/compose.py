"""forewarn's `cpu` entries of CPU_RUN put in place of BASE's (every other entry BASE's), for an
option that changes the CPU sizer only; checks first that the two runs cover the same VMs, that
BASE's forewarn CPU equals REF's (REF: the run CPU_RUN was spliced from, same window) and that
CPU_RUN's forewarn memory equals REF's (so only CPU differs). Writes OUT/runs.json and trace.json.

python docs/analysis/s29-closedloop/compose.py BASE CPU_RUN REF OUT"""
import json
import sys
from pathlib import Path

from streams.lab.backtest import write_json
from streams.lab.trace.summary import result_of


def runs(d: str) -> dict:
    return {r["component"]: r for r in json.loads((Path(d) / "runs.json").read_text())}


def main(argv: list[str]) -> None:
    base, cpu, ref, out = runs(argv[0]), runs(argv[1]), runs(argv[2]), Path(argv[3])
    assert base.keys() == cpu.keys() == ref.keys(), "different VMs"
    fw = {c: r["policies"]["forewarn"] for c, r in base.items()}
    same_cpu = sum(fw[c]["cpu"] == ref[c]["policies"]["forewarn"]["cpu"] for c in base)
    same_mem = sum(cpu[c]["policies"]["forewarn"]["mem"] == ref[c]["policies"]["forewarn"]["mem"]
                   for c in base)
    print(f"{len(base)} VMs: BASE cpu == REF cpu on {same_cpu}; "
          f"CPU_RUN mem == REF mem on {same_mem}")
    assert same_cpu == same_mem == len(base)
    doc = json.loads((Path(argv[0]) / "trace.json").read_text())
    new = []
    for c, r in base.items():
        f = {**r["policies"]["forewarn"], "cpu": cpu[c]["policies"]["forewarn"]["cpu"]}
        new.append({**r, "policies": {**r["policies"], "forewarn": f}})
    result = result_of(new, doc["policies_run"], doc["delay_s"], doc["knobs"])
    if "window" in doc:
        result["window"] = doc["window"]
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "runs.json", result.pop("runs"))
    write_json(out / "trace.json", result)


if __name__ == "__main__":
    main(sys.argv[1:])
