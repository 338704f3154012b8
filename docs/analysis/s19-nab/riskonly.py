"""``anomaly_hold`` off and on (s19) on the identity data sets (``streams.bench.identity``):
``PYTHONPATH=. python docs/analysis/s19-nab/riskonly.py``. Per data set, the risk records of the
two configurations decoded side by side: how many differ at all, how many differ in their
``anomaly`` field, and how many still differ with ``anomaly`` left out (the risk, its
contributors, forecasts, breach: expected 0, the risk reads the score suppressed without
``hold`` either way)."""
from dataclasses import replace

from schemas.codec import Codec
from streams.bench.identity import datasets
from streams.lab.replay import Replay
from streams.runtime.worker import pipeline_config
from streams.settings import Settings


def main() -> None:
    base = pipeline_config(Settings.load(env={}))
    for name, messages in datasets().items():
        a = list(Replay(replace(base, anomaly_hold=False), Codec()).risk(messages(Codec())))
        b = list(Replay(replace(base, anomaly_hold=True), Codec()).risk(messages(Codec())))
        assert len(a) == len(b), name
        diff = sum(x != y for x, y in zip(a, b, strict=True))
        anom = sum(x["anomaly"] != y["anomaly"] for x, y in zip(a, b, strict=True))
        rest = sum({**x, "anomaly": 0} != {**y, "anomaly": 0} for x, y in zip(a, b, strict=True))
        print(f"{name}: records {len(a)}, differ {diff}, anomaly differs {anom}, "
              f"differ without anomaly {rest}", flush=True)


if __name__ == "__main__":
    main()
