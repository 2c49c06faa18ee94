"""The layering holds: models know nothing of handlers, handlers nothing of Slack or the clock."""

import ast
from pathlib import Path

import pytest

from tests.code_fixtures import ROOT, imported_modules, parse, python_files

PACKAGES = ("models", "handlers", "bot")
TRANSPORT = ("slack_bolt", "slack_sdk", "apscheduler", "flask")
FORBIDDEN = {
    "models": ("handlers", "bot", *TRANSPORT),
    "handlers": ("bot", *TRANSPORT),
}


def test_every_package_has_files():
    for package in PACKAGES:
        assert len(python_files(package)) >= 3, package


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_import_direction(package):
    bad = []
    for path in python_files(package):
        for name in imported_modules(path):
            top = name.split(".")[0]
            if top in FORBIDDEN[package]:
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert bad == []


def test_import_check_sees_relative_and_nested_imports(tmp_path):
    """The checker itself: a relative import and an import inside a function are both seen."""
    package = tmp_path / "handlers" / "sub"
    package.mkdir(parents=True)
    (package / "x.py").write_text(
        "from ...bot import app\nfrom . import y\n\ndef f():\n    import slack_sdk.web\n",
        encoding="utf-8",
    )
    names = imported_modules(package / "x.py", root=tmp_path)
    assert {"bot", "bot.app", "handlers.sub.y", "slack_sdk.web"} <= names


CLOCK_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "monotonic"),
}


def clock_reads(path: Path, root: Path = ROOT) -> list[str]:
    """Calls that read the wall clock: datetime.now(), date.today(), time.time() and kin."""
    found = []
    for node in ast.walk(parse(path)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            owner_name = (
                owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
            )
            if (owner_name, node.func.attr) in CLOCK_CALLS:
                found.append(
                    f"{path.relative_to(root)}:{node.lineno} {owner_name}.{node.func.attr}()"
                )
    return found


def test_handlers_never_read_the_clock():
    reads = [r for path in python_files("handlers") for r in clock_reads(path)]
    assert reads == [], "handlers take `now` from the context"


def test_clock_check_sees_every_spelling(tmp_path):
    """The checker itself."""
    source = tmp_path / "m.py"
    source.write_text(
        "import datetime, time\nfrom datetime import date\n"
        "a = datetime.datetime.now()\nb = date.today()\n"
        "def f():\n    return time.time()\n",
        encoding="utf-8",
    )
    assert len(clock_reads(source, root=tmp_path)) == 3
    calls = module_level_calls(ast.parse("x = App(token=1)\ndef f():\n    return App()\n"))
    assert [c.func.id for c in calls] == ["App"]


def test_handlers_never_read_the_clock_by_text_either():
    for path in python_files("handlers"):
        text = path.read_text(encoding="utf-8")
        for call in ("datetime.now(", "date.today(", "time.time("):
            assert call not in text, f"{path.relative_to(ROOT)} contains {call}"


def module_level_calls(tree: ast.Module) -> list[ast.Call]:
    """Calls made when the module is imported (not inside functions or classes)."""
    calls = []
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        if isinstance(node, ast.Call):
            calls.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return calls


def test_no_slack_app_is_built_at_import_time():
    for path in python_files("bot"):
        for call in module_level_calls(parse(path)):
            name = (
                call.func.attr
                if isinstance(call.func, ast.Attribute)
                else getattr(call.func, "id", "")
            )
            assert name != "App", f"{path.relative_to(ROOT)}:{call.lineno} builds App() on import"


def public_functions_without_docstrings(path: Path) -> list[str]:
    """Public module functions, and public methods of public classes, that lack a docstring."""
    missing = []
    tree = parse(path)

    def check(node: ast.AST, owner: str = "") -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                if not child.name.startswith("_") and ast.get_docstring(child) is None:
                    missing.append(f"{path.relative_to(ROOT)}:{child.lineno} {owner}{child.name}")
            elif isinstance(child, ast.ClassDef) and not child.name.startswith("_"):
                check(child, f"{child.name}.")

    check(tree)
    return missing


@pytest.mark.parametrize("package", PACKAGES)
def test_public_functions_have_docstrings(package):
    missing = [
        m for path in python_files(package) for m in public_functions_without_docstrings(path)
    ]
    assert missing == []


CHANNEL_WORD = "Slack"


def channel_words(path: Path, root: Path = ROOT) -> list[str]:
    """String literals (docstrings and f-string parts too) that name a channel: handler text."""
    return [
        f"{path.relative_to(root)}:{node.lineno} {node.value[:60]!r}"
        for node in ast.walk(parse(path))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and CHANNEL_WORD in node.value
    ]


def _is_surface(node: ast.AST) -> bool:
    """`surface`, `ctx.surface`, or the `.name` of either."""
    if isinstance(node, ast.Attribute) and node.attr == "name":
        node = node.value
    return (isinstance(node, ast.Name) and node.id == "surface") or (
        isinstance(node, ast.Attribute) and node.attr == "surface"
    )


def surface_comparisons(path: Path, root: Path = ROOT) -> list[str]:
    """Places that branch on which surface this is (`ctx.surface.name == ...`, `match`)."""
    found = []
    for node in ast.walk(parse(path)):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
        elif isinstance(node, ast.Match):
            operands = [node.subject]
        else:
            continue
        if any(_is_surface(operand) for operand in operands):
            found.append(f"{path.relative_to(root)}:{node.lineno}")
    return found


def test_handlers_never_name_a_channel():
    words = [w for path in python_files("handlers") for w in channel_words(path)]
    assert words == [], "handlers speak of a chat channel, the surface or its prefix instead"


def test_handlers_never_branch_on_the_surface():
    found = [c for path in python_files("handlers") for c in surface_comparisons(path)]
    assert found == [], "read what the surface can do (ctx.surface.forms, ...), not its name"


def test_channel_checks_see_every_spelling(tmp_path):
    """The checkers themselves: docstrings, f-strings, comparisons and match statements."""
    source = tmp_path / "m.py"
    source.write_text(
        'def f(ctx, surface):\n    """Opens a Slack modal."""\n'
        '    hint = f"Type it in Slack, {ctx.user_id}"\n'
        '    if ctx.surface.name == "slack" or "slack" == surface.name:\n        pass\n'
        "    if ctx.surface == SLACK or surface in CHANNELS:\n        pass\n"
        "    match ctx.surface.name:\n        case _:\n            pass\n"
        "    # Slack in a comment is fine; so are abilities:\n"
        "    return ctx.surface.forms and surface.prefix == hint\n",
        encoding="utf-8",
    )
    assert len(channel_words(source, root=tmp_path)) == 2
    lines = sorted(c.split(":")[1] for c in surface_comparisons(source, root=tmp_path))
    assert lines == ["4", "4", "6", "6", "8"]  # two comparisons on each `if`, the `match`
