"""The package layout's import rules (docs/architecture.md), checked on the source itself.

Imports are read with :mod:`ast`, including those inside functions, so a lazy import cannot hide
a dependency that points the wrong way.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("schemas", "processors", "actuators", "streams")
KAFKA_OR_HTTP = ("confluent_kafka", "faust", "aiokafka", "mode", "kafka", "requests", "httpx",
                 "urllib.request", "http", "fastapi", "uvicorn", "starlette", "aiohttp")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield module_name(path), path


def imports_of(path: Path) -> set[str]:
    """Every module name that ``path`` imports, absolute, at any depth of the file."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


GRAPH = {name: imports_of(path) for name, path in modules()}


def offenders(importers: str, forbidden: tuple[str, ...], *, exempt: tuple[str, ...] = ()
              ) -> list[str]:
    return sorted(
        f"{mod} imports {imp}"
        for mod, imps in GRAPH.items()
        if within(mod, importers) and not any(within(mod, e) for e in exempt)
        for imp in imps
        if any(within(imp, f) for f in forbidden)
    )


def test_the_graph_sees_the_tree() -> None:
    # A rule over an empty graph would pass for nothing: the walk must find the known modules.
    assert "streams.runtime.worker" in GRAPH
    assert "streams.lab.backtest" in GRAPH
    assert "streams.cli.commands" in GRAPH["streams.cli"]


def test_nothing_imports_the_cli() -> None:
    assert offenders("", ("streams.cli",), exempt=("streams.cli",)) == []


@pytest.mark.parametrize("other", ["streams.lab", "streams.bench", "streams.sim", "streams.app"])
def test_runtime_imports_no_lab_bench_sim_or_app(other: str) -> None:
    assert offenders("streams.runtime", (other,)) == []


def test_pure_core_imports_no_kafka_http_or_streams() -> None:
    assert offenders("processors", (*KAFKA_OR_HTTP, "streams", "actuators")) == []


def test_schemas_import_only_the_registry_client() -> None:
    # The Confluent wire format goes through confluent-kafka's registry client (DESIGN.md §4);
    # nothing else of Kafka, and nothing of the packages built on the schemas.
    allowed = "confluent_kafka.schema_registry"
    found = [o for o in offenders("schemas", (*KAFKA_OR_HTTP, "streams", "actuators",
                                              "processors"))
             if not o.split(" imports ")[1].startswith(allowed)]
    assert found == []


def test_allocation_engine_imports_no_backend_kafka_or_streams() -> None:
    forbidden = ("actuators.backends", "streams", *KAFKA_OR_HTTP)
    assert offenders("actuators", forbidden, exempt=("actuators.backends",)) == []


@pytest.mark.parametrize("seam", ["streams.settings", "streams.topics", "streams.handler",
                                  "streams.telemetry", "streams.security"])
def test_seams_import_no_package_above_them(seam: str) -> None:
    above = tuple(f"streams.{p}" for p in ("runtime", "ingest", "ship", "sim", "lab", "bench",
                                            "app", "cli", "api"))
    assert offenders(seam, above) == []


def test_api_stands_on_the_seams_and_the_runtime() -> None:
    others = tuple(f"streams.{p}" for p in ("ingest", "ship", "sim", "lab", "bench", "app",
                                             "cli"))
    assert offenders("streams.api", others) == []


def test_lower_packages_import_no_evaluation_or_benchmarks() -> None:
    low = ("streams.ingest", "streams.ship", "streams.sim")
    found = [o for p in low for o in offenders(p, ("streams.lab", "streams.bench", "streams.app"))]
    assert found == []


def test_tests_take_no_fixtures_from_benchmarks() -> None:
    # Only the tests of the benchmarks themselves (test_bench*.py) import streams.bench.
    bad = sorted(
        f"{path.relative_to(ROOT)} imports {imp}"
        for path in (ROOT / "tests").rglob("test_*.py")
        if not path.name.startswith("test_bench")
        for imp in imports_of(path)
        if within(imp, "streams.bench")
    )
    assert bad == []
