"""``python -m streams.bench.instructions``: the passes it is asked for, over the bench data
(the counting itself is Valgrind's, outside the test)."""

from __future__ import annotations

import pytest

from streams.bench.instructions import main


def test_runs_the_passes_asked_for(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--samples", "300", "--passes", "2"])
    assert capsys.readouterr().out.strip() == "2 passes of 300 samples"


def test_a_codec_per_pass_as_before_s27(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--samples", "300", "--passes", "2", "--codec-per-pass"])
    assert capsys.readouterr().out.strip() == "2 passes of 300 samples"
