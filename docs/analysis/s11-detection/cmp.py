import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
for n in a["scenarios"]:
    f, g = a["scenarios"][n], b["scenarios"][n]
    if n == "all" or f["episodes"] != g["episodes"] or f["precision"] != g["precision"]:
        print(f"{n:24s} ep {f['episodes']:4d} -> {g['episodes']:4d}  P {f['precision']:.3f} -> {g['precision']:.3f}  R5 {f['recall']['300']:.3f} -> {g['recall']['300']:.3f}  Brier {f['brier']:.4f} -> {g['brier']:.4f}")
