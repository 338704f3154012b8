"""tools/build_native.py's recovery from mypyc's incremental-cache failure (#14, s28): only the
cached IR of the modules built goes; mypy's cache of everything else stays."""

from __future__ import annotations

import importlib.util
import sqlite3
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _tool() -> ModuleType:
    path = ROOT / "tools" / "build_native.py"
    spec = importlib.util.spec_from_file_location("build_native", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _store(db: Path, names: list[str]) -> None:
    con = sqlite3.connect(db)
    with con:
        con.execute("CREATE TABLE files2 (path TEXT UNIQUE NOT NULL, mtime REAL, data BLOB)")
        con.executemany("INSERT INTO files2 VALUES (?, 0, x'00')", [(n,) for n in names])
    con.close()


def _left(db: Path) -> set[str]:
    con = sqlite3.connect(db)
    try:
        return {r[0] for r in con.execute("SELECT path FROM files2")}
    finally:
        con.close()


def test_forget_ir_drops_only_the_built_modules_ir(tmp_path: Path) -> None:
    ver = tmp_path / "3.11"
    ver.mkdir()
    kept = ["numpy/__init__.data.ff", "numpy/__init__.meta.ff", "processors/risk.meta.ff",
            "processors/risk.data.ff", "processors/__init__.ir.json"]
    _store(ver / "cache.0.db", ["processors/risk.ir.json", *kept[:2]])
    _store(ver / "cache.1.db", ["processors/batch/outlook.ir.json", *kept[2:]])
    (ver / "schemas").mkdir()  # mypy's file store, when the SQLite one is off
    (ver / "schemas" / "avrofast.ir.json").write_text("{}")
    paths = ["processors/risk.py", "processors/batch/outlook.py", "schemas/avrofast.py"]
    assert _tool().forget_ir(tmp_path, paths) == 3
    assert _left(ver / "cache.0.db") | _left(ver / "cache.1.db") == set(kept)
    assert not (ver / "schemas" / "avrofast.ir.json").exists()


def test_forget_ir_on_an_empty_cache(tmp_path: Path) -> None:
    assert _tool().forget_ir(tmp_path / "none", ["processors/risk.py"]) == 0
