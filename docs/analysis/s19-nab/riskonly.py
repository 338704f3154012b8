"""``anomaly_hold`` off and on (s19) on the identity data sets (``streams.bench.identity``):
``PYTHONPATH=. python docs/analysis/s19-nab/riskonly.py``. Per data set, the risk records of the
two configurations decoded side by side: how many differ at all, how many differ in their
``anomaly`` field, and how many still differ with ``anomaly`` left out (the risk, its
contributors, forecasts, breach: expected 0, the risk reads the score suppressed without
``hold`` either way). The comparison is s18's (``docs/analysis/s18-nab/riskonly.py``)."""
import importlib.util
from pathlib import Path

spec = importlib.util.spec_from_file_location(
    "riskonly18", Path(__file__).parents[1] / "s18-nab" / "riskonly.py")
assert spec is not None and spec.loader is not None
s18 = importlib.util.module_from_spec(spec)
spec.loader.exec_module(s18)

if __name__ == "__main__":
    s18.main({"anomaly_hold": False}, {"anomaly_hold": True})
