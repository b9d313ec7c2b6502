"""The layers of core: each package imports only what its docstring's "May import:" line names.

Read from the source (ast), so a function-level import counts too. The foundation modules at core's
top (i18n, files, device) may import only each other; ``core.commands`` anything in core.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import core

CORE = Path(core.__file__).parent
FOUNDATION = {"core.i18n", "core.files", "core.device"}


def packages() -> list[Path]:
    return sorted(p.parent for p in CORE.rglob("__init__.py") if p.parent != CORE and "__pycache__" not in p.parts)


def dotted(path: Path) -> str:
    return ".".join(path.relative_to(CORE.parent).with_suffix("").parts)


def allowed(package: Path) -> set[str] | None:
    """The packages and modules a package's docstring allows; None for "every package of core"."""
    doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text())) or ""
    line = re.search(r"^May import: (.*)$", doc, re.M)
    assert line, f"{dotted(package)}'s docstring has no 'May import:' line"
    if line.group(1).startswith("every package of core"):
        return None
    return {name.strip(" .") for name in line.group(1).split(",")}


def imported(source: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "core":
            base = node.module
            names.update(f"{base}.{a.name}" if base == "core" else base for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.split(".")[0] == "core")
    return names


def within(name: str, owner: str) -> bool:
    return name == owner or name.startswith(owner + ".")


def test_every_package_of_core_says_what_it_may_import():
    found = [dotted(p) for p in packages()]
    assert {"core.data", "core.models", "core.training", "core.classroom"} <= set(found)
    for package in packages():
        allowed(package)


def violations(sources, me: str, rules: set[str]) -> list[str]:
    """Each import of ``sources`` (files of package ``me``) that is neither inside ``me`` nor allowed."""
    return sorted(
        f"{source.name} imports {name}"
        for source in sources
        for name in imported(source)
        if not (within(name, me) or any(within(name, rule) for rule in rules))
    )


@pytest.mark.parametrize("package", packages(), ids=dotted)
def test_a_package_imports_only_what_its_docstring_allows(package):
    rules = allowed(package)
    if rules is not None:
        wrong = violations(package.rglob("*.py"), dotted(package), rules)
        assert not wrong, f"{dotted(package)} may import {sorted(rules)} only:\n" + "\n".join(wrong)


def test_the_foundation_modules_import_only_each_other():
    wrong = [
        f"{module} imports {name}"
        for module in sorted(FOUNDATION)
        for name in imported(CORE / (module.split(".")[1] + ".py"))
        if not any(within(name, other) for other in FOUNDATION)
    ]
    assert not wrong, "\n".join(wrong)


def test_a_rule_that_is_broken_is_seen(tmp_path):
    """The check itself: core.models importing the classroom or training (later layers) is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("from core.classroom import store\nimport core.training.train\nfrom core.data import mnist\n")
    rules = allowed(CORE / "models")
    assert violations([bad], "core.models", rules) == [
        "bad.py imports core.classroom",
        "bad.py imports core.training.train",
    ]
