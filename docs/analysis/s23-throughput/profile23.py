"""s23 (hT): a per-function Callgrind profile per sample: the difference of two runs'
per-function costs (``ir23.sh`` with ``CG=DIR``: ``cg.MODE.p1.out``, ``cg.MODE.p2.out``) over
the samples of one pass, so start-up cancels out.

    python docs/analysis/s23-throughput/profile23.py DIR MODE [SAMPLES] [TOP] [--inclusive]
"""

from __future__ import annotations

import re
import subprocess
import sys

LINE = re.compile(r"^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(.*)$")


def costs(path: str, inclusive: bool) -> dict[str, int]:
    text = subprocess.run(["callgrind_annotate", "--threshold=100", "--auto=no",
                           f"--inclusive={'yes' if inclusive else 'no'}", path],
                          capture_output=True, text=True, check=True).stdout
    got: dict[str, int] = {}
    for line in text.splitlines():
        m = LINE.match(line)
        name = m.group(2).strip() if m else ""
        if ":" in name and not name.startswith(("=>", "<")) and "PROGRAM TOTALS" not in name:
            got[name] = got.get(name, 0) + int(m.group(1).replace(",", ""))  # type: ignore[union-attr]
    return got


def main(argv: list[str]) -> None:
    inclusive = "--inclusive" in argv
    args = [a for a in argv if a != "--inclusive"]
    folder, mode = args[0], args[1]
    n = int(args[2]) if len(args) > 2 else 3000
    top = int(args[3]) if len(args) > 3 else 40
    one = costs(f"{folder}/cg.{mode}.p1.out", inclusive)
    two = costs(f"{folder}/cg.{mode}.p2.out", inclusive)
    diff = {k: two.get(k, 0) - one.get(k, 0) for k in set(one) | set(two)}
    total = sum(diff.values()) if not inclusive else None
    kind = "inclusive" if inclusive else "self"
    print(f"{mode}: {kind} instructions per sample (2 passes - 1 pass) / {n}"
          + (f"; sum of self {total / n:,.0f}" if total else ""))
    for k, v in sorted(diff.items(), key=lambda kv: -kv[1])[:top]:
        share = f"{100 * v / total:5.1f} %" if total else ""
        print(f"{v / n:12,.0f} {share}  {k[:150]}")


if __name__ == "__main__":
    main(sys.argv[1:])
