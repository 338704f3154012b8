from processors.forecast import SeasonalTrendForecaster
import math
for cap in (256, 512):
    f = SeasonalTrendForecaster(step_s=60, capacity=cap)
    found = None
    for i in range(5 * 1440):
        t = i % 1440
        v = 0.2 + (0.5 if 480 <= t < 1000 else 0.0) + 0.01 * math.sin(i)
        f.learn_one(i * 60_000, v)
        if found is None and f.period_points: found = (i / 1440, f.period_points)
    print(cap, found, f.period_points)
