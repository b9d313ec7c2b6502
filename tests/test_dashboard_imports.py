"""The layers of the dashboard: each of its packages imports only what its docstring's "May import:"
line names, so the packages import one way (frame, then figures, then the pages' own packages).

Read from the source (ast), so an import inside a function counts too.
"""

import ast
import re
from pathlib import Path

import pytest

import dashboard

DASHBOARD = Path(dashboard.__file__).parent
PACKAGES = sorted(p.parent for p in DASHBOARD.glob("*/__init__.py"))


def may_import(package: Path) -> set[str]:
    doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text())) or ""
    line = re.search(r"^May import: (.*)$", doc, re.M)
    assert line, f"dashboard.{package.name}'s docstring has no 'May import:' line"
    return {name.strip(" .") for name in line.group(1).split(",")}


def top_names(source: Path) -> set[str]:
    """The packages ``source`` imports from, as ``core``, ``dashboard.frame``, ``pages``...: the first
    two parts of a dashboard module's name, the first of any other."""
    names = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules = [f"{node.module}.{a.name}" if node.module == "dashboard" else node.module for a in node.names]
        elif isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        else:
            continue
        for module in modules:
            parts = module.split(".")
            names.add(".".join(parts[:2]) if parts[0] == "dashboard" else parts[0])
    return names & ({"core", "pages", "serve", "tests", "benchmarks"} | {f"dashboard.{p.name}" for p in PACKAGES})


def test_the_packages_are_the_ones_the_layers_name():
    # The layers dashboard/__init__.py lists: frame, figures, the seven page packages, lesson mode, the step player.
    assert {p.name for p in PACKAGES} == {
        "frame",
        "figures",
        "dataset",
        "convolution",
        "architecture",
        "draw",
        "training",
        "classroom",
        "design",
        "lesson",
        "stepping",
    }


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_a_dashboard_package_imports_only_what_its_docstring_allows(package):
    allowed = may_import(package) | {f"dashboard.{package.name}"}
    wrong = sorted(
        f"{source.name} imports {name}"
        for source in package.rglob("*.py")
        for name in top_names(source)
        if name not in allowed
    )
    assert not wrong, f"dashboard.{package.name} may import {sorted(allowed)} only:\n" + "\n".join(wrong)


def test_the_allowed_imports_go_one_way():
    # Follow every "May import:" line from each package: none leads back to where it started.
    rules = {f"dashboard.{p.name}": may_import(p) for p in PACKAGES}

    def reachable(start: str) -> set[str]:
        seen, todo = set(), list(rules[start])
        while todo:
            name = todo.pop()
            if name in rules and name not in seen:
                seen.add(name)
                todo.extend(rules[name])
        return seen

    assert [name for name in rules if name in reachable(name)] == []
    assert rules["dashboard.frame"] == {"core"}  # the bottom layer: no other dashboard package
