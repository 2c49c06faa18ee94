"""The README stays true: its command tables match the dispatcher and the CLI."""

import re
from pathlib import Path

from bot.cli.main import build_parser
from handlers.commands import COMMANDS
from handlers.context import CONSOLE
from handlers.help import topic_help

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _table_usages() -> list[str]:
    rows = re.findall(r"^\| `/soc (.+?)` \|", README, flags=re.MULTILINE)
    return [row.replace("\\|", "|") for row in rows]


def _table_who() -> dict[str, str]:
    rows = re.findall(r"^\| `/soc (.+?)` \| .+ \| ([^|]+) \|$", README, flags=re.MULTILINE)
    return {usage.replace("\\|", "|"): who for usage, who in rows}


def test_every_command_is_in_the_readme_table():
    documented = _table_usages()
    for command in COMMANDS:
        assert command.usage in documented, f"README lacks /soc {command.usage}"


def test_readme_table_has_no_command_the_dispatcher_lacks():
    usages = {c.usage for c in COMMANDS}
    stale = [u for u in _table_usages() if u not in usages]
    assert not stale, f"README documents commands that do not exist: {stale}"


def test_help_topics_list_the_same_commands_as_the_readme():
    topics = list(dict.fromkeys(c.words[0] for c in COMMANDS))
    replies = [topic_help(CONSOLE, topic, COMMANDS) for topic in topics]
    help_usages = [f.label for reply in replies for s in reply.sections for f in s.facts]
    assert help_usages == _table_usages()


def test_readme_says_who_may_use_each_command_as_the_table_does():
    who = _table_who()
    assert {c.usage: c.who.label for c in COMMANDS} == who


def test_every_cli_command_in_the_readme_exists():
    parser = build_parser()
    subcommands = set(parser._subparsers._group_actions[0].choices)
    documented = set(re.findall(r"^\| `soc-bot (\w+)", README, flags=re.MULTILINE))
    assert documented, "README has no CLI table"
    assert documented <= subcommands, documented - subcommands
    assert subcommands <= documented | {"worker"}, subcommands - documented


def test_quick_start_is_the_two_make_commands():
    quick_start = README.split("## Quick start", 1)[1].split("##", 1)[0]
    commands = re.findall(r"^make (\w+)", quick_start, flags=re.MULTILINE)
    assert commands == ["demo", "test"]
    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text()
    assert re.search(r"^demo:", makefile, re.MULTILINE) and re.search(r"^test:", makefile, re.M)
