"""Every EngineConfig and PipelineConfig knob is a setting: [forewarn.engine] and
[forewarn.pipeline] tables, FOREWARN_ENGINE__* and FOREWARN_PIPELINE__* variables, checked at
load; docs/settings.md is generated from the dataclasses."""

from __future__ import annotations

import json
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from actuators.config import EngineConfig, default_component_class
from processors.config import PipelineConfig
from schemas.errors import ConfigError
from streams.cli.knobs import knob_table
from streams.settings import KNOB_TABLES, Settings, knob_fields

DOC = Path(__file__).resolve().parents[2] / "docs" / "settings.md"
CLASSES = {"engine": EngineConfig, "pipeline": PipelineConfig}


@pytest.mark.parametrize("table", KNOB_TABLES)
def test_the_doc_table_is_the_dataclass(table: str) -> None:
    """Regenerate with `.venv/bin/python -m streams.cli.knobs` after changing a field."""
    text = DOC.read_text()
    begin, end = f"<!-- knobs:{table}:begin -->\n", f"<!-- knobs:{table}:end -->"
    documented = text.split(begin, 1)[1].split(end, 1)[0]
    assert documented == knob_table(table)
    names = [f.name for f in knob_fields(table)]
    rows = [r for r in documented.splitlines()[2:]]
    assert [r.split("`")[1] for r in rows] == names
    assert all(not r.endswith("|  |") for r in rows), "a knob without a description"


def _json_value(table: str, name: str, value: Any) -> str:
    hint = typing.get_type_hints(CLASSES[table])[name]
    if name == "component_class":
        return "trailing-number"
    if hint is str:
        return str(value)
    if isinstance(value, Mapping):  # a read-only default (mappingproxy)
        value = {k: dict(v) if isinstance(v, Mapping) else v for k, v in value.items()}
    return json.dumps(TypeAdapter(hint).dump_python(value, mode="json"))


@pytest.mark.parametrize("table", KNOB_TABLES)
def test_every_field_is_read_from_the_environment(table: str) -> None:
    """Each field's value, written as FOREWARN_<TABLE>__<FIELD>, comes back unchanged."""
    base = CLASSES[table]()
    env = {}
    for f in knob_fields(table):
        value = getattr(base, f.name)
        env[f"FOREWARN_{table.upper()}__{f.name.upper()}"] = _json_value(table, f.name, value)
    s = Settings.load(env=env)
    built = s.engine_config() if table == "engine" else s.pipeline_config()
    for f in knob_fields(table):
        assert getattr(built, f.name) == getattr(base, f.name), f.name


def test_changed_knobs_reach_the_configs_from_toml_and_environment(tmp_path: Path) -> None:
    cfg = tmp_path / "f.toml"
    cfg.write_text(
        "[forewarn]\nrisk_threshold = 0.7\n"
        "[forewarn.engine]\ncooldown_s = 60\nholdout = 0.0\n"
        'metric_resources = [["cpu.*", ["CPU_QUOTA"]]]\n'
        "[forewarn.engine.resources.CPU_QUOTA]\nunit = \"cores\"\nbaseline = 1\ncapacity = 8\n"
        "[forewarn.engine.host_capacity.web-1]\nCPU_QUOTA = 4\n"
        "[forewarn.pipeline]\nforecaster = \"trend\"\nforecast_horizons_s = [600, 60]\n"
        "[[forewarn.pipeline.rules]]\nmetric = \"cpu.util\"\nfail = 0.9\nwarn = 0.8\n"
    )
    env = {"FOREWARN_ENGINE__LEASE_S": "7200", "FOREWARN_ENGINE__EFFECT_AFTER_S": "null",
           "FOREWARN_ENGINE__COMPONENT_CLASS": "component", "FOREWARN_ENGINE__THOMPSON": "false",
           "FOREWARN_PIPELINE__DEPENDENCIES": '[["web-1", "db-1"]]',
           "FOREWARN_PIPELINE__MODEL_VERSION": "2024",  # a string field: not JSON
           "FOREWARN_CONFIG": str(cfg)}
    s = Settings.load(env=env)
    e, p = s.engine_config(), s.pipeline_config()
    assert (e.risk_threshold, e.cooldown_s, e.lease_s, e.thompson) == (0.7, 60, 7200, False)
    assert e.release_threshold < e.risk_threshold  # moves with it unless given
    assert e.metric_resources == (("cpu.*", ("CPU_QUOTA",)),)
    assert e.resources["CPU_QUOTA"].capacity == 8.0 and "MEMORY_HIGH" in e.resources
    assert e.host_capacity == {"web-1": {"CPU_QUOTA": 4.0}}
    assert e.component_class("web-17") == "web-17"
    assert Settings.load(env={}).engine_config().component_class is default_component_class
    assert (p.forecaster, p.forecast_horizons_s, p.model_version) == ("trend", (60, 600), "2024")
    assert [r.name for r in p.rules] == ["cpu.util.high"]
    assert p.dependencies == (("web-1", "db-1"),)
    from streams.runtime.worker import pipeline_config

    assert pipeline_config(s) == p  # the worker builds what the settings say


