import json, sys
ds = [json.load(open(f)) for f in sys.argv[1:]]
for pol in ds[0]["policies"]:
    print(pol)
    tot = [0.0] * len(ds); rh = [0.0] * len(ds)
    for sc in ds[0]["policies"][pol]["scenarios"]:
        row = []
        for i, d in enumerate(ds):
            s = d["policies"][pol]["scenarios"][sc]
            tot[i] += s["violation_minutes"]; rh[i] += s["resource_hours"]
            row.append(f"{s['violation_minutes']:8.1f} {s['resource_hours']:9.1f} {s['commands']:6d}")
        print(f"  {sc:24s}", " | ".join(row))
    print("  TOTAL", " | ".join(f"{t:8.1f} {r:9.1f}" for t, r in zip(tot, rh)))
