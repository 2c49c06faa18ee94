"""Importing Annex B, exporting the register, round trips, bad files, and the CLI around them."""

import json
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from bot.cli.main import main
from bot.config import Settings
from bot.setup import ANNEX_B, PARTNERS, import_file
from handlers.errors import CommandError
from handlers.register.import_export import ANNEX_B_COLUMNS, export_csv, export_json, export_records
from models.boards import get_board
from models.db import make_engine
from models.migrate import upgrade
from models.tables import Action, ActionChange, CrimeArea, Partner
from tests.conftest import IMPORTED_AT, NOW, SECRETARIAT

HEADER = ",".join(ANNEX_B_COLUMNS)


@pytest.fixture
def imported(engine, settings):
    """The Annex B table imported once, with the standard partners list."""
    import_file(engine, settings, ANNEX_B, now=IMPORTED_AT, partners=PARTNERS)
    return engine


@pytest.fixture
def other_settings(tmp_path: Path) -> Settings:
    """Settings for a second, separate database file."""
    return Settings(database_url=f"sqlite:///{tmp_path / 'other.db'}")


@pytest.fixture
def empty_engine(other_settings: Settings):
    """A second migrated database with nothing in it."""
    engine = make_engine(other_settings.database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def records(engine, settings: Settings) -> list[dict]:
    """The register as export records."""
    with Session(engine) as session:
        board = get_board(session=session, slug=settings.board_slug)
        return export_records(session, board) if board else []


def by_ref(engine, settings: Settings) -> dict[str, dict]:
    """Export records keyed by reference."""
    return {r["ref"]: r for r in records(engine, settings)}


def count(engine, table) -> int:
    """Rows in a table."""
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(table)).one()


