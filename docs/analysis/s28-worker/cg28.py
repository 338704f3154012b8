"""The contract worker's instructions by part, from ``split28.py callgrind``'s dump (#14, s28).

    cg28.py OUT [--top N]

Reads OUT/split.json (the samples in the window) and OUT/cg.out* (one file a thread, the
window's counts): every thread's total, then the main thread's inclusive counts of the entry
points below (compiled: mypyc's ``CPyDef_`` functions; C libraries by name), each per sample;
"the rest" is the main thread less their sum (the interpreter running the handler, the
worker's bookkeeping, Faust, asyncio, the sink). ``--top N`` also lists the N costliest
functions by self count.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

# (part, symbols whose inclusive counts add up; each call tree apart)
ENTRIES: list[tuple[str, tuple[str, ...]]] = [
    ("pipeline: judge_each (compiled core)",
     ("CPyDef_processors___batch___pipeline___BatchPipeline___judge_each",)),
    ("pipeline: admit (compiled core)",
     ("CPyDef_processors___batch___pipeline___BatchPipeline___admit",)),
    ("checkpoint: snapshot (compiled, with zlib)",
     ("CPyDef_processors___pipeline___Pipeline___snapshot",)),
    ("decode: read_columns + samples (compiled)",
     ("CPyDef_schemas___batchwire___read_columns",
      "CPyDef_schemas___batchwire___MetricColumns___samples")),
    ("encode outputs: avrofast (compiled)", ("CPyPy_schemas___avrofast___",)),
    ("produce: confluent-kafka Producer.produce", ("Producer_produce",)),
    ("garbage collector", ("gc_collect_main",)),
]
LINE = re.compile(r"^\s*([\d,]+) \([^)]*\)\s+(?:\S+:)?(\S+)")


def annotate(path: Path, inclusive: bool) -> tuple[int, list[tuple[int, str]]]:
    args = ["callgrind_annotate", f"--inclusive={'yes' if inclusive else 'no'}",
            "--threshold=100", str(path)]
    text = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    total = 0
    rows = []
    for line in text.splitlines():
        if "PROGRAM TOTALS" in line:
            head = line.split()[0]  # "." for a thread that ran nothing in the window (s29)
            total = int(head.replace(",", "")) if head != "." else 0
            continue
        m = LINE.match(line)
        if m:
            rows.append((int(m.group(1).replace(",", "")), m.group(2)))
    return total, rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--top", type=int, default=0)
    args = ap.parse_args()
    n = float(json.loads((args.out / "split.json").read_text())["window_samples"])
    files = sorted(args.out.glob("cg.out.1-*"))  # the first dump: the window (-z ... -d)
    totals = {p.name: annotate(p, False)[0] for p in files}
    main_file = max(files, key=lambda p: totals[p.name])
    print(f"window: {n:.0f} samples; threads (instructions per sample):")
    for name, t in sorted(totals.items(), key=lambda x: -x[1]):
        print(f"  {name:32s} {t / n:12,.0f}")
    print(f"  {'all threads':32s} {sum(totals.values()) / n:12,.0f}")
    total, rows = annotate(main_file, True)
    print(f"main thread ({main_file.name}), inclusive, per sample:")
    covered = 0
    for part, keys in ENTRIES:
        # a function can be listed once per source file its code came from (inlined headers):
        # the largest row is its inclusive count; a prefix key sums the functions it names
        best: dict[str, int] = {}
        for c, fn in rows:
            if any(fn == k or (k.endswith("_") and fn.startswith(k)) for k in keys):
                best[fn] = max(best.get(fn, 0), c)
        got = sum(best.values())
        if part != "garbage collector":
            covered += got
        print(f"  {part:48s} {got / n:10,.0f} {100 * got / total:6.1f} %")
    print(f"  {'the rest (interpreted: handler, worker, Faust)':48s} {(total - covered) / n:10,.0f}"
          f" {100 * (total - covered) / total:6.1f} %")
    print(f"  {'main thread total':48s} {total / n:10,.0f}")
    if args.top:
        _, own = annotate(main_file, False)
        print(f"main thread, self, top {args.top}:")
        own = [(c, fn) for c, fn in own if c < total]  # the call chain's roots, listed whole
        for c, fn in own[:args.top]:
            print(f"  {c / n:10,.0f} {fn}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
