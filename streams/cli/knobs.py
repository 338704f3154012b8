"""The generated table of every engine and pipeline knob (``docs/settings.md``).

``python -m streams.cli.knobs`` rewrites the tables between the markers of docs/settings.md
from the dataclasses (``tests/unit/test_settings_knobs.py`` fails when they part ways): each
knob's type, default, environment variable and what it does (the comment on its field's line,
else the comment block above it, else :data:`NOTES`).
"""

from __future__ import annotations

import dataclasses
import inspect
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from streams.settings import ALIASES, KNOB_TABLES, knob_class, knob_fields, knob_hints

# what a knob does, where its field carries no comment (a field's own comment comes first)
NOTES = {
    "engine": {
        "release_threshold": "risk at or below this for release_hold_s releases (or steps "
        "down) a lease; unless given, it moves with risk_threshold",
        "min_criticality": "components less critical than this get no grant",
        "preempt_criticality": "components this critical may preempt leases of less "
        "critical ones when a host's pool is full",
        "default_criticality": "criticality of a component no preference names (0..10)",
        "lease_s": "a grant's term; renewed while risk stays high",
        "cooldown_s": "commands about one component and resource at least this far apart; "
        "no new grant this soon after a lease ended",
        "resources": "each resource's unit, baseline, per-host capacity, minimum grant",
        "host_capacity": "per-host overrides of a resource's capacity: {host: {resource: "
        "capacity}}",
        "metric_resources": "metric glob -> the resources that relieve it, in order of "
        "preference",
        "new_component_window_s": "the window of max_new_components_per_host",
        "new_host_window_s": "the window of max_new_hosts",
        "capacity_thresholds": "FAIL thresholds of capacity metrics, for release, step-down "
        "and scale-down when a risk score names none",
    },
    "pipeline": {
        "window_s": "tumbling event-time window length",
        "lateness_s": "how long after its end a window waits for late samples",
        "horizon_s": "risk is about a FAIL within this horizon",
        "seed": "seed of every seeded model (mixed with the component id)",
        "model_version": "stamped into each RiskScore's model.version",
        "rules": "the health rules: metric, fail, warn, direction, hysteresis, for_s, name",
        "min_windows_warm": "windows before a component's RiskScore says warm",
        "forecast_horizons_s": "the horizons forecast (and reported) per rule metric",
        "anomaly_height": "hst only: tree height",
        "jump_confirm": "samples in a row that confirm a component's clock really jumped",
    },
}



def _default_repr(f: dataclasses.Field[Any]) -> str:
    if f.default is not dataclasses.MISSING:
        value = f.default
    elif f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
    else:
        return "required"
    if callable(value) and not isinstance(value, type):
        return '"trailing-number"'
    if f.name == "rules":
        return "processors/defaults.toml"
    if isinstance(value, tuple) and len(value) > 3 or isinstance(value, Mapping) and value:
        return "built-in (docs/allocation.md)"
    return f"`{value!r}`".replace("|", "\\|")


def _comments(cls: type) -> dict[str, str]:
    """Each field's comment in the class source: the one on its line, else the block above."""
    out: dict[str, str] = {}
    block: list[str] = []
    for line in inspect.getsource(cls).splitlines():
        text = line.strip()
        if text.startswith("#"):
            block.append(text.lstrip("# "))
            continue
        m = re.match(r"(\w+): [^=]+?(?:=.*?)?(?:\s+#\s*(.*))?$", text)
        if m and line.startswith("    ") and not line.startswith("     "):
            out[m.group(1)] = m.group(2) or " ".join(block)
        block = []
    return out


def knob_table(table: str) -> str:
    """The Markdown table of one table's knobs (docs/settings.md is generated from it)."""
    cls, hints = knob_class(table), knob_hints(table)
    notes = _comments(cls)
    rows = ["| knob | type | default | environment | what |", "|---|---|---|---|---|"]
    for f in knob_fields(table):
        kind = "str (a choice)" if f.name == "component_class" else \
            str(hints[f.name]).replace("typing.", "").replace("collections.abc.", "")
        kind = re.sub(r"<class '(\w+)'>", r"\1", kind).replace("|", "\\|")
        kind = re.sub(r"(\w+\.)+(\w+)", r"\2", kind)
        alias = ALIASES.get((table, f.name))
        env = f"`FOREWARN_{table.upper()}__{f.name.upper()}`" + (
            f" (or `FOREWARN_{alias.upper()}`)" if alias else "")
        what = (notes.get(f.name) or NOTES[table].get(f.name, "")).replace("|", "\\|")
        if f.name == "component_class":
            what = ("how components are grouped for learning: `trailing-number` (each path "
                    "segment without its trailing number) or `component` (each its own)")
        rows.append(f"| `{f.name}` | {kind} | {_default_repr(f)} | {env} | {what} |")
    return "\n".join(rows) + "\n"


def write_docs(path: str | os.PathLike[str] = "docs/settings.md") -> bool:
    """Regenerate the knob tables between the markers of ``path``; whether it changed."""
    doc = Path(path)
    text = doc.read_text()
    for table in KNOB_TABLES:
        begin, end = f"<!-- knobs:{table}:begin -->\n", f"<!-- knobs:{table}:end -->"
        head, _, rest = text.partition(begin)
        _, _, tail = rest.partition(end)
        text = f"{head}{begin}{knob_table(table)}{end}{tail}"
    changed = text != doc.read_text()
    doc.write_text(text)
    return changed


def main() -> int:
    print("docs/settings.md", "updated" if write_docs() else "already current")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
