"""``scheduling`` is the pure domain: apart from ``scheduling/jobs.py`` (the APScheduler adapter)
nothing in it may import discord, sqlalchemy, stripe or apscheduler."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

FORBIDDEN = frozenset({"discord", "sqlalchemy", "stripe", "apscheduler"})
PACKAGE = Path(__file__).resolve().parents[2] / "scheduling"
ALLOWED_ADAPTERS = frozenset({PACKAGE / "jobs.py"})
DOMAIN_FILES = sorted(p for p in PACKAGE.rglob("*.py") if p not in ALLOWED_ADAPTERS)


def imported_roots(path: Path) -> set[str]:
    """Top-level names of every module ``path`` imports, wherever the import statement is."""
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and getattr(node.func, "attr", getattr(node.func, "id", None))
            in {"import_module", "__import__"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            roots.add(node.args[0].value.split(".")[0])
    return roots


def test_the_package_has_domain_files() -> None:
    assert PACKAGE / "slots.py" in DOMAIN_FILES


@pytest.mark.parametrize("path", DOMAIN_FILES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_domain_module_imports_no_framework(path: Path) -> None:
    assert not imported_roots(path) & FORBIDDEN


def test_the_checker_sees_every_kind_of_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import discord.ext.commands\n"
        "from sqlalchemy import select\n"
        "def f():\n"
        "    import stripe\n"
        "    return importlib.import_module('apscheduler.schedulers')\n"
        "from . import sibling\n",
        encoding="utf-8",
    )
    assert imported_roots(sample) >= FORBIDDEN


def test_importing_the_slot_engine_loads_no_framework() -> None:
    """Catches indirect imports too, e.g. through a helper module."""
    code = (
        "import sys, scheduling.slots, scheduling.week_view\n"
        f"print(sorted(set({sorted(FORBIDDEN)!r}) & {{m.split('.')[0] for m in sys.modules}}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PACKAGE.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "[]"
