"""``anomaly_confirm_floor`` 0 and 1 (s24; s23's ``riskonly.py`` for it) on the identity data
sets (``streams.bench.identity``): ``PYTHONPATH=. python docs/analysis/s24-nab/riskonly.py``.
Per data set, the risk records of the
two configurations decoded side by side: how many differ at all, how many differ in their
``anomaly`` field, how many still differ with ``anomaly`` and ``act`` left out (the risk, its
contributors, forecasts, breach: expected 0, the risk reads the score suppressed without
``hold`` or the confirmation either way), and how many differ in what the allocators read
(``act`` where present, else the record's ``risk`` and ``anomaly``: :mod:`processors.actsignal`;
expected 0). s18's comparison (``docs/analysis/s18-nab/riskonly.py``) with ``act`` apart:
``act`` is written only where the alarm's anomaly differs from the one before the hold, so the
confirmation adds it to rows where it zeroes an onset."""
from dataclasses import replace
from typing import Any

from schemas.codec import Codec
from streams.bench.identity import datasets
from streams.lab.replay import Replay
from streams.runtime.worker import pipeline_config
from streams.settings import Settings


def acted(r: dict[str, Any]) -> tuple[Any, Any]:
    """What an allocator reads of a risk record."""
    a = r.get("act")
    return (a["risk"], a["anomaly"]) if a else (r["risk"], r["anomaly"])


def main() -> None:
    base = pipeline_config(Settings.load(env={}))
    for name, messages in datasets().items():
        a = list(Replay(replace(base, anomaly_confirm_floor=0), Codec()).risk(messages(Codec())))
        b = list(Replay(replace(base, anomaly_confirm_floor=1), Codec()).risk(messages(Codec())))
        assert len(a) == len(b), name
        pairs = list(zip(a, b, strict=True))
        diff = sum(x != y for x, y in pairs)
        anom = sum(x["anomaly"] != y["anomaly"] for x, y in pairs)
        rest = sum({**x, "anomaly": 0, "act": 0} != {**y, "anomaly": 0, "act": 0}
                   for x, y in pairs)
        act = sum(acted(x) != acted(y) for x, y in pairs)
        print(f"{name}: records {len(a)}, differ {diff}, anomaly differs {anom}, differ without "
              f"anomaly and act {rest}, what the allocators read differs {act}", flush=True)


if __name__ == "__main__":
    main()
