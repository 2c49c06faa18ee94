"""`soc-bot teams package`: a manifest with the required fields, both icons, a command menu."""

import io
import json
import re
import zipfile

import pytest
from PIL import Image

from bot.cli.main import main
from bot.teams.package import PackageError, build_manifest
from handlers.commands import COMMANDS
from tests.teams_stub import APP_ID

# The manifest schema's required fields (v1.22), top level and nested.
REQUIRED = ("manifestVersion", "version", "id", "developer", "name", "description", "icons",
            "accentColor")  # fmt: skip
REQUIRED_NESTED = {
    "developer": ("name", "websiteUrl", "privacyUrl", "termsOfUseUrl"),
    "name": ("short",),
    "description": ("short", "full"),
    "icons": ("color", "outline"),
}


@pytest.fixture
def package(tmp_path, monkeypatch):
    """The zip `soc-bot teams package` writes, opened."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'soc.db'}")
    output = tmp_path / "soc-bot-teams.zip"
    assert main(["teams", "package", "--app-id", APP_ID, "--host", "soc.example.org",
                 "--output", str(output)]) == 0  # fmt: skip
    with zipfile.ZipFile(output) as opened:
        yield opened


def test_the_package_holds_the_manifest_and_both_icons(package):
    assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
    color = Image.open(io.BytesIO(package.read("color.png")))
    outline = Image.open(io.BytesIO(package.read("outline.png")))
    assert color.size == (192, 192) and outline.size == (32, 32)
    # The outline icon is white on transparent.
    raw = outline.convert("RGBA").tobytes()
    pixels = [tuple(raw[i : i + 4]) for i in range(0, len(raw), 4)]
    assert {p[:3] for p in pixels if p[3]} == {(255, 255, 255)}
    assert any(p[3] == 0 for p in pixels)


def test_the_manifest_has_every_required_field(package):
    manifest = json.loads(package.read("manifest.json"))
    for key in REQUIRED:
        assert manifest.get(key), key
    for key, nested in REQUIRED_NESTED.items():
        for inner in nested:
            assert manifest[key].get(inner), f"{key}.{inner}"
    major, minor = (int(n) for n in manifest["manifestVersion"].split("."))
    assert (major, minor) >= (1, 22)
    assert re.match(r"^\d+\.\d+\.\d+$", manifest["version"])
    assert re.match(r"^#[0-9A-Fa-f]{6}$", manifest["accentColor"])
    assert len(manifest["name"]["short"]) <= 30 and len(manifest["description"]["short"]) <= 80
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    [bot] = manifest["bots"]
    assert bot["botId"] == manifest["id"] == APP_ID
    assert manifest["validDomains"] == ["soc.example.org"]
    assert all(url.startswith("https://") for url in manifest["developer"].values()
               if url.startswith("http"))  # fmt: skip


def test_the_command_menu_covers_personal_and_team_scopes_with_real_commands(package):
    [bot] = json.loads(package.read("manifest.json"))["bots"]
    scopes = {scope for entry in bot["commandLists"] for scope in entry["scopes"]}
    assert {"personal", "team"} <= scopes
    names = {c.name for c in COMMANDS}
    for entry in bot["commandLists"]:
        assert 1 <= len(entry["commands"]) <= 10
        for command in entry["commands"]:
            assert len(command["title"]) <= 32 and len(command["description"]) <= 128
            words = command["title"].split()
            assert " ".join(words[:2]) in names or words[0] in names, command["title"]


@pytest.mark.parametrize(("app_id", "host"), [("not-a-guid", "soc.example.org"),
                                              (APP_ID, "https://"), (APP_ID, "a b")])  # fmt: skip
def test_bad_values_are_refused_with_a_message(app_id, host):
    with pytest.raises(PackageError):
        build_manifest(app_id, host)


def test_the_cli_refuses_a_bad_app_id_cleanly(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'soc.db'}")
    code = main(["teams", "package", "--app-id", "x", "--host", "soc.example.org",
                 "--output", str(tmp_path / "p.zip")])  # fmt: skip
    assert code == 2
    assert "GUID" in capsys.readouterr().err
    assert not (tmp_path / "p.zip").exists()
