"""The Boards one deployment hosts: a workspace installing its Board, all of them at a glance,
and one deleted with everything of it."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, func, or_
from sqlmodel import Session, SQLModel, select

from models.audit import install_append_only_guard, remove_append_only_guard
from models.boards import get_board, get_or_create_board, list_boards
from models.slack_store import slack_bots, slack_installations
from models.tables import Action, ActionChange, Board, Member
from models.workspaces import (
    SLACK,
    BoardWorkspace,
    bind,
    bindings_by_board,
    bindings_of,
    find_binding,
)


def install_board(
    *,
    session: Session,
    channel: str,
    workspace_id: str,
    slug: str,
    name: str,
    timezone: str,
    now: datetime,
    team_id: str = "",
    enterprise_id: str = "",
) -> tuple[Board, bool]:
    """The workspace's Board, found again through its binding (made by an earlier install or by
    the operator's `board bind`) or made, then bound and active; returns (board, created).
    Installing again never makes a second Board; after the operator released the workspace
    (`board unbind`), it gets a new one, never the released Board (which keeps `slug`)."""
    binding = find_binding(
        session=session, channel=channel, workspace_id=workspace_id, team_id=team_id
    )
    board = session.get(Board, binding.board_id) if binding else None
    created = board is None
    if board is None:
        board = get_or_create_board(
            session=session, slug=_free_slug(session, slug), name=name, now=now,
            timezone=timezone,
        )  # fmt: skip
    binding = bind(session=session, board=board, channel=channel, workspace_id=workspace_id,
                   now=now, team_id=team_id, enterprise_id=enterprise_id)  # fmt: skip
    # The install knows the workspace's organisation; an operator's `board bind` only guessed it.
    if binding.enterprise_id != enterprise_id:
        binding.enterprise_id = enterprise_id
        session.add(binding)
        session.flush()
    return board, created


def _free_slug(session: Session, slug: str) -> str:
    """`slug`, or `slug-2`, `slug-3`... if a Board (one released from its workspace) has it."""
    candidate, n = slug, 1
    while get_board(session=session, slug=candidate) is not None:
        n += 1
        candidate = f"{slug}-{n}"
    return candidate


@dataclass(frozen=True)
class BoardOverview:
    """One Board at a glance, for the operator."""

    board: Board
    bindings: list[BoardWorkspace]
    members: int
    actions: int
    last_activity: datetime | None


def board_overviews(*, session: Session) -> list[BoardOverview]:
    """Every Board with its bindings, member and action counts and last history entry."""

    def per_board(model: type[SQLModel], aggregate: Any) -> dict[int, Any]:
        query = select(model.board_id, aggregate).group_by(model.board_id)
        return dict(session.exec(query).all())

    members = per_board(Member, func.count(Member.id))
    actions = per_board(Action, func.count(Action.id))
    latest = per_board(ActionChange, func.max(ActionChange.at))
    bindings = bindings_by_board(session=session)
    boards = list_boards(session=session)
    return [
        BoardOverview(
            b,
            bindings.get(b.id, []),
            members.get(b.id, 0),
            actions.get(b.id, 0),
            _aware(latest.get(b.id)),
        )  # fmt: skip
        for b in boards
    ]


def board_rows(*, session: Session, board_id: int) -> dict[str, int]:
    """How many rows of each table belong to the Board (tables with none left out)."""
    counts = {}
    for table, condition in _owned_rows(session, board_id):
        count = session.exec(select(func.count()).select_from(table).where(condition)).one()
        if count:
            counts[table.name] = count
    return counts


def delete_board(*, session: Session, board_id: int) -> dict[str, int]:
    """Delete the Board and every row of it (history, ledgers, bindings, its workspaces' Slack
    tokens) in this transaction; rows deleted per table. Irreversible once committed."""
    connection = session.connection()
    # The one other place history rows are removed: the whole Board goes (see bot.backup).
    remove_append_only_guard(connection)
    counts = {}
    for table, condition in _owned_rows(session, board_id):
        deleted = connection.execute(table.delete().where(condition)).rowcount
        if deleted:
            counts[table.name] = deleted
    install_append_only_guard(connection)
    return counts


def _owned_rows(session: Session, board_id: int) -> list[tuple[Table, ColumnElement]]:
    """Each table's rows that belong to the Board, children before parents."""
    slack_workspaces = [b.workspace_id for b in bindings_of(session=session, board_id=board_id)
                        if b.channel == SLACK]  # fmt: skip
    # An organisation-wide install is bound by its enterprise id; its token rows have no team.
    found: list[tuple[Table, ColumnElement]] = [
        (table, or_(table.c.team_id.in_(slack_workspaces),
                    and_(table.c.team_id.is_(None), table.c.enterprise_id.in_(slack_workspaces))))
        for table in (slack_installations, slack_bots)
    ]  # fmt: skip
    for table in reversed(SQLModel.metadata.sorted_tables):
        if table.name == Board.__tablename__:
            found.append((table, table.c.id == board_id))
        elif "board_id" in table.c:
            found.append((table, table.c.board_id == board_id))
        else:
            # A child row (an action's lead partner) belongs to its parent's Board.
            for key in table.foreign_keys:
                parent = key.column.table
                if "board_id" in parent.c:
                    owned = select(parent.c.id).where(parent.c.board_id == board_id)
                    found.append((table, key.parent.in_(owned)))
                    break
    return found


def _aware(moment: datetime | None) -> datetime | None:
    # An aggregate skips the column type: SQLite returns text, PostgreSQL an aware datetime.
    if moment is None or isinstance(moment, datetime):
        return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(moment)).replace(tzinfo=UTC)
