"""s21 (hF) trial edits beyond props.py: serializable state classes, native-aware construction
and attribute listing, the **trend forwarding by name, PageHinkley's int-or-float slots."""
import re
from pathlib import Path

STATE = {  # module -> state classes (stateschema.schema()'s, built by stateformat._build)
    "componentstate": ["ComponentState"], "features": ["Windower", "WindowState"],
    "health": ["HealthState", "RuleState"], "anomaly": ["ComponentNovelty", "MinMaxScaler"],
    "univariate": ["ContextNovelty", "Suppressor", "TailBuffer"], "multivariate": ["JointDeviation"],
    "season": ["SeasonalHistory"], "metricoutlook": ["MetricOutlook", "Troughs"],
    "forecastrecord": ["MetricRecord", "ForecastRecord"], "dayprofile": ["DayProfile"],
    "forecast": ["TrendForecaster"], "trendline": ["TrendFit"], "pagehinkley": ["PageHinkley"],
    "calibration": ["PendingLabels", "RiskLearner", "BinCalibrator"], "bayesnet": ["BayesNet"],
    "risk": ["LogisticRisk"],
}


def sub(path: str, old: str, new: str, count: int = 1) -> None:
    p = Path(path)
    s = p.read_text()
    assert s.count(old) >= 1, (path, old)
    p.write_text(s.replace(old, new, count))


for mod, classes in STATE.items():
    p = Path(f"processors/{mod}.py")
    s = p.read_text()
    for c in classes:
        m = re.search(rf"^((?:@[^\n]*\n)*)class {c}\b", s, re.M)
        assert m, (mod, c)
        s = s[:m.start()] + "@mypyc_attr(serializable=True)\n" + s[m.start():]
    s = re.sub(r"^(from __future__ import annotations\n)", r"\1\nfrom mypy_extensions import mypyc_attr\n", s, count=1, flags=re.M)
    p.write_text(s)

sub("processors/stateformat.py", "obj: Any = object.__new__(ts.cls)", "obj: Any = ts.cls.__new__(ts.cls)  # a mypyc native class refuses object.__new__")
sub("processors/batch/trend.py", "new, (s0, s1, s2, s3, s4, s5, s6, s7) = object.__new__, _SETTERS",
    "new, (s0, s1, s2, s3, s4, s5, s6, s7) = TrendFit.__new__, _SETTERS")
sub("processors/stateschema.py",
    'slots = [n for c in reversed(kind.__mro__) for n in c.__dict__.get("__slots__", ())\n             if n not in ("__dict__", "__weakref__")]',
    'slots = [n for c in reversed(kind.__mro__)\n             for n in c.__dict__.get("__slots__", getattr(c, "__mypyc_attrs__", ()))\n             if n not in ("__dict__", "__weakref__")]\n    slots = list(dict.fromkeys(slots))')
sub("processors/pagehinkley.py", "self.n: float = 0", "self.n: int | float = 0")
sub("processors/pagehinkley.py", "self.max_decrease: float = -1", "self.max_decrease: int | float = -1")
sub("processors/forecast.py", "        **trend: Any,\n    ) -> None:\n        super().__init__(k=k, **trend)",
    "        min_points: int = 4,\n        z: float = Z_95,\n        min_std_abs: float = 1e-9,\n        min_std_rel: float = 0.005,\n    ) -> None:\n        super().__init__(k=k, min_points=min_points, z=z, min_std_abs=min_std_abs,\n                         min_std_rel=min_std_rel)")
