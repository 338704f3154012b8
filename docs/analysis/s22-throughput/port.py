"""s22 (hF): the s21 mypyc trial's source changes ported to the tree (run once, in the repo root).

* the parameter properties (``sharedparams.expose``) written out as ordinary properties: in the
  class for the drift test, the seasonal history and the outlooks; in a base class of a module
  of its own, with its parameter tuple, for the novelty model (``processors/noveltyview.py``)
  and the trend forecasters (``processors/trendview.py``), whose modules would pass 400 lines;
* ``@mypyc_attr(serializable=True)`` on the state classes, through ``processors.nativeattr``.
"""
import re
from pathlib import Path

STATE = {  # module -> the state classes stateformat._build makes (s21's edits.py)
    "componentstate": ["ComponentState"], "features": ["Windower", "WindowState"],
    "health": ["HealthState", "RuleState"], "anomaly": ["ComponentNovelty", "MinMaxScaler"],
    "univariate": ["ContextNovelty", "Suppressor", "TailBuffer"], "multivariate": ["JointDeviation"],
    "season": ["SeasonalHistory"], "metricoutlook": ["MetricOutlook", "Troughs"],
    "forecastrecord": ["MetricRecord", "ForecastRecord"], "dayprofile": ["DayProfile"],
    "forecast": ["TrendForecaster"], "trendline": ["TrendFit"], "pagehinkley": ["PageHinkley"],
    "calibration": ["PendingLabels", "RiskLearner", "BinCalibrator"], "bayesnet": ["BayesNet"],
    "risk": ["LogisticRisk"],
}
HEAD = '''    # the parameters, read from ``p`` and set by replacing it with the shared copy
    # (processors.sharedparams; written out, not added by ``expose``: a mypyc class, s22)
'''


def params_of(src: str, pname: str) -> tuple[str, list[tuple[str, str]]]:
    """The NamedTuple class's text and its (field, type) pairs."""
    m = re.search(rf"^class {pname}\(NamedTuple\):\n(.*?)\n\n\n", src, re.S | re.M)
    assert m, pname
    return m.group(0), re.findall(r"^    (\w+): (\w+) = ", m.group(1), re.M)


def props(fields: list[tuple[str, str]], blank: str, ignore: bool) -> str:
    ign = "  # type: ignore[no-any-return]" if ignore else ""
    out = []
    for name, typ in fields:
        out += ["    @property", f"    def {name}(self) -> {typ}:",
                f"        return self.p.{name}{ign}", "",
                f"    @{name}.setter", f"    def {name}(self, value: {typ}) -> None:",
                f'        base = self.p if hasattr(self, "p") else {blank}',
                f"        self.p = shared(base._replace({name}={'value'}))", ""]
    return HEAD + "\n".join(out)


def strip_annotations(body: str, names: list[str]) -> str:
    for n in names:
        body, k = re.subn(rf"^    {n}: \w+\n", "", body, count=1, flags=re.M)
        assert k == 1, n
    return body


def inline(path: str, cls: str, pname: str, ptype: str) -> None:
    p = Path(path)
    s = p.read_text()
    _, fields = params_of(s, pname)
    m = re.search(rf"^class {cls}\b.*?\n(?=\S)", s, re.S | re.M)
    assert m, cls
    body = strip_annotations(m.group(0), [f for f, _ in fields])
    body = re.sub(r"(    __slots__ = \([^)]*\)\n)", rf"\1    p: {ptype}\n", body, count=1)
    body = body.rstrip("\n") + "\n\n" + props(fields, f"{pname}()", False).rstrip("\n") + "\n\n\n"
    s = s[:m.start()] + body + s[m.end():]
    s = s.replace(f"expose({cls}, {pname})\n", "")
    p.write_text(s)


def tidy_imports(path: str) -> None:
    p = Path(path)
    s = p.read_text().rstrip("\n") + "\n"
    s = re.sub(r"from processors.sharedparams import ([^\n]*)", lambda m: "from processors.sharedparams import " + ", ".join(sorted({x.strip() for x in m.group(1).split(",")} - {"expose"} | {"shared"})), s)
    p.write_text(s)


for mod, cls, pname in [("pagehinkley", "PageHinkley", "PageHinkleyParams"),
                        ("season", "SeasonalHistory", "HistoryParams"),
                        ("metricoutlook", "Troughs", "TroughParams"),
                        ("metricoutlook", "MetricOutlook", "OutlookParams")]:
    inline(f"processors/{mod}.py", cls, pname, pname)
    tidy_imports(f"processors/{mod}.py")

VIEW_DOC = '''"""{what}'s parameters: their tuple and the properties that read them (#14, s22).

A base class of {user} with its one slot ``p``: each parameter a property read from ``p``
and set by replacing it with the shared copy (:mod:`processors.sharedparams`). Written out,
not added by ``sharedparams.expose``, so that mypyc compiles the class as a native one
(docs/throughput.md, s22); kept apart from {home} for the 400-line limit.
"""

from __future__ import annotations

from typing import {typing}

from processors.nativeattr import mypyc_attr
from processors.sharedparams import shared
{extra}
'''


