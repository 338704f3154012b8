"""The closed loop of the alarm's own learner beside the default: ``PYTHONPATH=. python
docs/analysis/s21-breach/closedloop.py [SCENARIO SEED HOURS]`` from the tree's root (default:
the quiet ``ramp`` of ``tests/unit/test_closedloop.py``, seed 5, 3 h, no incident). Prints
each form's forewarn figures and whether its JSON equals the default's, byte for byte, but
``breaches_predicted`` (the alarm's own count of its episodes; issue #15, s21; after s20's
``hn_closedloop.py``)."""
import sys
from dataclasses import replace

import orjson

from processors.pipeline import PipelineConfig
from streams.lab import backtest
from streams.lab.closedloop import closed_loop

FORMS = {"default (warn_trust 2)": {},
         "alarm_learner": {"alarm_learner": True},
         "alarm_learner + forecast_trust 2 + hover 2": {"alarm_learner": True,
                                                        "forecast_trust": 2.0, "hover": 2}}


def main() -> None:
    name, seed, hours = (sys.argv[1], int(sys.argv[2]), float(sys.argv[3])) \
        if len(sys.argv) > 3 else ("ramp", 5, 3.0)
    quiet = {name: {"duration_s": int(hours * 3600), "incidents": ()}}
    base = None
    for form, kw in FORMS.items():
        res = closed_loop([name], seed, ["forewarn"], replace(PipelineConfig(), **kw),
                          overrides=quiet)
        fw = backtest.clean_json(res["policies"]["forewarn"])
        alarms = fw["total"].pop("breaches_predicted")
        for s in fw["scenarios"].values():
            s.pop("breaches_predicted")
        got = orjson.dumps(fw, option=orjson.OPT_SORT_KEYS)
        base = got if base is None else base
        t = fw["total"]
        print(f"{form}: violation min {t['violation_minutes']}, resource-h "
              f"{t['resource_hours']:.3f}, commands {t['commands']}, breaches predicted "
              f"{alarms}, equal to the default: {got == base}")


if __name__ == "__main__":
    main()
