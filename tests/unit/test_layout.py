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


def package_of(module: str) -> str:
    """The unit of the layout a module belongs to: ``streams.<package or seam>``, else its
    top-level package (``processors``, ``actuators``, ``schemas``)."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "streams" and len(parts) > 1 else parts[0]


def package_cycles() -> list[list[str]]:
    """The cycles of the package graph (every import, lazy ones too), each as its packages."""
    graph: dict[str, set[str]] = {}
    for mod, imps in GRAPH.items():
        for imp in imps:
            here, there = package_of(mod), package_of(imp)
            if here != there and there.split(".")[0] in PACKAGES and (
                    there in {package_of(m) for m in GRAPH}):
                graph.setdefault(here, set()).add(there)
    found: list[list[str]] = []
    for start in sorted(graph):  # a path back to itself, by depth-first search
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for nxt in sorted(graph.get(node, ())):
                if nxt == start:
                    found.append(path)
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*path, nxt]))
    return found


def test_the_packages_import_one_way() -> None:
    # No two packages import each other, through any chain (the cli -> embedded -> shipper ->
    # cli and backtest -> closed loop -> backtest cycles of #10 may not come back).
    assert len({package_of(m) for m in GRAPH}) > 15
    assert package_cycles() == []


# The layers of docs/architecture.md: a package imports only packages on lower layers (the
# seams also each other, one way: topics -> settings -> security).
LAYERS = {
    "schemas": 0, "processors": 1, "actuators": 1,
    "streams.security": 2, "streams.settings": 2, "streams.topics": 2, "streams.handler": 2,
    "streams.telemetry": 2, "streams.ingest": 2,
    "streams.runtime": 3, "streams.ship": 3, "streams.sim": 3,
    "streams.api": 4, "streams.lab": 4,
    "streams.app": 5, "streams.bench": 6, "streams.cli": 7,
}
SEAMS = ("streams.security", "streams.settings", "streams.topics", "streams.handler",
         "streams.telemetry")


def test_every_package_has_a_layer() -> None:
    assert {package_of(m) for m in GRAPH} - {"streams"} == set(LAYERS)


def test_imports_point_down_the_layers() -> None:
    up = sorted(
        f"{mod} imports {imp}"
        for mod, imps in GRAPH.items()
        for imp in imps
        if (here := package_of(mod)) in LAYERS and (there := package_of(imp)) in LAYERS
        and here != there and LAYERS[there] >= LAYERS[here]
        and not (here in SEAMS and there in SEAMS)
    )
    assert up == []


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


# -- size: no module over 400 lines, no function over 60 (issue #10) -------------------------

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
# No allow-list: the last modules and functions over these limits were split on 2026-12-04
# (#10). Something over them is split by meaning, not excused here.


def sizes() -> dict[str, int]:
    """Lines of every module of the packages, and of every function (``path:qualname``; a
    function's lines include the functions nested in it, from ``def`` to its last line)."""
    found: dict[str, int] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            text = path.read_text()
            found[rel] = len(text.splitlines())
            _function_sizes(ast.parse(text, rel), rel, "", found)
    return found


def _function_sizes(node: ast.AST, rel: str, prefix: str, found: dict[str, int]) -> None:
    for child in ast.iter_child_nodes(node):
        name = prefix
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            name = f"{prefix}.{child.name}" if prefix else child.name
            if not isinstance(child, ast.ClassDef):
                found[f"{rel}:{name}"] = (child.end_lineno or child.lineno) - child.lineno + 1
        _function_sizes(child, rel, name, found)


SIZES = sizes()


def test_sizes_see_the_tree() -> None:
    # A limit over an empty walk would pass for nothing: known modules and functions are seen.
    assert SIZES["actuators/engine.py"] > 100
    assert SIZES["streams/api/app.py:create_app"] > 10
    assert "actuators/grant.py:Grant.__call__" in SIZES


def test_no_module_over_400_lines_and_no_function_over_60() -> None:
    over = [f"{key}: {n} lines (limit {MAX_FUNCTION_LINES if ':' in key else MAX_MODULE_LINES})"
            for key, n in sorted(SIZES.items())
            if n > (MAX_FUNCTION_LINES if ":" in key else MAX_MODULE_LINES)]
    assert over == [], "split by meaning (docs/architecture.md):\n" + "\n".join(over)