def view(cls: str, pname: str, fields: list[tuple[str, str]], ptype: str, blank: str,
         doc: str) -> str:
    return (f'\n\n@mypyc_attr(serializable=True)\nclass {cls}:\n    """{doc}"""\n\n'
            f'    __slots__ = ("p",)\n    p: {ptype}\n\n'
            + props(fields, blank, ptype == "Any").rstrip("\n") + "\n")


# the novelty model
u = Path("processors/univariate.py")
s = u.read_text()
ntext, nfields = params_of(s, "NoveltyParams")
s = s.replace(ntext, "")
m = re.search(r"^class ContextNovelty:\n.*?\n(?=\S)", s, re.S | re.M)
body = strip_annotations(m.group(0), [f for f, _ in nfields]).replace(
    "class ContextNovelty:", "class ContextNovelty(NoveltyView):").replace('("p", "n", ', '("n", ', 1)
s = s[:m.start()] + body + s[m.end():]
s = s.replace("expose(ContextNovelty, NoveltyParams)\n", "")
s = s.replace("from processors.sharedparams import", "from processors.noveltyview import NoveltyParams as NoveltyParams\nfrom processors.noveltyview import NoveltyView\nfrom processors.sharedparams import", 1)
u.write_text(s)
tidy_imports(str(u))
Path("processors/noveltyview.py").write_text(
    VIEW_DOC.format(what="The context novelty model", user=":class:`~processors.univariate.ContextNovelty`",
                    home="``processors.univariate``", typing="NamedTuple", extra="")
    + "\n\n" + ntext.rstrip("\n") + "\n"
    + view("NoveltyView", "NoveltyParams", nfields, "NoveltyParams", "NoveltyParams()",
           "The parameter properties of a context novelty model."))

# the trend forecasters
f = Path("processors/forecast.py")
s = f.read_text()
ttext, tfields = params_of(s, "TrendParams")
stext, sfields = params_of(s, "SeasonalParams")
s = s.replace(ttext, "").replace(stext, "")
m = re.search(r"^class TrendForecaster:\n.*?\n(?=\S)", s, re.S | re.M)
body = strip_annotations(m.group(0), [f for f, _ in tfields]).replace(
    "class TrendForecaster:", "class TrendForecaster(TrendView):").replace('("p", "ts_ms", ', '("ts_ms", ', 1)
body = body.replace("    p: Any  # TrendParams, or SeasonalParams in the subclass\n", "")
s = s[:m.start()] + body + s[m.end():]
own = [x for x in sfields if x not in tfields]
m = re.search(r"^class SeasonalTrendForecaster\b.*?\n(?=\S)", s, re.S | re.M)
body = strip_annotations(m.group(0), [f for f, _ in own])
body = (body.rstrip("\n") + "\n\n    def _blank(self) -> Any:\n        return SeasonalParams()\n\n"
        + props(own, "self._blank()", True).rstrip("\n") + "\n\n\n")
s = s[:m.start()] + body + s[m.end():]
s = s.replace("expose(TrendForecaster, TrendParams)\n", "").replace("expose(SeasonalTrendForecaster, SeasonalParams)\n", "")
s = s.replace("Z_95 = 1.959963984540054  # two-sided 95 % normal quantile\n", "")
s = s.replace("from processors.sharedparams import", "from processors.trendview import Z_95 as Z_95\nfrom processors.trendview import SeasonalParams as SeasonalParams\nfrom processors.trendview import TrendParams as TrendParams\nfrom processors.trendview import TrendView\nfrom processors.sharedparams import", 1)
f.write_text(s)
tidy_imports(str(f))
tv = view("TrendView", "TrendParams", tfields, "Any", "self._blank()",
          "The parameter properties of a trend forecaster (``p``: a :class:`TrendParams`, or a\n"
          "    :class:`SeasonalParams` in the seasonal subclass).")
tv = tv.replace("    p: Any\n\n", "    p: Any\n\n    def _blank(self) -> Any:\n        return TrendParams()\n\n", 1)
Path("processors/trendview.py").write_text(
    VIEW_DOC.format(what="The trend forecasters", user=":class:`~processors.forecast.TrendForecaster`",
                    home="``processors.forecast``", typing="Any, NamedTuple",
                    extra="\nZ_95 = 1.959963984540054  # two-sided 95 % normal quantile\n")
    + "\n" + ttext.rstrip("\n") + "\n\n\n" + stext.rstrip("\n") + "\n" + tv)

# serializable state classes
for mod, classes in STATE.items():
    p = Path(f"processors/{mod}.py")
    s = p.read_text()
    for c in classes:
        m = re.search(rf"^((?:@[^\n]*\n)*)class {c}\b", s, re.M)
        assert m, (mod, c)
        s = s[:m.start()] + "@mypyc_attr(serializable=True)\n" + s[m.start():]
    p.write_text(s)
    text = s
    lines = text.split("\n")
    i = max(k for k, l in enumerate(lines) if re.match(r"(from \S+ )?import ", l))
    # after the last top-level processors import, sorted by ruff --fix later
    lines.insert(i + 1, "from processors.nativeattr import mypyc_attr")
    p.write_text("\n".join(lines))
