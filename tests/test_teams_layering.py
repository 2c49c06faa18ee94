"""The Teams SDK stays inside bot/teams: the core and the other channels never import it."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEAMS_ONLY = ("microsoft_agents", "aiohttp")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_teams_package_imports_the_agents_sdk():
    outside = [
        f"{path.relative_to(ROOT)} imports {name}"
        for package in ("models", "handlers", "bot")
        for path in sorted((ROOT / package).rglob("*.py"))
        if "teams" not in path.relative_to(ROOT).parts
        for name in _imports(path) & set(TEAMS_ONLY)
    ]
    assert outside == []


def test_the_teams_package_never_imports_slack():
    found = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / "bot" / "teams").rglob("*.py"))
        for name in _imports(path)
        if name in ("slack_bolt", "slack_sdk")
    ] + [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "bot" / "teams").rglob("*.py"))
        if "bot.slack" in path.read_text(encoding="utf-8")
    ]
    assert found == []
