"""The pure core stays pure: processors/ and the allocation engine import no Kafka, Faust or
HTTP client, so the live pipeline, the replay and the benchmarks can all run the same code."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {"confluent_kafka", "faust", "aiokafka", "kafka", "mode", "httpx", "requests",
             "aiohttp", "urllib3", "streams", "http"}
PURE = sorted(
    [*ROOT.glob("processors/**/*.py"), *ROOT.glob("actuators/*.py"),
     ROOT / "actuators/backends/base.py", ROOT / "actuators/backends/dryrun.py"]
)


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("path", PURE, ids=lambda p: str(p.relative_to(ROOT)))
def test_pure_core_imports_no_io_library(path: Path) -> None:
    bad = imported_roots(path) & FORBIDDEN
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_the_scan_finds_the_pure_modules() -> None:
    assert len(PURE) >= 8


def test_design_card_top_level_exists() -> None:
    for name in ("pyproject.toml", "streams", "schemas", "processors", "actuators", "deploy",
                 "docker-compose.yml", "tests"):
        assert (ROOT / name).exists(), name
