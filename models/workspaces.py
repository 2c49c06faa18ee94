"""Which Board each chat workspace belongs to: a Slack workspace (team id) or a Teams team
(tenant id and team id) is bound to one Board; a Board may be bound on several channels.

A binding is never deleted when a workspace uninstalls the app: it is marked inactive, and so is
its Board once no active binding is left, so the Board's data stays until an operator exports or
deletes it, and installing again finds the same Board. An operator releasing a Slack workspace
(`soc-bot board unbind`) deletes its binding, so that installing there again cannot find it.
"""

from datetime import datetime

from sqlalchemy import Boolean, Column, String, UniqueConstraint, bindparam, true
from sqlalchemy.engine import Connection
from sqlmodel import Field, Session, SQLModel, select

from models.columns import UTCDateTime
from models.tables import Board

SLACK, TEAMS = "slack", "teams"


class BoardWorkspace(SQLModel, table=True):
    """A Board's binding to one chat workspace (Slack team, or Teams tenant and team)."""

    __table_args__ = (UniqueConstraint("channel", "workspace_id", "team_id"),)

    id: int | None = Field(default=None, primary_key=True)
    board_id: int = Field(foreign_key="board.id", index=True)
    # "slack" or "teams".
    channel: str = Field(max_length=16)
    # Slack team id (or the enterprise id of an organisation-wide install); Teams tenant id.
    workspace_id: str = Field(max_length=64)
    # The Teams team within the tenant; "" for Slack.
    team_id: str = Field(
        default="", sa_column=Column(String(64), nullable=False, server_default="")
    )
    # The Slack Enterprise Grid organisation, if any ("" otherwise).
    enterprise_id: str = Field(
        default="", sa_column=Column(String(64), nullable=False, server_default="")
    )
    active: bool = Field(
        default=True, sa_column=Column(Boolean, nullable=False, server_default=true())
    )
    installed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    deactivated_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )


def find_binding(
    *, session: Session, channel: str, workspace_id: str, team_id: str = ""
) -> BoardWorkspace | None:
    """The binding of this workspace (active or not), if any."""
    query = select(BoardWorkspace).where(
        BoardWorkspace.channel == channel,
        BoardWorkspace.workspace_id == workspace_id,
        BoardWorkspace.team_id == team_id,
    )
    return session.exec(query).first()


def bind(
    *,
    session: Session,
    board: Board,
    channel: str,
    workspace_id: str,
    now: datetime,
    team_id: str = "",
    enterprise_id: str = "",
    take_inactive: bool = False,
) -> BoardWorkspace:
    """Bind the workspace to `board` (re-activating an earlier binding) and make the Board active.

    Raises `WorkspaceTaken` if the workspace is bound to another Board; with `take_inactive`, a
    binding to another Board that is no longer active moves to this one instead.
    """
    binding = find_binding(
        session=session, channel=channel, workspace_id=workspace_id, team_id=team_id
    )
    if binding is not None and binding.board_id != board.id:
        if binding.active or not take_inactive:
            raise WorkspaceTaken(channel, workspace_id, binding.board_id)
        binding.board_id = board.id
    if binding is None:
        binding = BoardWorkspace(board_id=board.id, channel=channel, workspace_id=workspace_id,
                                 team_id=team_id, installed_at=now)  # fmt: skip
    elif not binding.active:
        binding.installed_at = now
    binding.active, binding.deactivated_at = True, None
    binding.enterprise_id = enterprise_id or binding.enterprise_id
    board.active = True
    session.add_all([binding, board])
    session.flush()
    return binding


def board_slug_for(
    *, connection: Connection, channel: str, workspace_id: str, team_id: str = ""
) -> str | None:
    """The slug of the active Board bound to this workspace; None if unknown or inactive."""
    values = {"channel": channel, "workspace_id": workspace_id, "team_id": team_id}
    return connection.execute(_BOARD_SLUG_FOR, values).scalar()


