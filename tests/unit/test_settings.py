from __future__ import annotations

from pathlib import Path

import pytest

from schemas.errors import ConfigError
from streams.settings import Settings


def test_defaults_then_file_then_environment_then_overrides(tmp_path: Path) -> None:
    cfg = tmp_path / "f.toml"
    cfg.write_text('[forewarn]\ntopic_prefix = "file."\npartitions = 6\nrisk_threshold = 0.7\n')
    env = {"FOREWARN_CONFIG": str(cfg), "FOREWARN_PARTITIONS": "12"}
    s = Settings.load(env=env, bootstrap_servers="k:9092")
    assert (s.topic_prefix, s.partitions, s.risk_threshold) == ("file.", 12, 0.7)
    assert s.bootstrap_servers == "k:9092"
    assert s.topic("risk") == "file.risk"


def test_environment_is_not_read_unless_given() -> None:
    assert Settings.load(env={}) == Settings()


@pytest.mark.parametrize(
    ("env", "match"),
    [
        ({"FOREWARN_PARTITIONS": "many"}, "partitions"),
        ({"FOREWARN_WIRE_FORMAT": "xml"}, "wire_format"),
        ({"FOREWARN_PARTITIONS": "0"}, "partitions"),
    ],
)
def test_bad_settings_name_the_setting(env: dict[str, str], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        Settings.load(env=env)


def test_unknown_key_in_file_is_an_error(tmp_path: Path) -> None:
    cfg = tmp_path / "f.toml"
    cfg.write_text("bootstrap = 'x'\n")
    with pytest.raises(ConfigError, match="unknown setting 'bootstrap'"):
        Settings.load(env={}, config_path=cfg)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file"):
        Settings.load(env={}, config_path=tmp_path / "nope.toml")


def test_backend_options_from_a_toml_table_or_json_in_the_environment(tmp_path: Path) -> None:
    cfg = tmp_path / "f.toml"
    cfg.write_text('[forewarn]\nbackend = "linux"\n[forewarn.backend_options]\n'
                   'cgroup_root = "/sys/fs/cgroup"\nnice = true\n')
    s = Settings.load(env={}, config_path=cfg)
    assert s.backend == "linux"
    assert s.backend_options_map() == {"cgroup_root": "/sys/fs/cgroup", "nice": True}
    env = {"FOREWARN_BACKEND_OPTIONS": '{"namespace": "shop"}'}
    assert Settings.load(env=env).backend_options_map() == {"namespace": "shop"}
    assert Settings.load(env={}).backend_options_map() == {}


@pytest.mark.parametrize(("raw", "match"), [("{nope", "not valid JSON"), ("[1]", "JSON object")])
def test_bad_backend_options_are_config_errors(raw: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        Settings.load(env={"FOREWARN_BACKEND_OPTIONS": raw}).backend_options_map()


def test_dependencies_are_component_dependency_pairs() -> None:
    s = Settings.load(env={"FOREWARN_DEPENDENCIES": "app-01/api=db-01/pg, web-01=app-01/api"})
    assert s.dependency_pairs() == (("app-01/api", "db-01/pg"), ("web-01", "app-01/api"))
    from streams.runtime.worker import pipeline_config

    assert pipeline_config(s).dependencies == s.dependency_pairs()
    with pytest.raises(ConfigError, match="not component=dependency"):
        Settings.load(env={"FOREWARN_DEPENDENCIES": "app-01/api"}).dependency_pairs()
