"""The house a newcomer walks: every package says what it is, the README's tree names it, and
tests share helpers through conftest or helper modules, never by importing another test module."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).parents[1]
PACKAGES = sorted(
    init.parent.relative_to(ROOT)
    for top in ("bot", "handlers", "models")
    for init in (ROOT / top).rglob("__init__.py")
)


def _development_tree() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Development", 1)[1]
    return section.split("```", 2)[1]


def test_every_package_has_a_docstring_saying_what_it_holds():
    missing = [
        str(package)
        for package in PACKAGES
        if not ast.get_docstring(ast.parse((ROOT / package / "__init__.py").read_text()))
    ]
    assert missing == []


def test_the_readme_tree_names_every_package():
    tree = _development_tree()
    named = set(re.findall(r"([a-z_]+)/", tree))
    missing = [str(package) for package in PACKAGES if package.name not in named]
    assert missing == []


def test_no_test_module_imports_another_test_module():
    offenders = []
    for path in sorted((ROOT / "tests").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                if name.split(".")[-1].startswith("test_"):
                    offenders.append(f"{path.name} imports {name}")
    assert offenders == []
