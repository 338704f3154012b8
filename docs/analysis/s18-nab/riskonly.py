"""The default change of s18 (``anomaly_coarse`` 0 -> 4) on the identity data sets
(``streams.bench.identity``): ``python riskonly.py``. Per data set, the risk records of the
two configurations decoded side by side: how many differ at all, how many differ in their
``anomaly`` field, and how many still differ with ``anomaly`` left out (the risk, its
contributors, forecasts, breach: expected 0, the risk reads the fine score either way)."""
from dataclasses import replace
from typing import Any

from schemas.codec import Codec
from streams.bench.identity import datasets
from streams.lab.replay import Replay
from streams.runtime.worker import pipeline_config
from streams.settings import Settings


def main(off: dict[str, Any] | None = None, on: dict[str, Any] | None = None) -> None:
    """The two configurations: ``anomaly_coarse`` 0 and 4 unless given (s19's ``riskonly.py``
    passes ``anomaly_hold`` off and on)."""
    base = pipeline_config(Settings.load(env={}))
    off, on = off or {"anomaly_coarse": 0}, on or {"anomaly_coarse": 4}
    for name, messages in datasets().items():
        a = list(Replay(replace(base, **off), Codec()).risk(messages(Codec())))
        b = list(Replay(replace(base, **on), Codec()).risk(messages(Codec())))
        assert len(a) == len(b), name
        diff = sum(x != y for x, y in zip(a, b, strict=True))
        anom = sum(x["anomaly"] != y["anomaly"] for x, y in zip(a, b, strict=True))
        rest = sum({**x, "anomaly": 0} != {**y, "anomaly": 0} for x, y in zip(a, b, strict=True))
        print(f"{name}: records {len(a)}, differ {diff}, anomaly differs {anom}, "
              f"differ without anomaly {rest}", flush=True)


if __name__ == "__main__":
    main()
