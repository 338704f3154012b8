"""s29 (hT): a compiled profile's self instructions per sample grouped by library (CPython's
runtime, our mypyc code, numpy, zlib, msgpack, libc): ``profile23.py``'s self output, all rows.

    python docs/analysis/s23-throughput/profile23.py DIR compiled 3000 100000 > self.txt
    python docs/analysis/s29-throughput/bylib29.py self.txt
"""

from __future__ import annotations

import re
import sys
from collections import Counter

GROUPS = (  # (group, substrings of the object or function name), first match wins
    ("CPython runtime (libpython)", ("libpython", "Python-3.11.7")),
    ("numpy", ("numpy",)),
    ("msgpack", ("msgpack",)),
    ("our mypyc code + lib-rt", ("mypyc", "__native", "lib-rt", "build/native")),
    ("libc (memcpy, malloc)", ("libc", "sysdeps", "string/")),
    ("libm", ("libm", "ieee754")),
    ("zlib", ("libz", "zlib", "adler", "deflate")),
)


def group(name: str) -> str:
    for label, keys in GROUPS:
        if any(k in name for k in keys):
            return label
    return "no symbols" if name.startswith("???") else "other"


def main(path: str) -> None:
    agg: Counter[str] = Counter()
    for line in open(path).read().splitlines()[1:]:
        m = re.match(r"\s*([-\d,.]+)\s+[-\d.]+ %\s+(.*)$", line)
        if m:
            agg[group(m.group(2))] += float(m.group(1).replace(",", ""))
    total = sum(agg.values())
    for label, v in agg.most_common():
        print(f"{v:10,.0f} {100 * v / total:5.1f} %  {label}")
    print(f"{total:10,.0f} total")


if __name__ == "__main__":
    main(sys.argv[1])