# Built once, and run without an ORM session: every request from a workspace not seen for a few
# seconds asks it, and the session and the statement's building cost more than the query.
_BOARD_SLUG_FOR = (
    select(Board.slug)
    .join(BoardWorkspace, BoardWorkspace.board_id == Board.id)
    .where(
        BoardWorkspace.channel == bindparam("channel"),
        BoardWorkspace.workspace_id == bindparam("workspace_id"),
        BoardWorkspace.team_id == bindparam("team_id"),
        BoardWorkspace.active,
        Board.active,
    )
    .limit(1)
)


def deactivate(
    *, session: Session, channel: str, workspace_id: str, now: datetime, team_id: str = ""
) -> Board | None:
    """Mark the workspace's binding inactive, and its Board once it has no active binding left;
    the Board (None if the workspace was not bound). Its data stays."""
    binding = find_binding(
        session=session, channel=channel, workspace_id=workspace_id, team_id=team_id
    )
    if binding is None:
        return None
    if binding.active:
        binding.active, binding.deactivated_at = False, now
        session.add(binding)
        session.flush()
    return _settle(session, binding.board_id)


def release(
    *, session: Session, channel: str, workspace_id: str, team_id: str = ""
) -> Board | None:
    """Delete the workspace's binding, active or not, so that nothing finds its Board through it
    again (not even installing the app there again); the Board (None if the workspace was not
    bound), inactive once it has no active binding left. Its data stays."""
    binding = find_binding(
        session=session, channel=channel, workspace_id=workspace_id, team_id=team_id
    )
    if binding is None:
        return None
    session.delete(binding)
    session.flush()
    return _settle(session, binding.board_id)


def _settle(session: Session, board_id: int) -> Board:
    """The Board, marked inactive if it has no active binding left."""
    board = session.get(Board, board_id)
    if not bindings_of(session=session, board_id=board.id, active_only=True):
        board.active = False
        session.add(board)
        session.flush()
    return board


def bindings_of(
    *, session: Session, board_id: int, active_only: bool = False
) -> list[BoardWorkspace]:
    """A Board's bindings, oldest first."""
    query = select(BoardWorkspace).where(BoardWorkspace.board_id == board_id)
    if active_only:
        query = query.where(BoardWorkspace.active)
    return list(session.exec(query.order_by(BoardWorkspace.id)))


def active_bindings_in(
    *, session: Session, channel: str, workspace_id: str
) -> list[tuple[BoardWorkspace, Board]]:
    """The active bindings (any team) of this workspace to active Boards, oldest first."""
    query = (
        select(BoardWorkspace, Board)
        .join(Board, BoardWorkspace.board_id == Board.id)
        .where(
            BoardWorkspace.channel == channel,
            BoardWorkspace.workspace_id == workspace_id,
            BoardWorkspace.active,
            Board.active,
        )
        .order_by(BoardWorkspace.id)
    )
    return [(binding, board) for binding, board in session.exec(query)]


def has_bindings(*, session: Session, channel: str) -> bool:
    """Whether any workspace of this channel was ever bound (active or not)."""
    query = select(BoardWorkspace.id).where(BoardWorkspace.channel == channel).limit(1)
    return session.exec(query).first() is not None


def bindings_by_board(*, session: Session) -> dict[int, list[BoardWorkspace]]:
    """Every binding of every Board, by Board id, oldest first."""
    query = select(BoardWorkspace).order_by(BoardWorkspace.board_id, BoardWorkspace.id)
    found: dict[int, list[BoardWorkspace]] = {}
    for binding in session.exec(query):
        found.setdefault(binding.board_id, []).append(binding)
    return found


class WorkspaceTaken(ValueError):
    """The workspace is already bound to another Board."""

    def __init__(self, channel: str, workspace_id: str, board_id: int) -> None:
        super().__init__(f"{channel} workspace {workspace_id} is bound to board {board_id}")
        self.channel, self.workspace_id, self.board_id = channel, workspace_id, board_id
