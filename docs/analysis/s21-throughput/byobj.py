"""Sum callgrind_annotate's self counts by object file ([...] at the line's end) and by the
compiled modules' C function name prefixes (CPyDef_<module>___...)."""
import re, sys, collections
tot, by, fn = 0, collections.Counter(), []
for line in open(sys.argv[1]):
    m = re.match(r"\s*([\d,]+) \([\s\d.]+%\)\s+(.*?)(?: \[(.*)\])?$", line)
    if not m or "=>" in line or "<=" in line:
        continue
    n = int(m.group(1).replace(",", ""))
    name, ob = m.group(2), (m.group(3) or "?").rsplit("/", 1)[-1]
    if "PROGRAM TOTALS" in name:
        continue
    by[ob] += n
    tot += n
    fn.append((n, name, ob))
print("total (listed)", f"{tot:,}")
for ob, n in by.most_common(15):
    print(f"{n:>16,} {100*n/tot:5.1f} %  {ob}")
print("-- top functions")
for n, name, ob in sorted(fn, reverse=True)[:40]:
    print(f"{n:>16,} {100*n/tot:5.1f} %  {name[:90]}  [{ob[:40]}]")