@pytest.mark.parametrize(
    ("env", "toml", "match"),
    [
        ({"FOREWARN_RISK_THRESHOLD": "7"}, "", "risk_threshold=7.0: must be <= 1"),
        ({}, "[forewarn]\nrisk_threshold = 7\n", "risk_threshold=7.0: must be <= 1"),
        ({}, "[forewarn.engine]\nrisk_threshold = 7\n", "must be <= 1"),
        ({"FOREWARN_ENGINE__RELEASE_THRESHOLD": "0.9"}, "",
         "need 0 <= release_threshold < risk_threshold"),
        ({"FOREWARN_ENGINE__SHRINK_STEP": "0"}, "", "0 < shrink_step <= 1"),
        ({"FOREWARN_PIPELINE__TREND_WINDOWS": "2"}, "", "trend_windows >= 3"),
        ({}, "[forewarn.pipeline]\nanomaly_model = 'magic'\n", "anomaly_model must be"),
        ({"FOREWARN_ENGINE__LEASE_S": "an hour"}, "", "FOREWARN_ENGINE__LEASE_S='an hour'"),
        ({}, "[forewarn.pipeline]\nforecast_horizons_s = 'soon'\n",
         r"\[forewarn.pipeline\] forecast_horizons_s='soon'"),
        ({}, "[forewarn.engine.resources.CPU_QUOTA]\nunit = 'c'\nbaseline = -1\ncapacity = 1\n",
         "baseline and capacity must be >= 0"),
        ({}, "[[forewarn.pipeline.rules]]\nmetric = 'x'\nfail = 1\ndirection = 'up'\n",
         "direction must be 'above' or 'below'"),
        ({"FOREWARN_ENGINE__COMPONENT_CLASS": "by-host"}, "", "use trailing-number or component"),
        ({"FOREWARN_ENGINE__RISK": "0.5"}, "", "FOREWARN_ENGINE__RISK: unknown knob; valid: "
         "risk_threshold, release_threshold"),
        ({}, "[forewarn.pipeline]\nwindow = 30\n", r"\[forewarn.pipeline\] window: unknown "
         "knob; valid: window_s, lateness_s"),
        ({}, "[forewarn]\nengine = 3\n", "must be a table of knobs"),
        ({"FOREWARN_RISK_THRESHOLD": "0.5"}, "[forewarn.engine]\nrisk_threshold = 0.6\n",
         "risk_threshold is given twice"),
        ({"FOREWARN_WINDOW_S": "30"}, "[forewarn.pipeline]\nwindow_s = 60\n", "given twice"),
        ({"FOREWARN_HEALTH_RULES": "r.toml"},
         "[[forewarn.pipeline.rules]]\nmetric = 'x'\nfail = 1\n", "rules are given twice"),
    ],
)
def test_bad_knobs_stop_the_load_with_one_line_naming_them(
    tmp_path: Path, env: dict[str, str], toml: str, match: str
) -> None:
    cfg = tmp_path / "f.toml"
    cfg.write_text(toml)
    with pytest.raises(ConfigError, match=match) as info:
        Settings.load(env={**env, "FOREWARN_CONFIG": str(cfg)})
    assert "\n" not in str(info.value)


def test_the_same_value_given_both_ways_is_fine() -> None:
    s = Settings.load(env={"FOREWARN_RISK_THRESHOLD": "0.7",
                           "FOREWARN_ENGINE__RISK_THRESHOLD": "0.70"})
    assert s.risk_threshold == 0.7 and s.engine_config().risk_threshold == 0.7


def test_knobs_given_as_arguments_join_those_of_the_environment() -> None:
    s = Settings.load(env={"FOREWARN_ENGINE__LEASE_S": "7200"}, engine={"cooldown_s": 60})
    assert (s.engine_config().lease_s, s.engine_config().cooldown_s) == (7200, 60)
    with pytest.raises(ConfigError, match=r"\[forewarn.engine\] lease: unknown knob"):
        Settings.load(env={}, engine={"lease": 1})
