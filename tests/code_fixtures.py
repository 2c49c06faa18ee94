"""Helpers for tests that read the project's own source code."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def python_files(package: str) -> list[Path]:
    """Every .py file in a package, recursively."""
    return sorted((ROOT / package).rglob("*.py"))


def parse(path: Path) -> ast.Module:
    """A module's syntax tree."""
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def imported_modules(path: Path, root: Path = ROOT) -> set[str]:
    """Absolute names of everything a file imports, anywhere in it (relative ones resolved)."""
    package_parts = list(path.relative_to(root).with_suffix("").parts[:-1])
    names = set()
    for node in ast.walk(parse(path)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package_parts[: len(package_parts) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names
