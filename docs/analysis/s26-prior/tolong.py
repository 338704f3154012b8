"""Write Bitbrains VMs as one long CSV (ts,component,metric,value: cpu, mem, cpu.capacity,
mem.capacity), the form a fleet's own export takes, to check that `forewarn prior learn` learns
the same prior from either form.

python docs/analysis/s26-prior/tolong.py DATA OUT.csv A-B"""
import sys

from streams.sim.traces import load_traces


def main(argv: list[str]) -> None:
    data, out = argv[0], argv[1]
    a, b = map(int, argv[2].split("-"))
    with open(out, "w", encoding="utf-8") as f:
        f.write("ts,component,metric,value\n")
        for tr in load_traces(data):
            if not a <= int(tr.component.split("/")[-1]) <= b:
                continue
            cols = {"cpu": tr.demand["cpu"], "mem": tr.demand["mem"],
                    "cpu.capacity": tr.capacity["cpu"], "mem.capacity": tr.capacity["mem"]}
            for i, t in enumerate(tr.ts.tolist()):
                for name, v in cols.items():
                    f.write(f"{t},{tr.component},{name},{float(v[i])!r}\n")


if __name__ == "__main__":
    main(sys.argv[1:])
