"""The closed loop of the first day's mixture, alarm-only and round seven's form, beside the
default: ``PYTHONPATH=. python docs/analysis/s20-breach/hn_closedloop.py [SCENARIO SEED
HOURS]`` from the tree's root (default: the quiet ``ramp`` of
``tests/unit/test_closedloop.py``, seed 5, 3 h, no incident). Prints each form's forewarn
figures and whether its JSON equals the default's, byte for byte, but ``breaches_predicted``
(the alarm's count of its episodes, which an alarm-side change moves; issue #15, s20, hN)."""
import sys

import orjson

from processors import dayprofile
from processors.pipeline import PipelineConfig
from streams.lab import backtest
from streams.lab.closedloop import closed_loop

FORMS = {"default": (1.0, False), "blind 0.5, alarm only": (0.5, True),
         "blind 0.5 (round seven)": (0.5, False)}


def main() -> None:
    name, seed, hours = (sys.argv[1], int(sys.argv[2]), float(sys.argv[3])) \
        if len(sys.argv) > 3 else ("ramp", 5, 3.0)
    quiet = {name: {"duration_s": int(hours * 3600), "incidents": ()}}
    base = None
    for form, (blind, alarm) in FORMS.items():
        dayprofile.BLIND, dayprofile.BLIND_ALARM = blind, alarm
        res = closed_loop([name], seed, ["forewarn"], PipelineConfig(), overrides=quiet)
        fw = backtest.clean_json(res["policies"]["forewarn"])
        alarms = {k: fw[k].pop("breaches_predicted") for k in ("total",)}
        for s in fw["scenarios"].values():
            s.pop("breaches_predicted")
        got = orjson.dumps(fw, option=orjson.OPT_SORT_KEYS)
        base = got if base is None else base
        t = fw["total"]
        print(f"{form}: violation min {t['violation_minutes']}, resource-h "
              f"{t['resource_hours']:.3f}, commands {t['commands']}, breaches predicted "
              f"{alarms['total']}, "
              f"equal to the default: {got == base}")


if __name__ == "__main__":
    main()
