"""Many Boards for benchmarks: each its own Slack workspace, installed as bolt's OAuth flow would
install it, with its members, lead partners, actions and meeting schedule bulk-inserted.

Board n is workspace `team_of(n)`; its chair types `chair_of(n)`. Every Board has `members`
people: the installer (secretariat), the chair, and one contact for each of `members - 2`
partners, who share the Board's actions as leads. Meetings follow "second tuesday 10:00" in
Europe/London, so at `PASS_AT` (09:00) every contact of every Board is owed a reminder.
"""

import random
from dataclasses import replace
from datetime import timedelta

from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import insert, select, text
from sqlmodel import Session

from bench.register import insert_actions
from bench.reminder_bench import LONDON_RULE, NOW, PASS_AT
from bot.config import Settings
from bot.slack.install import install_workspace_board, installation_store
from handlers.meetings.commands import top_up_meetings
from handlers.meetings.rules import parse_meeting_rule
from models.boards import list_areas
from models.db import make_engine, session_scope
from models.meetings import add_meeting
from models.migrate import upgrade
from models.schedule import save_schedule
from models.tables import Action, Board, Identity, Member, Partner, Role
from models.workspaces import SLACK
from tests.slack_stub import BOT_USER, CLIENT_ID, CLIENT_SECRET

__all__ = ["PASS_AT", "add_actions", "build_boards", "chair_of", "install_settings", "team_of"]

LAST_MEETING = NOW - timedelta(days=28)


def team_of(board: int) -> str:
    """Board n's Slack workspace (team id)."""
    return f"T{board:05d}"


def chair_of(board: int) -> str:
    """The Slack user id of Board n's chair."""
    return f"UCHAIR{board:05d}"


def install_settings(database_url: str, api_url: str = "") -> Settings:
    """Settings for many workspaces installing the app (the Slack stand-in's client id)."""
    settings = Settings(database_url=database_url, slack_client_id=CLIENT_ID,
                        slack_client_secret=CLIENT_SECRET)  # fmt: skip
    return replace(settings, slack_api_url=api_url) if api_url else settings


def build_boards(database_url: str, boards: int, actions: int, members: int, seed: int = 5) -> None:
    """Migrate the database and add `boards` installed Boards of `actions` actions each."""
    engine = make_engine(database_url)
    upgrade(engine)
    settings = install_settings(database_url)
    store = installation_store(settings, engine)
    rng = random.Random(seed)
    try:
        for n in range(boards):
            installation = _installation(n)
            store.save(installation)
            with session_scope(engine) as session:
                board = install_workspace_board(session, settings, installation, NOW)
                partners = _add_people(session, board, n, members)
                areas = [a.id for a in list_areas(session=session, board_id=board.id)]
                insert_actions(session, board.id, 1, actions, areas, partners, LAST_MEETING, rng)
                _add_meetings(session, board)
        analyze(engine)
    finally:
        engine.dispose()


def analyze(engine) -> None:
    """Give PostgreSQL the statistics of the rows just loaded, as its autovacuum would within a
    minute or so of a bulk load: without them it plans for empty tables (nested loops over
    thousands of rows) and the measurements would be of that minute, not of a running service."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))


def add_actions(database_url: str, board_ids: list[int], actions: int, seed: int = 6) -> None:
    """Give each of these Boards `actions` more actions, led by its partners."""
    engine = make_engine(database_url)
    rng = random.Random(seed)
    try:
        with session_scope(engine) as session:
            for board_id in board_ids:
                partners = _partner_ids(session, board_id)
                areas = [a.id for a in list_areas(session=session, board_id=board_id)]
                first = 1 + max(_action_numbers(session, board_id), default=0)
                insert_actions(session, board_id, first, actions, areas, partners, LAST_MEETING,
                               rng)  # fmt: skip
        analyze(engine)
    finally:
        engine.dispose()


def _installation(n: int) -> Installation:
    team = team_of(n)
    return Installation(app_id="A0SOCBOT", team_id=team, team_name=f"Partnership Board {n}",
                        bot_token=f"xoxb-{team.lower()}-never-real", bot_id="BSOC",
                        bot_user_id=BOT_USER, bot_scopes="commands,chat:write",
                        user_id=f"UADMIN{n:05d}", installed_at=NOW.timestamp())  # fmt: skip


def _add_people(session: Session, board: Board, n: int, members: int) -> list[int]:
    """The chair and one contact per partner (the installer is already its secretariat)."""
    contacts = max(members - 2, 1)
    session.execute(insert(Partner), [
        {"board_id": board.id, "name": f"Partner {p:02d}", "aliases": "", "collective": False}
        for p in range(contacts)])  # fmt: skip
    partners = _partner_ids(session, board.id)
    people = [(chair_of(n), "Chair", Role.CHAIR, None)] + [
        (f"UP{n:05d}{p:03d}", f"Contact {p}", Role.MEMBER, partners[p]) for p in range(contacts)
    ]
    add_members = insert(Member).returning(Member.id, sort_by_parameter_order=True)
    member_ids = session.execute(add_members, [
        {"board_id": board.id, "display_name": name, "role": role.value, "partner_id": partner,
         "away": False, "channel": SLACK}
        for _, name, role, partner in people]).scalars().all()  # fmt: skip
    session.execute(insert(Identity), [
        {"board_id": board.id, "member_id": member_id, "channel": SLACK, "external_id": user_id,
         "tenant": team_of(n), "conversation": "", "created_at": NOW}
        for member_id, (user_id, *_) in zip(member_ids, people, strict=True)])  # fmt: skip
    return partners


def _add_meetings(session: Session, board: Board) -> None:
    add_meeting(session=session, board_id=board.id, starts_at=LAST_MEETING)
    rule = parse_meeting_rule(LONDON_RULE, today=NOW.date())
    save_schedule(session=session, board_id=board.id, now=NOW, rule=rule.rule,
                  meeting_time="10:00", anchor=NOW.date())  # fmt: skip
    # Up to the pass's own top-up, so the pass itself adds no meetings.
    top_up_meetings(session, board, NOW)
    top_up_meetings(session, board, PASS_AT)


def _partner_ids(session: Session, board_id: int) -> list[int]:
    query = select(Partner.id).where(Partner.board_id == board_id).order_by(Partner.name)
    return list(session.execute(query).scalars())


def _action_numbers(session: Session, board_id: int) -> list[int]:
    return list(session.execute(select(Action.number).where(Action.board_id == board_id)).scalars())
