"""SECURITY.md stays true: its personal-data examples, scopes and named tests match the code."""

import re
from pathlib import Path

import pytest

from handlers.personal_data import find_personal_data

ROOT = Path(__file__).resolve().parent.parent
SECURITY = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


def rules_table() -> list[tuple[str, list[str], list[str]]]:
    """(kind, refused examples, allowed examples) from the personal-data table."""
    section = SECURITY.split("## Personal data: the rules", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if len(cells) == 3 and cells[1].startswith("`"):
            rows.append((cells[0], re.findall(r"`([^`]+)`", cells[1]),
                         re.findall(r"`([^`]+)`", cells[2])))  # fmt: skip
    return rows


RULES = rules_table()


def test_the_readme_links_security_md():
    assert "[SECURITY.md](SECURITY.md)" in README


def test_the_rules_table_has_every_kind():
    kinds = " ".join(kind for kind, _, _ in RULES)
    for kind in ("phone number", "email address", "National Insurance", "date of birth",
                 "home address"):  # fmt: skip
        assert kind in kinds


@pytest.mark.parametrize("kind, refused, allowed", RULES, ids=[k[:30] for k, _, _ in RULES])
def test_the_documented_examples_are_what_the_guard_does(kind, refused, allowed):
    assert refused
    for example in refused:
        assert find_personal_data(example), f"SECURITY.md says {example!r} is refused"
    for example in allowed:
        assert find_personal_data(example) == [], f"SECURITY.md says {example!r} is allowed"


def test_every_scope_in_the_manifest_is_explained():
    manifest = (ROOT / "manifest.yml").read_text(encoding="utf-8")
    bot = manifest.split("    bot:\n", 1)[1].split("settings:", 1)[0]
    scopes = [line.split()[1] for line in bot.splitlines() if line.strip().startswith("- ")]
    assert scopes
    for scope in scopes:
        assert f"| `{scope}` |" in SECURITY, f"SECURITY.md does not say why {scope} is needed"


def test_every_test_file_it_names_exists():
    named = set(re.findall(r"`(test_\w+\.py)`", SECURITY))
    assert named
    missing = [name for name in named if not (ROOT / "tests" / name).exists()]
    assert missing == []