def write(tmp_path: Path, name: str, text: str) -> Path:
    """A file in the test's temporary folder."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- What Annex B becomes ---------------------------------------------------------------------


def test_annex_b_creates_exactly_eleven_actions(imported, settings):
    register = records(imported, settings)
    assert [r["ref"] for r in register] == [f"A-{n}" for n in range(1, 12)]
    assert count(imported, Action) == 11


def test_three_area_only_rows_add_areas_but_no_actions(imported, settings):
    areas_with_actions = {r["area"] for r in records(imported, settings)}
    with Session(imported) as session:
        names = {a.name for a in session.exec(select(CrimeArea))}
    for name in (
        "Vulnerable persons, including Child Sexual Exploitation",
        "Intellectual property",
        "Blackmail and kidnap",
    ):
        assert name in names
        assert name not in areas_with_actions


def test_orange_is_read_as_amber(imported, settings):
    rags = [r["rag"] for r in records(imported, settings)]
    assert rags.count("amber") == 9
    assert "orange" not in rags


def test_invite_home_office_is_blue(imported, settings):
    row = next(r for r in records(imported, settings) if r["issue"].startswith("Invite Home"))
    assert row["rag"] == "blue"
    assert row["ref"] == "A-4"


def test_identifying_city_residents_is_not_rated(imported, settings):
    row = next(r for r in records(imported, settings) if r["issue"].startswith("Identifying City"))
    assert row["rag"] == "none"


def test_blank_key_crime_area_continues_the_one_above(imported, settings):
    register = by_ref(imported, settings)
    assert register["A-3"]["issue"] == "Raising awareness"
    assert register["A-3"]["area"] == "Cyber attack"
    for ref in ("A-5", "A-6", "A-7", "A-8"):
        assert register[ref]["area"] == "Fraud and cyber enabled crime"


def test_lead_partners_resolved_by_alias(imported, settings):
    register = by_ref(imported, settings)
    assert register["A-1"]["leads"] == ["City of London Police"]
    assert register["A-2"]["leads"] == ["All partners"]
    assert register["A-4"]["leads"] == ["Chairman and Deputy Chairman"]
    assert register["A-7"]["issue"] == "Home visits"
    assert register["A-7"]["leads"] == [
        "Children and Communities",
        "City of London Police",
        "Community Safety Team",
        "London Fire Brigade",
    ]
    # Every lead came from the partners list: no stray partner was invented from an alias.
    assert count(imported, Partner) == len(PARTNERS.read_text().splitlines()) - 1


def test_modern_slavery_row_has_no_lead(imported, settings):
    row = next(r for r in records(imported, settings) if r["area"].startswith("Modern slavery"))
    assert row["leads"] == []


def test_importing_twice_changes_nothing(imported, settings):
    before = records(imported, settings)
    changes = count(imported, ActionChange)
    result, added = import_file(imported, settings, ANNEX_B, now=NOW, partners=PARTNERS)
    assert result.created == [] and result.updated == []
    assert len(result.unchanged) == 11
    assert added == []
    assert count(imported, Action) == 11
    assert count(imported, ActionChange) == changes
    assert records(imported, settings) == before


# --- Round trips into an empty database --------------------------------------------------------


def test_json_export_imports_into_an_empty_database_unchanged(
    imported, settings, empty_engine, other_settings, tmp_path
):
    original = records(imported, settings)
    path = write(tmp_path, "register.json", export_json(original))
    import_file(empty_engine, other_settings, path, now=NOW, partners=PARTNERS)
    assert records(empty_engine, other_settings) == original


def test_csv_export_imports_into_an_empty_database_unchanged(
    imported, settings, empty_engine, other_settings, tmp_path
):
    def without_timestamps(rows: list[dict]) -> list[dict]:
        return [{k: v for k, v in r.items() if k not in ("created_at", "updated_at")} for r in rows]

    original = records(imported, settings)
    path = write(tmp_path, "register.csv", export_csv(original))
    import_file(empty_engine, other_settings, path, now=NOW, partners=PARTNERS)
    assert without_timestamps(records(empty_engine, other_settings)) == without_timestamps(original)


def test_round_trip_keeps_strands_due_dates_and_confidential(
    console, settings, other_settings, tmp_path
):
    console.as_user(SECRETARIAT)
    assert not console.ask("action update A-1 strand=pursue,protect due=31/03/2027").error
    assert not console.ask(
        'action add area="Drugs" lead=CoLP title="Closed item" confidential=yes rag=red'
    ).error
    original = records(console.engine, settings)
    assert original[0]["strands"] == ["protect", "pursue"]
    assert original[-1]["confidential"] is True
    for name, text in (("r.json", export_json(original)), ("r.csv", export_csv(original))):
        target = make_engine(f"sqlite:///{tmp_path / (name + '.db')}")
        upgrade(target)
        import_file(target, other_settings, write(tmp_path, name, text), now=NOW, partners=PARTNERS)
        copied = records(target, other_settings)
        target.dispose()
        dropped = ("created_at", "updated_at") if name.endswith(".csv") else ()
        assert [{k: v for k, v in r.items() if k not in dropped} for r in copied] == [
            {k: v for k, v in r.items() if k not in dropped} for r in original
        ]


def test_csv_export_keeps_the_annex_b_column_names(imported, settings):
    text = export_csv(records(imported, settings))
    header = text.splitlines()[0].split(",")
    for column in ANNEX_B_COLUMNS:
        assert column in header
    assert header.index("Key crime area") < header.index("Issues") < header.index("Lead partner")


# --- Bad files ---------------------------------------------------------------------------------


def import_text(engine, settings, tmp_path, name: str, text: str):
    """Import the given file text; returns the result or raises CommandError."""
    return import_file(engine, settings, write(tmp_path, name, text), now=NOW, partners=PARTNERS)


def test_bad_rag_word_names_the_row(engine, settings, tmp_path):
    text = f"{HEADER}\nCyber attack,Fine row,CoLP,Do it,,,Red\nCyber attack,Bad,CoLP,x,,,Purple\n"
    with pytest.raises(CommandError) as err:
        import_text(engine, settings, tmp_path, "bad.csv", text)
    assert "Row 3" in err.value.message
    assert "Purple" in err.value.message


def test_row_without_key_crime_area_at_the_top_names_the_row(engine, settings, tmp_path):
    text = f"{HEADER}\n,Orphan issue,CoLP,Do it,,,Red\n"
    with pytest.raises(CommandError) as err:
        import_text(engine, settings, tmp_path, "bad.csv", text)
    assert "Row 2" in err.value.message
    assert "key crime area" in err.value.message


def test_field_longer_than_the_register_allows_names_the_row(engine, settings, tmp_path):
    text = f'{HEADER}\nCyber attack,"{"x" * 2001}",CoLP,Do it,,,Red\n'
    with pytest.raises(CommandError) as err:
        import_text(engine, settings, tmp_path, "long.csv", text)
    assert "Row 2" in err.value.message


def test_invalid_json_is_refused(engine, settings, tmp_path):
    with pytest.raises(CommandError) as err:
        import_text(engine, settings, tmp_path, "bad.json", '[{"area": "Cyber attack",')
    assert "not valid JSON" in err.value.message


def test_json_that_is_not_a_list_is_refused(engine, settings, tmp_path):
    with pytest.raises(CommandError) as err:
        import_text(engine, settings, tmp_path, "bad.json", '{"area": "Cyber attack"}')
    assert "list" in err.value.message


def test_bad_json_row_names_the_row(engine, settings, tmp_path):
    rows = [
        {"area": "Cyber attack", "issue": "ok", "rag": "red"},
        {"area": "Cyber attack", "issue": "bad", "rag": "mauve"},
    ]
    with pytest.raises(CommandError) as err:
        import_text(engine, settings, tmp_path, "bad.json", json.dumps(rows))
    assert "Row 3" in err.value.message


def test_failed_import_leaves_the_database_unchanged(imported, settings, tmp_path):
    before = records(imported, settings)
    changes, partners = count(imported, ActionChange), count(imported, Partner)
    areas = count(imported, CrimeArea)
    text = (
        f"{HEADER}\n"
        "A brand new area,New issue,A brand new partner,Do it,,,Red\n"  # would be created...
        "Serious and Organised Crime Profiles,Dashboard of Serious and Organised Crime using the "
        "4 Ps approach,CoLP,Partners to provide/share information,,,Green\n"  # ...and updated
        "Cyber attack,Broken,CoLP,x,,,Purple\n"  # but this row fails
    )
    with pytest.raises(CommandError):
        import_text(imported, settings, tmp_path, "bad.csv", text)
    assert records(imported, settings) == before
    assert count(imported, ActionChange) == changes
    assert count(imported, Partner) == partners
    assert count(imported, CrimeArea) == areas


def test_failed_first_import_leaves_no_board_behind(engine, settings, tmp_path):
    with pytest.raises(CommandError):
        import_text(engine, settings, tmp_path, "bad.csv", f"{HEADER}\n,No area,CoLP,x,,,Red\n")
    assert records(engine, settings) == []
    assert count(engine, Partner) == 0


# --- The command line --------------------------------------------------------------------------


@pytest.fixture
def cli_env(monkeypatch, database_url: str, engine):
    """The CLI pointed at the migrated temporary database."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    return engine


