"""Ctrl-C while ``forewarn`` is still starting (building its parser imports the pipeline, about
a second) is one line and exit 130, not a traceback."""

from __future__ import annotations

import pytest

from streams.cli import commands


def test_ctrl_c_while_building_the_parser_is_one_line(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(commands, "build_parser", interrupted)
    assert commands.main(["run"]) == 130
    err = capsys.readouterr().err
    assert err == "forewarn: interrupted\n"