def test_cli_import_then_export_json(cli_env, settings, tmp_path, capsys):
    assert main(["import", str(ANNEX_B)]) == 0
    assert "11 created" in capsys.readouterr().out
    output = tmp_path / "out.json"
    assert main(["export", "--format", "json", "--output", str(output)]) == 0
    exported = json.loads(output.read_text(encoding="utf-8"))
    assert [r["ref"] for r in exported] == [f"A-{n}" for n in range(1, 12)]
    assert exported == records(cli_env, settings)


def test_cli_export_csv_to_stdout(cli_env, capsys):
    assert main(["import", str(ANNEX_B)]) == 0
    capsys.readouterr()
    assert main(["export"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("Ref," + HEADER.split(",")[0])
    assert len([line for line in out.splitlines() if line.startswith("A-")]) == 11


def test_cli_import_missing_file_is_a_message_not_a_traceback(cli_env, tmp_path, capsys):
    code = main(["import", str(tmp_path / "nowhere.csv")])
    err = capsys.readouterr().err
    assert code != 0
    assert "nowhere.csv" in err
    assert "Traceback" not in err


def test_cli_import_bad_file_reports_the_row(cli_env, tmp_path, capsys):
    path = write(tmp_path, "bad.csv", f"{HEADER}\nCyber attack,Bad,CoLP,x,,,Purple\n")
    assert main(["import", str(path)]) == 1
    err = capsys.readouterr().err
    assert "Row 2" in err
    assert count(cli_env, Action) == 0


def test_cli_on_unmigrated_database_says_to_upgrade(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'fresh.db'}")
    assert main(["run", "--as", "UCHAIR", "action", "status"]) == 2
    err = capsys.readouterr().err
    assert "soc-bot db upgrade" in err
    assert "Traceback" not in err


def test_control_characters_in_a_file_are_stored_as_spaces(engine, settings, tmp_path):
    rows = [
        {
            "area": "Cyber attack",
            "issue": "Null\u0000byte and\u001bescape",
            "leads": ["CoLP"],
            "action": "Line one\nLine two\tTabbed",
        }
    ]
    import_text(engine, settings, tmp_path, "control.json", json.dumps(rows))
    (record,) = records(engine, settings)
    assert record["issue"] == "Null byte and escape"
    assert record["action"] == "Line one\nLine two\tTabbed"  # line breaks and tabs are kept


def test_exports_imported_back_into_the_same_database_change_nothing(console, settings, tmp_path):
    console.as_user(SECRETARIAT)
    assert not console.ask("action update A-1 strand=pursue,protect due=31/03/2027").error
    assert not console.ask(
        'action add area="Drugs" lead="CoLP, TS" title="Closed" confidential=yes rag=red'
    ).error
    original = records(console.engine, settings)
    changes = count(console.engine, ActionChange)
    for name, text in (("r.json", export_json(original)), ("r.csv", export_csv(original))):
        result, _ = import_file(
            console.engine, settings, write(tmp_path, name, text), now=NOW, partners=PARTNERS
        )
        assert (result.created, result.updated) == ([], []), name
        assert len(result.unchanged) == 12
    assert count(console.engine, ActionChange) == changes
    assert records(console.engine, settings) == original
